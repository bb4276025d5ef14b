//! Reliability through the binary: concurrent writers lose nothing, a held lock is exit 8 with
//! nothing written, damaged or foreign files are exit 9 in one line and left untouched, the
//! audit log refuses tampering, old databases upgrade, a read-only mount refuses writes.

use std::os::unix::fs::PermissionsExt;

use crate::harness::{Env, skip_unless_sqlite};

#[test]
fn eight_processes_times_fifty_adds_lose_nothing() {
    let env = Env::new();
    let token = env.token("admin");
    let threads: Vec<_> = (0..8)
        .map(|p| {
            let mut base = std::process::Command::new(Env::bin());
            base.env_clear()
                .env("HOME", env.dir.path())
                .env("XDG_STATE_HOME", env.path("state"))
                .env("CRM_DB", &env.db)
                .env("CRM_TOKEN", &token);
            let db = env.db.clone();
            let home = env.dir.path().to_path_buf();
            let token = token.clone();
            std::thread::spawn(move || {
                let _ = base;
                (0..50)
                    .map(|i| {
                        let o = std::process::Command::new(Env::bin())
                            .env_clear()
                            .env("HOME", &home)
                            .env("XDG_STATE_HOME", home.join("state"))
                            .env("CRM_DB", &db)
                            .env("CRM_TOKEN", &token)
                            .args(["add", "customer", "--name", &format!("p{p} n{i}"), "-q"])
                            .output()
                            .unwrap();
                        assert_eq!(
                            o.status.code(),
                            Some(0),
                            "{}",
                            String::from_utf8_lossy(&o.stderr)
                        );
                        String::from_utf8(o.stdout)
                            .unwrap()
                            .trim()
                            .parse::<i64>()
                            .unwrap()
                    })
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let mut ids: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 400, "400 distinct ids acknowledged");
    assert_eq!(env.count("customer"), 400);
    assert_eq!(env.distinct("customer", "code"), 400);
    assert_eq!(env.distinct("customer", "name"), 400);
    assert_eq!(
        env.audits(&[
            ("action", "create"),
            ("entity", "customer"),
            ("field", "name")
        ]),
        400
    );
    let check = env.run(&["check", "--format", "json"]).ok().json();
    assert!(
        check.as_array().unwrap().iter().all(|c| c["ok"] == true),
        "{check}"
    );
}

#[test]
fn a_lock_held_past_the_busy_timeout_is_exit_8_and_nothing_written() {
    if skip_unless_sqlite("holds the SQLite file's write lock from a second connection") {
        return;
    }
    let env = Env::new();
    env.add("customer", &["--name", "before"]);
    let holder = env.sql();
    holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES ('tmp','viewer','x',0,0);").unwrap();
    let audit_before = env.audit_total();
    let t = std::time::Instant::now();
    let r = env.run(&[
        "add",
        "customer",
        "--name",
        "blocked",
        "--busy-timeout",
        "1",
    ]);
    let took = t.elapsed();
    r.code(8).one_error_line();
    assert!(
        r.stderr.contains("locked") && r.stderr.contains("retry"),
        "{}",
        r.stderr
    );
    assert!(
        took.as_secs_f64() >= 0.9 && took.as_secs_f64() < 4.0,
        "waited about 1 s: {took:?}"
    );
    // readers are not blocked by the writer (WAL)
    assert_eq!(
        env.run(&["find", "customer", "--count", "--busy-timeout", "1"])
            .ok()
            .stdout,
        "1\n"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(env.count_where("customer", &["name=blocked"]), 0);
    assert_eq!(env.audit_total(), audit_before);
    env.run(&[
        "add",
        "customer",
        "--name",
        "blocked",
        "--busy-timeout",
        "1",
    ])
    .ok();
}

fn sha(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn damaged_foreign_and_missing_files_are_exit_9_in_one_line_and_untouched() {
    if skip_unless_sqlite(
        "damaged and foreign SQLite files, cut from a checkpointed copy of the file",
    ) {
        return;
    }
    let env = Env::new();
    let token = env.token("admin");
    for i in 0..30 {
        env.add("customer", &["--name", &format!("c{i}")]);
    }
    let mut random = vec![0u8; 20_000];
    let mut x: u32 = 12345;
    for b in &mut random {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = x.to_be_bytes()[1];
    }
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("random.db", random),
        ("text.db", b"name,phone\nAcme,123\n".to_vec()),
        ("empty.db", Vec::new()),
    ];
    for (name, bytes) in &files {
        std::fs::write(env.path(name), bytes).unwrap();
    }
    let foreign = env.path("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    env.sql()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let whole = std::fs::read(&env.db).unwrap();
    std::fs::write(env.path("truncated.db"), &whole[..whole.len() / 3]).unwrap();
    let mut names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    names.extend([
        "foreign.db",
        "truncated.db",
        "missing.db",
        "nodir/missing.db",
    ]);
    for name in names {
        let p = env.path(name);
        let before = p.exists().then(|| sha(&p));
        for args in [
            vec!["find", "customer"],
            vec!["add", "customer", "--name", "x"],
            vec!["whoami"],
        ] {
            let mut a = vec!["--db", p.to_str().unwrap()];
            a.extend(args);
            let r = env.run_as(&token, &a);
            r.code(9).one_error_line();
            assert!(
                r.stderr.contains(name.rsplit('/').next().unwrap()),
                "names the file: {}",
                r.stderr
            );
            assert!(!r.stderr.contains("panicked"));
        }
        assert_eq!(p.exists().then(|| sha(&p)), before, "{name} left untouched");
    }
}

#[test]
fn a_flipped_page_is_found_by_check_and_reads_of_it_fail_with_9() {
    if skip_unless_sqlite("corrupts a b-tree page of the SQLite file") {
        return;
    }
    let env = Env::new();
    for i in 0..20 {
        env.add("customer", &["--name", &format!("customer {i}")]);
    }
    let conn = env.sql();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let (root, page_size): (i64, i64) = (
        conn.query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name='customer'",
            [],
            |r| r.get(0),
        )
        .unwrap(),
        conn.query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap(),
    );
    drop(conn);
    let mut bytes = std::fs::read(&env.db).unwrap();
    let at = usize::try_from((root - 1) * page_size).unwrap();
    for b in &mut bytes[at + 1..at + 8] {
        *b = 0xFF; // the b-tree page header: free block, cell count, content area
    }
    std::fs::write(&env.db, &bytes).unwrap();
    let r = env.run(&["check"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("integrity"), "{}", r.stderr);
    for format in ["json", "csv", "table"] {
        let r = env.run(&["find", "customer", "--format", format]);
        r.code(9).one_error_line();
        assert!(
            r.stdout.is_empty(),
            "no half document on stdout: {}",
            r.stdout
        );
    }
    let r = env.run(&["find", "customer"]);
    r.code(9).one_error_line();
    assert!(
        r.stderr.contains("corrupt") || r.stderr.contains("malformed"),
        "{}",
        r.stderr
    );
}

#[test]
fn audit_log_refuses_tampering_and_verify_reports_a_broken_chain() {
    if skip_unless_sqlite("tampers with the audit table through sqlite3 (PostgreSQL: pg_audit)") {
        return;
    }
    let env = Env::new();
    let id = env.add("customer", &["--name", "Acme"]).to_string();
    env.run(&["edit", "customer", &id, "--name", "Acme 2"]).ok();
    env.run(&["audit", "--verify"]).ok();
    let n = env.audit_total();
    for sql in [
        "UPDATE audit SET new='forged' WHERE id=2",
        "DELETE FROM audit WHERE id=2",
        "DELETE FROM audit",
    ] {
        let o = std::process::Command::new("sqlite3")
            .arg(&env.db)
            .arg(sql)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{sql} refused");
        assert!(String::from_utf8_lossy(&o.stderr).contains("append-only"));
    }
    assert_eq!(env.audit_total(), n);
    let o = std::process::Command::new("sqlite3")
        .arg(&env.db)
        .arg("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; UPDATE audit SET new='forged' WHERE id=3;")
        .output()
        .unwrap();
    assert!(o.status.success());
    let r = env.run(&["audit", "--verify"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("row 3"), "{}", r.stderr);
    let r = env.run(&["check"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("audit_chain"), "{}", r.stderr);
    // a deleted middle row breaks the chain as well
    let env2 = Env::new();
    env2.add("customer", &["--name", "x"]);
    std::process::Command::new("sqlite3")
        .arg(&env2.db)
        .arg("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id=2;")
        .output()
        .unwrap();
    env2.run(&["audit", "--verify"]).code(9).one_error_line();
}

#[test]
fn a_version_1_database_upgrades_when_opened() {
    if skip_unless_sqlite("builds a version-1 SQLite file and reads its schema") {
        return;
    }
    let env = Env::new();
    let latest = env.sql_int("PRAGMA user_version");
    let tables = |env: &Env| -> Vec<String> {
        env.sql()
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<Vec<String>, _>>()
            .unwrap()
    };
    let all = tables(&env);
    // a file as the build that shipped v1 wrote it: the frozen step, not today's schema
    crate::schema_drift::database_at_version(&env, 1);
    assert_eq!(env.sql_int("PRAGMA user_version"), 1);
    let v1 = tables(&env);
    let later: Vec<&String> = all.iter().filter(|t| !v1.contains(t)).collect();
    assert!(!later.is_empty(), "later migrations created tables");
    env.run(&["find", "customer", "--count"]).ok();
    assert_eq!(env.sql_int("PRAGMA user_version"), latest);
    for t in &later {
        assert_eq!(
            env.sql_int(&format!(
                "SELECT COUNT(*) FROM sqlite_schema WHERE name='{t}'"
            )),
            1,
            "{t} created"
        );
    }
    assert_eq!(
        env.sql_int("SELECT COUNT(*) FROM customer WHERE name='old customer'"),
        1
    );
    // a database from a newer crm is refused, not damaged
    env.sql()
        .execute_batch(&format!("PRAGMA user_version = {}", latest + 1))
        .unwrap();
    let r = env.run(&["find", "customer"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("newer"));
}

#[test]
fn database_is_wal_plain_sqlite_and_private() {
    if skip_unless_sqlite("the file's journal mode and plain sqlite3 readability") {
        return;
    }
    let env = Env::new();
    env.add("customer", &["--name", "x"]);
    assert_eq!(
        std::fs::metadata(&env.db).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mode: String = env
        .sql()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let o = std::process::Command::new("sqlite3")
        .arg(&env.db)
        .arg("SELECT name FROM customer")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "x\n");
}

/// A tmpfs mounted for the test and unmounted at the end, or None where mounting is not allowed.
pub(crate) struct Mount(pub(crate) std::path::PathBuf);

impl Mount {
    pub(crate) fn new(dir: std::path::PathBuf, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(&dir).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Mount(dir))
    }
    pub(crate) fn remount_ro(&self) -> bool {
        std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn read_only_mount_reads_work_and_writes_are_exit_9_read_only() {
    if skip_unless_sqlite("copies the SQLite file onto a read-only mount") {
        return;
    }
    let env = Env::new();
    let id = env.add("customer", &["--name", "on disk"]).to_string();
    let token = env.token("admin");
    env.sql()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let Some(m) = Mount::new(env.path("ro"), "4m") else {
        println!("SKIPPED: read-only database test (cannot mount a tmpfs here)");
        return;
    };
    let db = m.0.join("crm.db");
    std::fs::copy(&env.db, &db).unwrap();
    assert!(m.remount_ro(), "remount read-only");
    let dbs = db.to_str().unwrap();
    let shown = env
        .run_as(
            &token,
            &["--db", dbs, "show", "customer", &id, "--format", "json"],
        )
        .ok()
        .json();
    assert_eq!(shown["name"], "on disk");
    env.run_as(&token, &["--db", dbs, "find", "customer", "--count"])
        .ok();
    for args in [
        vec!["add", "customer", "--name", "x"],
        vec!["edit", "customer", &id, "--name", "y"],
        vec!["delete", "customer", &id, "--yes"],
    ] {
        let mut a = vec!["--db", dbs];
        a.extend(args);
        let r = env.run_as(&token, &a);
        r.code(9).one_error_line();
        assert!(r.stderr.contains("read-only"), "{}", r.stderr);
    }
}
