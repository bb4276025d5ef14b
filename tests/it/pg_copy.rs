//! `crm copy --to DEST` between the engines and `crm backup` from `PostgreSQL`, through the
//! binary: data written on `SQLite` goes to `PostgreSQL` and back with byte-identical exports of
//! every entity, the same audit chain and the same next ids; a non-empty destination is
//! exit 5 and stays as it was; a non-admin is exit 7; a backup of a `PostgreSQL` database is a
//! crm `SQLite` file that opens and passes `crm check`.
//!
//! Exports are compared on `SQLite` files (the source and the copy brought back): the
//! `PostgreSQL` leg is checked through what must hold there (its audit chain verifies, its
//! admin logs in with the password set by the copy), as records on `PostgreSQL` are read
//! through crm by another part of the work.

use crate::harness::{Env, PW};
use crate::pg_cli::url_of;
use crate::pg_harness;
use crm::schema::ENTITIES;

/// The admin's password on the copies.
const PW2: &str = "another good password";

/// A `SQLite` database built through crm: the demo data set, then adds, an edit, an import,
/// a deleted record (so the next id is past the last row) and another user.
fn source() -> Env {
    let mut env = Env::empty();
    env.db = env.path("demo.db");
    let demo = env.db.to_str().unwrap().to_string();
    env.run(&["demo", "--path", &demo]).ok();
    let id = env.add("customer", &["--name", "Copy Co", "--code", "CP-1"]);
    env.run(&["edit", "customer", &id.to_string(), "--city", "杭州"])
        .ok();
    let csv = env.customers_csv("in.csv", 30, "IMP");
    env.run(&["import", "customer", &csv]).ok();
    let gone = env.add("customer", &["--name", "Gone", "--code", "GONE-1"]);
    env.run(&["delete", "customer", &gone.to_string(), "--yes"])
        .ok();
    // A setting and an ownership event (the pool's rules read both).
    env.run(&["config", "set", "pool.max_per_user", "7"]).ok();
    env.run(&["pool", "release", &id.to_string(), "--reason", "copy test"])
        .ok();
    env.run_stdin(
        &[
            "user",
            "add",
            "copy.sales",
            "--role",
            "sales",
            "--password-stdin",
        ],
        PW,
    )
    .ok();
    env
}

/// Every entity's CSV export.
fn exports(env: &Env) -> Vec<(String, String)> {
    ENTITIES
        .iter()
        .map(|e| {
            let r = env.run(&["export", e.name]);
            r.ok();
            (e.name.to_string(), r.stdout.clone())
        })
        .collect()
}

/// Another environment (its own home and sessions) on database `db`.
fn on(db: &str) -> Env {
    let mut env = Env::empty();
    env.db = db.into();
    env
}

#[test]
fn sqlite_to_postgres_to_sqlite_keeps_everything() {
    let Some(pg) = pg_harness::fresh("sqlite_to_postgres_to_sqlite_keeps_everything") else {
        return;
    };
    let url = url_of(&pg);
    let src = source();
    let before = exports(&src);
    assert!(before.iter().any(|(_, csv)| csv.contains("IMP000029")));

    let anchor = src.run(&["audit", "--head"]).ok().stdout.trim().to_string();
    // `SQLite` → `PostgreSQL`, into an empty database, connected as the URL's role.
    let r = src.run_stdin(
        &["copy", "--to", &url, "--password-stdin", "--format", "json"],
        PW2,
    );
    r.ok();
    let j = r.json();
    assert_eq!(j["tables"]["users"], 5, "{j}");
    assert!(j["tables"]["customer"].as_i64().unwrap() >= 42, "{j}");
    assert!(j["tables"]["audit"].as_i64().unwrap() > 100, "{j}");
    assert_eq!(j["password_set"], "admin");
    assert!(
        j["password_needed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "copy.sales")
    );
    // The others' passwords did not move, and the text output says what to do.
    let pg_env = on(&url);
    pg_env
        .run_stdin(&["login", "--user", "copy.sales", "--password-stdin"], PW)
        .code(6);
    pg_env
        .run_stdin(&["login", "--user", "admin", "--password-stdin"], PW2)
        .ok();
    // The chain verifies on the server, by the server's own rule, and holds the source's
    // head row. (Read as the superuser: `crm audit --verify` on `PostgreSQL` also checks the
    // import trail, which reads import batches, converted for `PostgreSQL` elsewhere.)
    let mut admin = pg.admin();
    let broken: Option<i64> = admin
        .query_one("SELECT crm.audit_chain_break()", &[])
        .unwrap()
        .get(0);
    assert_eq!(broken, None, "the audit chain verifies on PostgreSQL");
    let (head_id, head_hash) = anchor.split_once(':').unwrap();
    let hash: String = admin
        .query_one(
            "SELECT hash FROM crm.audit WHERE id = $1",
            &[&head_id.parse::<i64>().unwrap()],
        )
        .unwrap()
        .get(0);
    assert_eq!(hash, head_hash);

    // `PostgreSQL` → `SQLite`, a new file.
    let back_path = src.path("back.db");
    let back = back_path.to_str().unwrap();
    let r = pg_env.run_stdin(&["copy", "--to", back, "--password-stdin"], PW);
    r.ok();
    assert!(
        r.stderr.contains("crm user passwd NAME"),
        "the output says how the others get passwords: {}",
        r.stderr
    );
    assert!(r.stdout.contains("customer"), "{}", r.stdout);
    let back_env = on(back);
    back_env
        .run_stdin(&["login", "--user", "admin", "--password-stdin"], PW)
        .ok();
    back_env.run(&["check"]).ok();
    back_env.run(&["audit", "--verify"]).ok();
    assert_eq!(
        exports(&back_env),
        before,
        "every entity's export is the same"
    );
    // Settings and ownership events went there and back.
    for env in [&pg_env, &back_env] {
        let v = env
            .run(&["config", "get", "pool.max_per_user"])
            .ok()
            .stdout
            .clone();
        assert_eq!(v.trim(), "7", "the setting moved");
        let show = env
            .run(&["show", "customer", "CP-1", "--format", "json"])
            .ok()
            .json();
        assert!(
            show["ownership"]
                .as_array()
                .is_some_and(|o| o.iter().any(|e| e.to_string().contains("copy test"))),
            "the ownership event moved: {show}"
        );
    }
    // The same next id on both: the deleted record's id is not given out again.
    let a = src.add("customer", &["--name", "Next", "--code", "NEXT-1"]);
    let b = back_env.add("customer", &["--name", "Next", "--code", "NEXT-1"]);
    assert_eq!(a, b);
    // On `PostgreSQL` too: the identities moved past the copied ids (the deleted record's
    // included), and the audit trigger, enabled again, logs the insert after the copied rows.
    let c: i64 = admin
        .query_one(
            "INSERT INTO crm.customer (code, name, created_at, updated_at) VALUES ('NEXT-1', 'Next', 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(c, a);
    let logged: i64 = admin
        .query_one(
            "SELECT COUNT(*) FROM crm.audit WHERE entity = 'customer' AND record_id = $1 AND action = 'create'",
            &[&c],
        )
        .unwrap()
        .get(0);
    assert!(logged > 0, "the insert was audited");
    let broken: Option<i64> = admin
        .query_one("SELECT crm.audit_chain_break()", &[])
        .unwrap()
        .get(0);
    assert_eq!(broken, None);
    // The copy brought back holds the source's log as it was: its head row, same hash.
    back_env
        .run(&["audit", "--verify", "--anchor", &anchor])
        .ok();
}

#[test]
fn copy_refuses_a_non_empty_destination() {
    let src = Env::new();
    src.add("customer", &["--name", "Only", "--code", "O-1"]);
    // A file that exists, whatever it holds: exit 5, unchanged.
    let taken = src.path("taken.db");
    std::fs::write(&taken, b"not empty").unwrap();
    src.run_stdin(
        &["copy", "--to", taken.to_str().unwrap(), "--password-stdin"],
        PW2,
    )
    .code(5)
    .one_error_line();
    assert_eq!(std::fs::read(&taken).unwrap(), b"not empty");
    // The source itself: exit 5.
    src.run_stdin(
        &["copy", "--to", src.db.to_str().unwrap(), "--password-stdin"],
        PW2,
    )
    .code(5)
    .one_error_line();
    // A crm database on `PostgreSQL`: exit 5, nothing added to it.
    let Some(pg) = pg_harness::fresh("copy_refuses_a_non_empty_destination") else {
        return;
    };
    let url = url_of(&pg);
    src.run_stdin(&["copy", "--to", &url, "--password-stdin"], PW2)
        .ok();
    let count = |table: &str| -> i64 {
        pg.admin()
            .query_one(&format!("SELECT COUNT(*) FROM crm.{table}"), &[])
            .unwrap()
            .get(0)
    };
    let (audit, customers) = (count("audit"), count("customer"));
    src.run_stdin(&["copy", "--to", &url, "--password-stdin"], PW2)
        .code(5)
        .one_error_line();
    assert_eq!((count("audit"), count("customer")), (audit, customers));
    // A database of the same name made anew: the cluster-wide login roles of the dropped
    // one are still there, so the copy refuses (exit 5) and leaves the database empty.
    let mut cluster =
        postgres::Client::connect(&std::env::var("CRM_TEST_PG").unwrap(), postgres::NoTls).unwrap();
    cluster
        .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", pg.name))
        .unwrap();
    cluster
        .batch_execute(&format!("CREATE DATABASE {}", pg.name))
        .unwrap();
    let r = src.run_stdin(&["copy", "--to", &url, "--password-stdin"], PW2);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("already has a role"), "{}", r.stderr);
    let schemas: i64 = pg
        .admin()
        .query_one(
            "SELECT COUNT(*) FROM pg_catalog.pg_namespace WHERE nspname = 'crm'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(schemas, 0);
}

#[test]
fn only_an_admin_may_copy() {
    let src = Env::new();
    src.add_user("sam", "sales");
    let sam = src.token("sam");
    let dest = src.path("copy.db");
    let r = src.run_env(
        &["copy", "--to", dest.to_str().unwrap(), "--password-stdin"],
        &[("CRM_TOKEN", &sam)],
    );
    r.code(7).one_error_line();
    assert!(!dest.exists());
    src.add_user("meg", "manager");
    let meg = src.token("meg");
    src.run_env(
        &["copy", "--to", dest.to_str().unwrap(), "--password-stdin"],
        &[("CRM_TOKEN", &meg)],
    )
    .code(7);
    assert!(!dest.exists());
}

#[test]
fn backup_of_postgres_is_a_crm_file_that_checks() {
    let Some(pg) = pg_harness::fresh("backup_of_postgres_is_a_crm_file_that_checks") else {
        return;
    };
    let url = url_of(&pg);
    let env = on(&url);
    env.run_stdin(&["init", "--admin", "boss", "--password-stdin"], PW)
        .ok();
    env.run_stdin(&["login", "--user", "boss", "--password-stdin"], PW)
        .ok();
    env.run_stdin(
        &["user", "add", "ann", "--role", "sales", "--password-stdin"],
        PW,
    )
    .ok();
    let file = env.path("pg-backup.db");
    let f = file.to_str().unwrap();
    env.run(&["backup", f]).ok();
    // An existing file is replaced only with --force, as on `SQLite`.
    env.run(&["backup", f]).code(5).one_error_line();
    env.run(&["backup", f, "--force"]).ok();
    let b = on(f);
    // The running admin's password is the one of the session; the others' did not move.
    b.run_stdin(&["login", "--user", "boss", "--password-stdin"], PW)
        .ok();
    b.run(&["check"]).ok();
    b.run(&["audit", "--verify"]).ok();
    let users = b.run(&["user", "list", "--format", "json"]);
    users.ok();
    assert!(users.stdout.contains("ann"), "{}", users.stdout);
    b.run_stdin(&["login", "--user", "ann", "--password-stdin"], PW)
        .code(6);
}
