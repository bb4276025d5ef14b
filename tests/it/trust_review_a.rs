//! Issue 8, reviewed from outside: scenarios an attacker or a new user tries beyond the ones
//! each item named (the database reached through a symlink, stdin redirected from a file,
//! other roles, other writers).

use crate::harness::{Env, engine_is_postgres, skip_unless_sqlite};

/// `SQLite` keeps the `-wal`/`-shm` beside the file a symlink points to: opened through the
/// link, those real companions are still never written.
#[test]
fn the_real_wal_and_shm_of_a_database_opened_through_a_symlink_are_never_written() {
    if skip_unless_sqlite("opens the SQLite file through a symlink and watches its -wal/-shm") {
        return;
    }
    let env = Env::new();
    let link = env.path("link.db");
    std::os::unix::fs::symlink(&env.db, &link).expect("symlink");
    let link = link.to_str().expect("utf-8");
    for suffix in ["-wal", "-shm"] {
        let target = format!("{}{suffix}", env.db.display());
        let r = env.run_env(
            &["export", "customer", "-o", &target, "--force"],
            &[("CRM_DB", link)],
        );
        r.code(5).one_error_line();
        assert!(r.stderr.contains("open database"), "{}", r.stderr);
    }
    env.run(&["check"]).ok();
}

/// `import customer - < in.csv` reads in.csv through stdin: it is still the file being read,
/// whether the rejects target names it directly or as `/dev/stdin`.
#[test]
fn a_file_redirected_into_stdin_is_never_the_rejects_target() {
    let env = Env::new();
    let input = env.path("in.csv");
    let text = "name,city\n好公司,深圳\n,坏行\n";
    for target in [input.to_str().expect("utf-8"), "/dev/stdin"] {
        std::fs::write(&input, text).expect("input");
        let out = env
            .hermetic(Env::bin())
            .args([
                "import",
                "customer",
                "-",
                "--on-error",
                "skip",
                "--rejects",
                target,
                "--force",
            ])
            .stdin(std::fs::File::open(&input).expect("open input"))
            .output()
            .expect("run crm");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{stderr}");
        let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
        assert_eq!(errors, 1, "{stderr}");
        assert!(stderr.contains("the file being read"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&input).expect("read"), text);
    }
    let count = env.run(&["find", "customer", "--count"]);
    assert_eq!(count.ok().stdout.trim(), "0");
}

/// Full-width and mathematical letters are look-alikes of the plain name they fold to.
#[test]
fn compatibility_forms_of_a_user_name_are_the_same_name() {
    let env = Env::new();
    for name in ["ａｄｍｉｎ", "𝐚𝐝𝐦𝐢𝐧", "ＡＤＭＩＮ"] {
        let r = env.run_stdin(
            &["user", "add", name, "--role", "viewer", "--password-stdin"],
            crate::harness::PW,
        );
        r.code(5).one_error_line();
        assert!(r.stderr.contains("'admin'"), "{}", r.stderr);
    }
    let users = env.run(&["user", "list", "--format", "json"]).ok().json();
    assert_eq!(users.as_array().expect("list").len(), 1, "{users}");
}

/// `demo --path` names a file it may replace: anything but a regular file is refused before
/// it is opened (opening a FIFO to see whether it is a demo database used to hang).
#[test]
fn demo_refuses_a_path_that_is_not_a_regular_file() {
    let env = Env::empty();
    let fifo = env.path("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // `timeout` only keeps a regression from hanging the suite.
    let out = env
        .hermetic("timeout")
        .arg("20")
        .arg(Env::bin())
        .args(["demo", "--path", fifo.to_str().expect("utf-8")])
        .output()
        .expect("run crm");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    let dir = env.path("dir");
    std::fs::create_dir(&dir).expect("dir");
    let r = env.run(&["demo", "--path", dir.to_str().expect("utf-8")]);
    r.code(5).one_error_line();
    assert!(dir.is_dir());
}

/// `init` finishes only its own half-made file: another program's `SQLite` database (even one
/// with an empty `users` table) and a FIFO are refused with 5, byte for byte unchanged.
#[test]
fn init_never_touches_a_file_that_is_not_its_own() {
    if skip_unless_sqlite("another program's SQLite file at the database path") {
        return;
    }
    let env = Env::empty();
    {
        let c = rusqlite::Connection::open(&env.db).expect("foreign db");
        c.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE important (y); INSERT INTO important VALUES (42);",
        )
        .expect("foreign schema");
    }
    let before = std::fs::read(&env.db).expect("read");
    let r = env.run_stdin(&["init", "--password-stdin"], crate::harness::PW);
    r.code(5).one_error_line();
    assert_eq!(
        std::fs::read(&env.db).expect("read"),
        before,
        "the file changed"
    );

    let fifo = env.path("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.expect("mkfifo").success());
    // `timeout` only keeps a regression from hanging the suite.
    let out = env
        .hermetic("timeout")
        .arg("20")
        .arg(Env::bin())
        .args([
            "--db",
            fifo.to_str().expect("utf-8"),
            "init",
            "--password-stdin",
        ])
        .output()
        .expect("run crm");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

/// `--db` naming a directory or a device is not a database: exit 9 saying so, not a hint
/// that blames a read-only directory.
#[test]
fn a_db_path_that_is_not_a_regular_file_is_named_as_such() {
    let env = Env::new();
    let dir = env.path("dir");
    std::fs::create_dir(&dir).expect("dir");
    for db in [dir.to_str().expect("utf-8"), "/dev/null"] {
        let r = env.run(&["--db", db, "whoami"]);
        r.code(9).one_error_line();
        assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
        assert!(!r.stderr.contains("read-only"), "{}", r.stderr);
    }
}

/// An empty stdin under `--password-stdin` is a missing password (exit 2), not a wrong one:
/// a script whose secret is unset must not lock the account after five runs.
#[test]
fn an_empty_stdin_is_a_missing_password_and_never_counts_toward_the_lockout() {
    let env = Env::new();
    env.add_user("bob", "sales");
    let bob = env.token("bob");
    for _ in 0..6 {
        env.run_stdin(&["login", "--user", "admin", "--password-stdin"], "")
            .code(2)
            .one_error_line();
        let r = env.run_env(
            &["user", "passwd", "--password-stdin"],
            &[("CRM_TOKEN", bob.as_str())],
        );
        r.code(2).one_error_line();
    }
    if !engine_is_postgres() {
        // crm shows no failure counter (only `locked`), so this reads the SQLite file
        let failed = env.sql_int("SELECT MAX(failed_logins) FROM users");
        assert_eq!(failed, 0);
    }
    env.login("admin");
    env.run(&["whoami"]).ok();
}
