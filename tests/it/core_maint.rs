//! `crm check` and `crm backup` through the binary.

use std::os::unix::fs::PermissionsExt;

use crate::harness::{Env, PW, skip_unless_sqlite, write};

#[test]
fn check_passes_on_a_healthy_database_and_fails_on_broken_foreign_keys() {
    if skip_unless_sqlite("SQLite checks (journal_mode), a foreign key broken through sqlite3") {
        return;
    }
    let env = Env::new();
    let c = env.add("customer", &["--name", "Acme"]);
    env.add("contact", &["--customer", &c.to_string(), "--name", "张三"]);
    let j = env.run(&["check", "--format", "json"]).ok().json();
    let names: Vec<&str> = j
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "integrity",
            "foreign_keys",
            "audit_chain",
            "audit_triggers",
            "search_index",
            "credit_code_unique",
            "journal_mode"
        ]
    );
    assert!(j.as_array().unwrap().iter().all(|r| r["ok"] == true));
    // break a reference behind crm's back (foreign keys are off in a plain sqlite3 session)
    let o = std::process::Command::new("sqlite3")
        .arg(&env.db)
        .arg("INSERT INTO contact (customer, name, is_primary, created_at, updated_at) VALUES (999, 'orphan', 0, 0, 0);")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = env.run(&["check"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("foreign_keys"), "{}", r.stderr);
    // viewer may not run it
    env.add_user("vic", "viewer");
    let t = env.token("vic");
    env.run_as(&t, &["check"]).code(7).one_error_line();
}

#[test]
fn backup_writes_a_checked_private_copy_and_never_a_partial_file() {
    let env = Env::new();
    for i in 0..25 {
        env.add("customer", &["--name", &format!("客户 {i}")]);
    }
    let t = env.token("admin");
    let file = env.path("backup.db");
    env.run(&["backup", file.to_str().unwrap()]).ok();
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let copy = rusqlite::Connection::open(&file).unwrap();
    let ok: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let n: i64 = copy
        .query_row("SELECT COUNT(*) FROM customer", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 25);
    drop(copy);
    // the backup is a crm database: it opens with crm, the admin logging in with their
    // password (from a server the backup sets it, as passwords cannot cross engines)
    let f = file.to_str().unwrap();
    env.run_stdin(
        &["--db", f, "login", "--user", "admin", "--password-stdin"],
        PW,
    )
    .ok();
    assert_eq!(
        env.run(&["--db", f, "find", "customer", "--count"])
            .ok()
            .stdout,
        "25\n"
    );
    // a copy of the SQLite file keeps its sessions too, so the session's token works there
    if !skip_unless_sqlite(
        "a server session is a login on the server (its token holds the login role): it does not carry into a backup file",
    ) {
        assert_eq!(
            env.run_as(&t, &["--db", f, "find", "customer", "--count"])
                .ok()
                .stdout,
            "25\n"
        );
    }
    // an existing file is not replaced without --force
    env.add("customer", &["--name", "later"]);
    env.run(&["backup", file.to_str().unwrap()])
        .code(5)
        .one_error_line();
    env.run(&["backup", file.to_str().unwrap(), "--force"]).ok();
    let n: i64 = rusqlite::Connection::open(&file)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM customer", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 26);
    assert_eq!(env.audits(&[("action", "backup")]), 2);
    // a failed backup leaves nothing behind
    let bad = env.path("no/such/dir/backup.db");
    env.run(&["backup", bad.to_str().unwrap()])
        .code(9)
        .one_error_line();
    assert!(!env.path("no").exists());
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // roles: admin only (a backup holds users and password hashes)
    env.add_user("max", "manager");
    env.add_user("bob", "sales");
    let max = env.token("max");
    let bob = env.token("bob");
    env.run_as(&max, &["backup", env.path("m.db").to_str().unwrap()])
        .code(7);
    env.run_as(&bob, &["backup", env.path("b.db").to_str().unwrap()])
        .code(7)
        .one_error_line();
    assert!(!env.path("b.db").exists());
}

#[test]
fn backup_to_a_full_disk_fails_with_9_and_leaves_no_file() {
    let env = Env::new();
    // ~1 MB of customers, four times the disk below: one import, not 200 processes.
    let big = "x".repeat(5000);
    let mut csv = String::from("name,notes\n");
    for i in 0..200 {
        csv.push_str(&format!("{i},{big}\n"));
    }
    write(&env.path("big.csv"), csv);
    env.run(&["import", "customer", "big.csv", "-q"]).ok();
    assert_eq!(env.count("customer"), 200);
    let dir = env.path("small");
    std::fs::create_dir_all(&dir).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&dir)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        println!("SKIPPED: full-disk backup test (cannot mount a tmpfs here)");
        return;
    }
    let file = dir.join("backup.db");
    let r = env.run(&["backup", file.to_str().unwrap()]);
    let listing: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(std::result::Result::ok)
        .map(|e| e.file_name())
        .collect();
    let _ = std::process::Command::new("umount").arg(&dir).status();
    r.code(9).one_error_line();
    assert!(
        r.stderr.contains("full") || r.stderr.contains("FULL"),
        "{}",
        r.stderr
    );
    assert!(listing.is_empty(), "nothing left: {listing:?}");
}

#[test]
fn backup_under_write_load_is_one_consistent_committed_state() {
    let env = Env::new();
    let token = env.token("admin");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (remote, stop) = (env.remote(&token), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 5 {
                    let o = remote
                        .command()
                        .args(["add", "customer", "--name", &format!("w{w} {n}"), "-q"])
                        .output()
                        .unwrap();
                    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut counts = Vec::new();
    for i in 0..3 {
        let file = env.path(&format!("b{i}.db"));
        env.run_as(&token, &["backup", file.to_str().unwrap()]).ok();
        let copy = rusqlite::Connection::open(&file).unwrap();
        let ok: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        // a committed state: every customer has its create audit rows, and no more
        let (c, a): (i64, i64) = copy
            .query_row(
                "SELECT (SELECT COUNT(*) FROM customer), (SELECT COUNT(*) FROM audit WHERE action='create' AND field='name')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(c, a);
        counts.push(c);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written: i64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(env.count("customer"), written);
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
}
