//! `crm restore FILE [--force]`: a good backup replaces the database (a sound one only with
//! `--force`), the replaced file kept beside it; a corrupt backup, a foreign `SQLite` file or a
//! text file is refused with the database untouched; an older backup is migrated; a damaged
//! or missing database is restored with the backup's own admin credentials.

use std::path::{Path, PathBuf};

use crate::harness::{Env, PW, engine_is_postgres, skip_unless_sqlite};

fn backup(env: &Env, name: &str) -> PathBuf {
    let p = env.path(name);
    env.run(&["backup", p.to_str().expect("utf-8")]).ok();
    p
}

fn arg(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Overwrites a page in the middle of a file with garbage.
fn damage(path: &Path) {
    use std::io::{Seek, SeekFrom, Write};
    let len = std::fs::metadata(path).expect("file").len();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    f.seek(SeekFrom::Start((len / 2) / 4096 * 4096))
        .expect("seek");
    f.write_all(&[0xa5; 4096]).expect("write");
}

#[test]
fn a_good_backup_replaces_the_database_a_sound_one_only_with_force() {
    if skip_unless_sqlite("restore replaces the SQLite file") {
        return;
    }
    let env = Env::new();
    env.add("customer", &["--name", "Before Co"]);
    let b = backup(&env, "b.db");
    env.add("customer", &["--name", "After Co"]);
    let r = env.run(&["restore", arg(&b)]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(env.count("customer"), 2);
    let out = env.run(&["restore", arg(&b), "--force", "--format", "json"]);
    let j = out.ok().json();
    assert_eq!(env.count("customer"), 1);
    let kept = PathBuf::from(j["replaced"].as_str().expect("the replaced file"));
    assert!(kept.exists(), "{kept:?}");
    assert_eq!(
        crate::harness::int_in(&kept, "SELECT COUNT(*) FROM customer"),
        2
    );
    env.run(&["check"]).ok();
    assert_eq!(env.audits(&[("action", "restore")]), 1);
    // Admin only.
    env.add_user("mia", "manager");
    let mia = env.token("mia");
    env.run_as(&mia, &["restore", arg(&b), "--force"]).code(7);
}

#[test]
fn a_corrupt_backup_is_refused_and_the_database_untouched() {
    if skip_unless_sqlite("restore replaces the SQLite file") {
        return;
    }
    let env = Env::new();
    // 300 customers by one import (300 adds took most of this test's time).
    let csv = env.customers_csv("c.csv", 300, "T");
    env.run(&["import", "customer", &csv, "-q"]).ok();
    let b = backup(&env, "b.db");
    damage(&b);
    let before = std::fs::read(&env.db).expect("db");
    let r = env.run(&["restore", arg(&b), "--force"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    assert_eq!(std::fs::read(&env.db).expect("db"), before);
    assert_eq!(env.count("customer"), 300);
    env.run(&["check"]).ok();
}

#[test]
fn a_foreign_sqlite_file_or_a_text_file_is_refused() {
    if skip_unless_sqlite("restore replaces the SQLite file") {
        return;
    }
    let env = Env::new();
    env.add("customer", &["--name", "Kept Co"]);
    let other = env.path("other.db");
    rusqlite::Connection::open(&other)
        .expect("open")
        .execute_batch("CREATE TABLE users (name); INSERT INTO users VALUES ('x');")
        .expect("foreign file");
    let r = env.run(&["restore", arg(&other), "--force"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("not a crm database"), "{}", r.stderr);
    let text = env.path("notes.txt");
    std::fs::write(&text, "hello\n").expect("write");
    env.run(&["restore", arg(&text), "--force"]).code(9);
    env.run(&["restore", arg(&env.path("absent.db")), "--force"])
        .code(3);
    assert_eq!(env.count("customer"), 1);
}

#[test]
fn an_older_backup_is_migrated() {
    if skip_unless_sqlite("old versions are built as SQLite files") {
        return;
    }
    let env = Env::new();
    let latest = crm::db::migrate::latest();
    crate::schema_drift::database_at_version(&env, latest - 1);
    let old = env.path("old.db");
    std::fs::copy(&env.db, &old).expect("copy the old file");
    env.add("customer", &["--name", "Newer Co"]); // opening migrates the live one
    let j = env
        .run(&["restore", arg(&old), "--force", "--format", "json"])
        .ok()
        .json();
    assert_eq!(j["schema_from"], latest - 1);
    assert_eq!(j["schema_to"], latest);
    assert_eq!(env.sql_int("PRAGMA user_version"), latest);
    assert_eq!(env.count_where("customer", &["name=old customer"]), 1);
    assert_eq!(env.count_where("customer", &["name=Newer Co"]), 0);
    env.run(&["check"]).ok();
}

#[test]
fn backup_damage_restore_check_round_trip() {
    if skip_unless_sqlite("restore replaces the SQLite file") {
        return;
    }
    let env = Env::new();
    let csv = env.customers_csv("c.csv", 300, "R");
    env.run(&["import", "customer", &csv, "-q"]).ok();
    let b = backup(&env, "b.db");
    env.run(&["check"]).ok();
    damage(&env.db);
    env.run(&["check"]).code(9);
    // A damaged database is replaced without --force.
    env.run(&["restore", arg(&b)]).ok();
    env.run(&["check"]).ok();
    assert_eq!(env.count("customer"), 300);
}

#[test]
fn a_missing_database_is_restored_by_an_admin_of_the_backup() {
    if skip_unless_sqlite("restore replaces the SQLite file") {
        return;
    }
    let env = Env::new();
    env.add_user("sal", "sales");
    env.add("customer", &["--name", "Saved Co"]);
    let b = backup(&env, "b.db");
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", env.db.display()));
    }
    env.run(&["restore", arg(&b)]).code(2); // no --user and no prompt
    env.run_stdin(
        &["restore", arg(&b), "--user", "admin", "--password-stdin"],
        "wrong pw",
    )
    .code(6);
    env.run_stdin(
        &["restore", arg(&b), "--user", "sal", "--password-stdin"],
        PW,
    )
    .code(7);
    assert!(!env.db.exists());
    env.run_stdin(
        &["restore", arg(&b), "--user", "admin", "--password-stdin"],
        PW,
    )
    .ok();
    assert_eq!(env.count("customer"), 1);
    env.run(&["check"]).ok();
}

#[test]
fn restore_does_not_apply_to_a_server() {
    if !engine_is_postgres() {
        println!("SKIPPED (postgres only): the PostgreSQL refusal");
        return;
    }
    let env = Env::new();
    let r = env.run(&["restore", "/nonexistent/b.db"]);
    r.code(2).one_error_line();
    assert!(r.stderr.contains("SQLite file"), "{}", r.stderr);
}
