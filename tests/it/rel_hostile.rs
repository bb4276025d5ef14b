//! S8: a hostile database file. Triggers someone added through sqlite3 (a backdoor admin on
//! every insert, a `load_extension` call) make crm refuse the file with exit 9 before anything
//! runs; views crm never reads are inert (and `trusted_schema=OFF` keeps schema objects from
//! calling unsafe functions); a crm-shaped file
//! with another `application_id` is exit 9. The file is left untouched.

use crate::harness::{Env, skip_unless_sqlite};

fn sqlite3(env: &Env, sql: &str) {
    let o = std::process::Command::new("sqlite3")
        .arg(&env.db)
        .arg(sql)
        .output()
        .expect("sqlite3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn bytes(env: &Env) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut wal = env.db.as_os_str().to_owned();
    wal.push("-wal");
    (std::fs::read(&env.db).expect("db"), std::fs::read(wal).ok())
}

#[test]
fn added_triggers_make_crm_refuse_the_file_without_running_them() {
    if skip_unless_sqlite("triggers added to the SQLite file through sqlite3") {
        return;
    }
    let env = Env::new();
    let token = env.token("admin");
    env.add("customer", &["--name", "Acme"]);
    let hostile = [
        (
            "backdoor",
            "CREATE TRIGGER backdoor AFTER INSERT ON customer BEGIN INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES ('mallory' || new.id, 'admin', 'x', 0, 0); END;",
        ),
        (
            "loader",
            "CREATE TRIGGER loader AFTER UPDATE ON customer BEGIN SELECT load_extension('/nonexistent/evil.so'); END;",
        ),
        // a look-alike of crm's own trigger that lets audit rows be rewritten
        (
            "audit_no_update",
            "DROP TRIGGER audit_no_update; CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT 1; END;",
        ),
    ];
    for (name, sql) in hostile {
        sqlite3(&env, sql);
        let users = env.sql_int("SELECT COUNT(*) FROM users");
        let before = bytes(&env);
        for args in [
            vec!["add", "customer", "--name", "x"],
            vec!["edit", "customer", "1", "--city", "深圳"],
            vec!["find", "customer", "--count"],
        ] {
            let r = env.run_as(&token, &args);
            r.code(9).one_error_line();
            assert!(r.stderr.contains(name), "names the trigger: {}", r.stderr);
        }
        assert_eq!(env.sql_int("SELECT COUNT(*) FROM users"), users);
        assert_eq!(env.sql_int("SELECT COUNT(*) FROM customer"), 1);
        assert!(bytes(&env) == before, "{name}: the file is untouched");
        // dropping the hostile trigger (or restoring crm's own) makes the file usable again
        if name == "audit_no_update" {
            sqlite3(
                &env,
                "DROP TRIGGER audit_no_update; CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
            );
        } else {
            sqlite3(&env, &format!("DROP TRIGGER {name};"));
        }
        env.run_as(&token, &["find", "customer", "--count"]).ok();
    }
    env.run_as(&token, &["add", "customer", "--name", "after"])
        .ok();
    assert_eq!(env.sql_int("SELECT COUNT(*) FROM users"), 1);
    env.run_as(&token, &["check"]).ok();
}

#[test]
fn added_views_are_inert_and_crm_keeps_working() {
    if skip_unless_sqlite("views added to the SQLite file through sqlite3") {
        return;
    }
    let env = Env::new();
    sqlite3(
        &env,
        "CREATE VIEW loader AS SELECT load_extension('/nonexistent/evil.so') AS x;
         CREATE VIEW peek AS SELECT name, password_hash FROM users;",
    );
    let id = env.add("customer", &["--name", "Acme"]);
    env.run(&["edit", "customer", &id.to_string(), "--city", "上海"])
        .ok();
    assert_eq!(env.run(&["find", "customer", "--count"]).ok().stdout, "1\n");
    env.run(&["check"]).ok();
    env.run(&["export", "customer", "-o", "out.csv"]).ok();
    env.run(&["backup", "b.db"]).ok();
    assert!(
        std::fs::read_to_string(env.path("out.csv"))
            .expect("export")
            .contains("Acme")
    );
    // the views are still there, untouched, and nothing they name was run or copied out
    assert_eq!(
        env.sql_int("SELECT COUNT(*) FROM sqlite_master WHERE type = 'view'"),
        2
    );
    assert!(
        !std::fs::read_to_string(env.path("out.csv"))
            .expect("export")
            .contains("argon2")
    );
}

#[test]
fn a_crm_shaped_file_with_another_application_id_is_exit_9_and_untouched() {
    if skip_unless_sqlite("the SQLite file's application_id") {
        return;
    }
    let env = Env::new();
    let token = env.token("admin");
    env.add("customer", &["--name", "Acme"]);
    env.sql()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    sqlite3(&env, "PRAGMA application_id = 1195724874;"); // "GPKG"
    let before = bytes(&env);
    for args in [
        vec!["find", "customer"],
        vec!["add", "customer", "--name", "x"],
        vec!["check"],
        vec!["backup", "b.db"],
    ] {
        let r = env.run_as(&token, &args);
        r.code(9).one_error_line();
        assert!(r.stderr.contains("not a crm database"), "{}", r.stderr);
    }
    assert!(bytes(&env) == before, "the file is untouched");
    assert!(!env.path("b.db").exists());
}
