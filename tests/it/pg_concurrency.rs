//! Concurrent writers on `PostgreSQL` (issue 10, section 3): adds run side by side (each id
//! claimed, the audit chained at COMMIT), nothing is lost and ids stay `SQLite`'s; the
//! writers that change existing records still run one at a time and wait for adds in
//! progress (busy: exit 8); the queue of audit rows is no crm role's to read or write.

use postgres::error::SqlState;

use crate::harness::{Env, PW};
use crate::pg_cli::url_of;
use crate::pg_harness::{self, PgDb};

/// A fresh database set up by `crm init`, admin logged in; None without a cluster.
fn set_up(test: &str) -> Option<(PgDb, Env)> {
    let db = pg_harness::fresh(test)?;
    let mut env = Env::empty();
    env.db = url_of(&db).into();
    env.run_stdin(&["init", "--password-stdin"], PW).ok();
    env.login("admin");
    Some((db, env))
}

fn add_quiet(env: &Env, name: &str) -> i64 {
    let r = env.run(&["-q", "add", "customer", "--name", name]);
    r.ok();
    r.stdout.trim().parse().expect("add -q prints the id")
}

#[test]
fn pg_an_add_does_not_wait_for_another_add_in_progress() {
    let Some((db, env)) = set_up("pg_an_add_does_not_wait_for_another_add_in_progress") else {
        return;
    };
    assert_eq!(add_quiet(&env, "first"), 1);
    // Another adder, in the middle of its transaction: its id is claimed, its row and
    // audit rows not committed yet.
    let mut other = db.admin();
    other
        .batch_execute("BEGIN; SELECT crm.begin_add()")
        .unwrap();
    let theirs: i64 = other
        .query_one("SELECT crm.next_record_id('customer')", &[])
        .unwrap()
        .get(0);
    assert_eq!(theirs, 2);
    // Asked again before a record holds it, the same number (a key counted from it
    // must match the id the record gets).
    let again: i64 = other
        .query_one("SELECT crm.next_record_id('customer')", &[])
        .unwrap()
        .get(0);
    assert_eq!(again, theirs);
    other
        .execute(
            "INSERT INTO crm.customer (id, code, name, created_at, updated_at) VALUES ($1, 'RAW', 'raw', 0, 0)",
            &[&theirs],
        )
        .unwrap();
    // with its search index row, as crm's add writes it (the tokens crm cuts from `raw`)
    other
        .execute(
            "INSERT INTO crm.customer_search VALUES ($1, array_to_tsvector('{raw,aw,w}'))",
            &[&theirs],
        )
        .unwrap();
    // crm's add neither waits (with no busy timeout, a lock held would fail it) nor takes
    // that id.
    let r = env.run(&[
        "--busy-timeout",
        "0",
        "-q",
        "add",
        "customer",
        "--name",
        "second",
    ]);
    r.ok();
    assert_eq!(r.stdout.trim(), "3");
    other.batch_execute("COMMIT").unwrap();
    assert_eq!(add_quiet(&env, "third"), 4);
    let found = env.read_json(&["find", "customer", "--sort", "id"]);
    let codes: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["C000001", "RAW", "C000003", "C000004"]);
    // Both transactions' audit rows are chained, each in its author's name.
    env.run(&["check"]).ok();
    let mut admin = db.admin();
    let who: Vec<(i64, String)> = admin
        .query(
            "SELECT DISTINCT record_id, \"user\" FROM crm.audit WHERE entity = 'customer' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        who,
        [
            (1, "admin".to_string()),
            (2, "pg:postgres".to_string()),
            (3, "admin".to_string()),
            (4, "admin".to_string())
        ]
    );
    let pending: i64 = admin
        .query_one("SELECT count(*) FROM crm.audit_pending", &[])
        .unwrap()
        .get(0);
    assert_eq!(pending, 0);
}

#[test]
fn pg_an_id_given_back_by_a_rollback_is_handed_out_again() {
    let Some((db, env)) = set_up("pg_an_id_given_back_by_a_rollback_is_handed_out_again") else {
        return;
    };
    assert_eq!(add_quiet(&env, "first"), 1);
    let mut other = db.admin();
    other
        .batch_execute("BEGIN; SELECT crm.begin_add()")
        .unwrap();
    let n: i64 = other
        .query_one("SELECT crm.next_record_id('customer')", &[])
        .unwrap()
        .get(0);
    other
        .execute(
            "INSERT INTO crm.customer (id, code, name, created_at, updated_at) VALUES ($1, 'RAW', 'raw', 0, 0)",
            &[&n],
        )
        .unwrap();
    other.batch_execute("ROLLBACK").unwrap();
    // As on SQLite: a change that did not land uses no id up, and leaves no audit row.
    assert_eq!(add_quiet(&env, "second"), n);
    let raw: i64 = db
        .admin()
        .query_one(
            "SELECT count(*) FROM crm.audit WHERE new = 'RAW' OR \"user\" LIKE 'pg:%' AND entity = 'customer'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(raw, 0);
}

#[test]
fn pg_writers_that_change_records_and_adds_wait_for_each_other() {
    let Some((db, env)) = set_up("pg_writers_that_change_records_and_adds_wait_for_each_other")
    else {
        return;
    };
    assert_eq!(add_quiet(&env, "first"), 1);
    let mut other = db.admin();
    // An add in progress holds off a writer that changes records: busy, exit 8.
    other
        .batch_execute("BEGIN; SELECT crm.begin_add()")
        .unwrap();
    env.run(&[
        "--busy-timeout",
        "0",
        "edit",
        "customer",
        "1",
        "--name",
        "renamed",
    ])
    .code(8)
    .one_error_line();
    other.batch_execute("ROLLBACK").unwrap();
    // And such a writer in progress holds off an add.
    other
        .batch_execute("BEGIN; SELECT crm.begin_write()")
        .unwrap();
    env.run(&["--busy-timeout", "0", "add", "customer", "--name", "late"])
        .code(8)
        .one_error_line();
    other.batch_execute("ROLLBACK").unwrap();
    env.run(&["edit", "customer", "1", "--name", "renamed"])
        .ok();
    assert_eq!(add_quiet(&env, "late"), 2);
    env.run(&["check"]).ok();
}

#[test]
fn pg_concurrent_adds_all_land_with_consecutive_ids() {
    let Some((db, env)) = set_up("pg_concurrent_adds_all_land_with_consecutive_ids") else {
        return;
    };
    let procs: Vec<std::process::Child> = (0..6)
        .map(|p| {
            let script = format!(
                "for i in 1 2 3 4 5; do \"$CRM\" -q add customer --name p{p}-$i || exit 1; done"
            );
            env.hermetic("sh")
                .args(["-c", &script])
                .env("CRM", Env::bin())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn sh")
        })
        .collect();
    for p in procs {
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "an add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut admin = db.admin();
    let ids: Vec<i64> = admin
        .query("SELECT id FROM crm.customer ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, (1..=30).collect::<Vec<i64>>());
    let bad: i64 = admin
        .query_one(
            "SELECT count(*) FROM crm.customer WHERE code <> 'C' || lpad(id::text, 6, '0')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(bad, 0);
    // Five audit rows a record (code, name, kind, status, owner), none lost, chain intact.
    let rows: i64 = admin
        .query_one(
            "SELECT count(*) FROM crm.audit WHERE entity = 'customer' AND action = 'create'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(rows, 30 * 5);
    env.run(&["check"]).ok();
}

#[test]
fn pg_the_audit_queue_is_no_crm_roles_to_touch() {
    let Some(db) = pg_harness::setup("pg_the_audit_queue_is_no_crm_roles_to_touch") else {
        return;
    };
    for r in crm::auth::ROLES {
        let mut c = pg_harness::login(&db, r);
        for sql in [
            "SELECT count(*) FROM crm.audit_pending",
            "DELETE FROM crm.audit_pending",
            "SELECT crm.audit_queue('create', 'customer', 1, 'name', NULL, 'forged', NULL)",
            "SELECT crm.audit_queue_fields('create', 'customer', 1, ARRAY['name'], ARRAY[true], NULL, ARRAY['forged'], NULL)",
            "SELECT crm.audit_flush()",
        ] {
            let e = c.batch_execute(sql).expect_err(sql);
            assert_eq!(
                e.code(),
                Some(&SqlState::INSUFFICIENT_PRIVILEGE),
                "{r}: {sql}: {e}"
            );
        }
        // What a role may call: the writers' and the adders' locks.
        c.batch_execute("BEGIN; SELECT crm.begin_add(); ROLLBACK")
            .unwrap();
    }
}
