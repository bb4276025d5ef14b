//! A `PostgreSQL` database set up by another crm: commands refuse it with a hint instead of
//! failing halfway on a missing function, and `crm init --db URL --upgrade`, run by the
//! schema's owner, applies this crm's steps and security in one audited transaction; a crm
//! user who does not own the schema cannot.

use crate::harness::{Env, PW};
use crate::pg_cli::url_of;
use crate::pg_harness;

/// The URL of `db` connecting as login role `role` (its password from PGPASSWORD).
fn url_as(db: &pg_harness::PgDb, role: &str) -> String {
    let url = url_of(db);
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let rest = rest.split_once('@').map_or(rest, |(_, host)| host);
    let role = role.replace('@', "%40");
    format!("{scheme}://{role}@{rest}")
}

#[test]
fn a_database_with_another_crms_security_is_refused_until_its_owner_upgrades_it() {
    let Some(db) = pg_harness::fresh("pg_upgrade_security") else {
        return;
    };
    let mut env = Env::empty();
    env.db = url_of(&db).into();
    env.run_stdin(&["init", "--password-stdin"], PW).ok();
    env.login("admin");
    env.add("customer", &["--name", "Before"]);
    // Current already: the owner's upgrade changes nothing and says so.
    let r = env.run(&["init", "--upgrade", "--format", "json"]);
    r.ok();
    assert_eq!(r.json()["upgraded"], false);
    let audits = env.audit_total();

    // What an older crm leaves: its own label, and no function this crm calls.
    let mut admin = db.admin();
    admin
        .batch_execute(
            "COMMENT ON SCHEMA crm IS 'crm security 0000000000000000'; DROP FUNCTION crm.next_record_id(text)",
        )
        .expect("age the database");
    let r = env.run(&["add", "customer", "--name", "During", "--no-input"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("set up by another crm"), "{}", r.stderr);
    assert!(
        r.stderr.contains("crm init --db URL --upgrade"),
        "{}",
        r.stderr
    );

    // A crm admin is no owner of the schema: PostgreSQL refuses, nothing changes.
    let user_url = url_as(&db, &format!("admin@{}", db.name));
    let mine = env.run_env(
        &["--db", &user_url, "init", "--upgrade"],
        &[("PGPASSWORD", PW)],
    );
    mine.code(7).one_error_line();

    // The owner (the role that ran init) upgrades: audited, then everything works again.
    let r = env.run(&["init", "--upgrade", "--format", "json"]);
    r.ok();
    let j = r.json();
    assert_eq!(j["upgraded"], true);
    assert_eq!(j["from"], j["to"]);
    env.add("customer", &["--name", "After"]);
    assert_eq!(env.count("customer"), 2);
    assert_eq!(env.audits(&[("action", "upgrade")]), 1);
    assert!(env.audit_total() > audits);
    env.run(&["check"]).ok();
    let again = env.run(&["init", "--upgrade", "--format", "json"]);
    again.ok();
    assert_eq!(again.json()["upgraded"], false);
}

#[test]
fn a_url_without_a_password_or_session_is_not_logged_in() {
    let Some(db) = pg_harness::fresh("pg_upgrade_no_password") else {
        return;
    };
    let mut env = Env::empty();
    env.db = url_of(&db).into();
    env.run_stdin(&["init", "--password-stdin"], PW).ok();
    let user_url = url_as(&db, &format!("admin@{}", db.name));
    let r = env.run(&["--db", &user_url, "find", "customer"]);
    r.code(6).one_error_line();
    assert!(r.stderr.contains("crm login"), "{}", r.stderr);
}

#[test]
fn a_database_with_custom_fields_keeps_them_through_a_later_crms_upgrade() {
    let Some(db) = pg_harness::fresh("pg_upgrade_custom_fields") else {
        return;
    };
    let mut env = Env::empty();
    env.db = url_of(&db).into();
    env.run_stdin(&["init", "--password-stdin"], PW).ok();
    env.login("admin");
    env.run(&[
        "field",
        "add",
        "customer",
        "erp_id",
        "--kind",
        "text",
        "--unique",
        "--label-zh",
        "ERP编号",
    ])
    .ok();
    let id = env.add("customer", &["--name", "Custom Co", "--erp-id", "E-1"]);
    // What the crm before the audit helpers' step (v11) left: its version, its SQL helpers.
    let mut admin = db.admin();
    admin
        .batch_execute(
            "UPDATE crm.schema_version SET version = 10;
             CREATE OR REPLACE FUNCTION crm.now() RETURNS bigint LANGUAGE sql STABLE
             SET search_path = pg_catalog AS $$ SELECT floor(extract(epoch FROM transaction_timestamp()))::bigint $$",
        )
        .expect("age the database");
    let r = env.run(&["init", "--upgrade", "--format", "json"]);
    r.ok();
    let j = r.json();
    assert_eq!(j["upgraded"], true, "{j}");
    assert_eq!(j["from"], 10, "{j}");
    // The field, its value, its uniqueness and its audit work as before.
    let found = env
        .run(&[
            "find",
            "customer",
            "--where",
            "erp_id=E-1",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(found[0]["id"], id, "{found}");
    env.run(&["edit", "customer", &id.to_string(), "--erp-id", "E-2"])
        .ok();
    assert_eq!(
        env.audits(&[("action", "update"), ("field", "erp_id"), ("new", "E-2")]),
        1
    );
    let other = env.run(&[
        "add",
        "customer",
        "--name",
        "Twin",
        "--erp-id",
        "E-2",
        "--no-input",
    ]);
    other.code(5).one_error_line();
    assert!(
        env.run(&["field", "list", "customer"])
            .ok()
            .stdout
            .contains("ERP编号")
    );
    env.run(&["check"]).ok();
}
