//! crm's own commands on `PostgreSQL`, through the binary: `init --db URL` sets a database up
//! once (exit 5 the second time), users log in as their own login roles, `whoami` names
//! the role, a token for `CRM_TOKEN` carries the login, and a wrong password is exit 6.

use crate::harness::{Env, PW};
use crate::pg_harness;

/// A test database's URL for crm: the cluster's URL with the database swapped in.
pub fn url_of(db: &pg_harness::PgDb) -> String {
    let base = std::env::var("CRM_TEST_PG").expect("CRM_TEST_PG");
    let (head, query) = base.split_once('?').unwrap_or((&base, ""));
    let (prefix, _) = head.rsplit_once('/').expect("a URL with a database");
    if query.is_empty() {
        format!("{prefix}/{}", db.name)
    } else {
        format!("{prefix}/{}?{query}", db.name)
    }
}

/// A fresh database on the cluster, set up by `crm init` with admin logged in; None (after
/// saying so) without a cluster.
fn set_up(test: &str) -> Option<(pg_harness::PgDb, Env)> {
    let db = pg_harness::fresh(test)?;
    let mut env = Env::empty();
    env.db = url_of(&db).into();
    env.run_stdin(&["init", "--password-stdin"], PW).ok();
    env.login("admin");
    Some((db, env))
}

#[test]
fn init_login_whoami_on_postgres() {
    let Some(db) = pg_harness::fresh("init_login_whoami_on_postgres") else {
        return;
    };
    let url = url_of(&db);
    let mut env = Env::empty();
    env.db = url.clone().into();
    let r = env.run_stdin(
        &[
            "init",
            "--admin",
            "boss",
            "--password-stdin",
            "--format",
            "json",
        ],
        PW,
    );
    r.ok();
    assert_eq!(r.json()["admin"], "boss");
    // Set up once: a second init changes nothing and is exit 5.
    env.run_stdin(&["init", "--admin", "other", "--password-stdin"], PW)
        .code(5)
        .one_error_line();
    // Not logged in: the URL's role (the superuser) is no crm user.
    env.run(&["whoami"]).code(6).one_error_line();
    // Wrong password, unknown user: exit 6, one line.
    env.run_stdin(&["login", "--user", "boss", "--password-stdin"], "wrong")
        .code(6)
        .one_error_line();
    env.run_stdin(&["login", "--user", "nobody", "--password-stdin"], PW)
        .code(6)
        .one_error_line();
    env.run_stdin(&["login", "--user", "BOSS", "--password-stdin"], PW)
        .ok();
    let who = env.run(&["whoami", "--format", "json"]);
    who.ok();
    let j = who.json();
    assert_eq!(j["name"], "boss");
    assert_eq!(j["role"], "admin");
    assert_eq!(j["pg_role"], format!("boss@{}", db.name));
    assert!(!j["database"].as_str().unwrap().contains(PW));
    // A token for scripts carries the login: it works without the session file.
    let token = env.run_stdin(
        &[
            "login",
            "--user",
            "boss",
            "--password-stdin",
            "--print-token",
        ],
        PW,
    );
    token.ok();
    let token = token.stdout.trim().to_string();
    env.run(&["logout"]).ok();
    env.run(&["whoami"]).code(6);
    let j = env
        .run_env(&["whoami", "--format", "json"], &[("CRM_TOKEN", &token)])
        .json();
    assert_eq!(j["name"], "boss");
}

#[test]
fn users_are_login_roles_on_postgres() {
    let Some((_db, env)) = set_up("users_are_login_roles_on_postgres") else {
        return;
    };
    env.add_user("ann", "sales");
    // ann logs in with the password the admin gave; a sales user may not add users.
    let ann = env.token("ann");
    env.run_as(&ann, &["whoami"]).ok();
    env.run_stdin(
        &["user", "add", "eve", "--role", "admin", "--password-stdin"],
        PW,
    )
    .ok();
    let r = env.run_env(
        &[
            "user",
            "add",
            "mallory",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &[("CRM_TOKEN", &ann)],
    );
    r.code(7);
    // Her own password: the current one is checked by the server; a wrong one is exit 6.
    let passwd = |stdin: &str| {
        env.cmd()
            .env("CRM_TOKEN", &ann)
            .args(["user", "passwd", "--password-stdin"])
            .write_stdin(stdin.to_string())
            .output()
            .expect("run crm")
    };
    assert_eq!(passwd("not it\nnew password 123\n").status.code(), Some(6));
    assert_eq!(
        passwd(&format!("{PW}\nnew password 123\n")).status.code(),
        Some(0)
    );
    // The server now takes only the new one.
    env.run_stdin(&["login", "--user", "ann", "--password-stdin"], PW)
        .code(6);
    env.run_stdin(
        &["login", "--user", "ann", "--password-stdin"],
        "new password 123",
    )
    .ok();
    // An admin resets it; disabling her ends her login on the server too.
    env.login("admin");
    env.run_stdin(&["user", "passwd", "ann", "--password-stdin"], PW)
        .ok();
    env.run_stdin(&["login", "--user", "ann", "--password-stdin"], PW)
        .ok();
    env.login("admin");
    env.run(&["user", "edit", "ann", "--disable"]).ok();
    env.run_stdin(&["login", "--user", "ann", "--password-stdin"], PW)
        .code(6);
    // The user list shows what the server holds.
    let users = env.run(&["user", "list", "--format", "json"]).json();
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "ann", "eve"]);
}

#[test]
fn check_on_postgres_finds_lost_row_security_and_triggers() {
    let Some((db, env)) = set_up("check_on_postgres") else {
        return;
    };
    let r = env.run(&["check", "--format", "json"]);
    r.ok();
    let checks: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}={}", c["check"].as_str().unwrap(), c["ok"]))
        .collect();
    assert_eq!(
        checks,
        [
            "schema_version=true",
            "audit_chain=true",
            "audit_triggers=true",
            "search_index=true",
            "credit_code_unique=true",
            "row_security=true"
        ]
    );
    // A DBA turns row-level security off on one table and drops an audit trigger.
    db.admin()
        .batch_execute(
            "ALTER TABLE crm.customer DISABLE ROW LEVEL SECURITY; ALTER TABLE crm.contact_search DISABLE ROW LEVEL SECURITY; DROP TRIGGER audit_no_delete ON crm.audit;",
        )
        .unwrap();
    let r = env.run(&["check"]);
    r.code(9).one_error_line();
    assert!(
        r.stderr
            .contains("row-level security missing on customer, contact_search"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("audit_no_delete"), "{}", r.stderr);
}

#[test]
fn a_held_write_lock_is_busy_after_the_timeout_on_postgres() {
    let Some((db, env)) = set_up("busy_on_postgres") else {
        return;
    };
    // Another writer holds the write lock (what crm.begin_write takes) and does not let go.
    let mut other = db.admin();
    let mut tx = other.transaction().unwrap();
    tx.batch_execute("LOCK TABLE crm.audit IN SHARE ROW EXCLUSIVE MODE")
        .unwrap();
    let r = env.run_stdin(
        &[
            "--busy-timeout",
            "0.3",
            "user",
            "add",
            "ann",
            "--role",
            "sales",
            "--password-stdin",
        ],
        PW,
    );
    r.code(8).one_error_line();
    tx.rollback().unwrap();
    // Nothing of it stayed; with the lock gone the same command succeeds.
    let users = env.run(&["user", "list", "--format", "json"]).json();
    assert_eq!(users.as_array().unwrap().len(), 1);
    env.add_user("ann", "sales");
}

#[test]
fn init_over_a_leftover_role_is_a_conflict_that_changes_nothing() {
    let Some(db) = pg_harness::fresh("init_over_a_leftover_role") else {
        return;
    };
    // A login role of this database's namespace already exists (left by a dropped database
    // of the same name): init stops at it with exit 5 and leaves no schema behind.
    let role = crm::db::migrate::postgres::names::login_role(&db.name, "admin");
    db.admin()
        .batch_execute(&format!(
            "CREATE ROLE {}",
            crm::db::migrate::postgres::names::quote_ident(&role)
        ))
        .unwrap();
    let mut env = Env::empty();
    env.db = url_of(&db).into();
    let r = env.run_stdin(&["init", "--password-stdin"], PW);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    let left: Option<String> = db
        .admin()
        .query_one("SELECT to_regclass('crm.schema_version')::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, None, "a failed init leaves no schema");
}

#[test]
fn scripts_connect_as_a_users_role_with_the_pg_variables() {
    let Some((db, env)) = set_up("scripts_connect_with_pg_variables") else {
        return;
    };
    env.add_user("ann", "sales");
    env.run(&["logout"]).ok();
    // No crm login at all: PGUSER names ann's login role, PGPASSWORD her password. The URL's
    // own user (the superuser) gives way to PGUSER only when the URL names none.
    let base = std::env::var("CRM_TEST_PG").unwrap();
    let query = base.split_once('?').map_or("", |(_, q)| q);
    let url = format!("postgres:///{}?{query}", db.name);
    let role = format!("ann@{}", db.name);
    let r = env.run_env(
        &["--db", &url, "whoami", "--format", "json"],
        &[("PGUSER", &role), ("PGPASSWORD", PW)],
    );
    assert_eq!(r.json()["name"], "ann", "{}", r.stderr);
    let r = env.run_env(
        &["--db", &url, "whoami"],
        &[("PGUSER", &role), ("PGPASSWORD", "wrong")],
    );
    r.code(6).one_error_line();
    // The superuser itself is no crm user: not logged in.
    env.run(&["whoami"]).code(6).one_error_line();
}

#[test]
fn a_database_from_a_newer_crm_is_refused_on_postgres() {
    let Some((db, env)) = set_up("newer_schema_on_postgres") else {
        return;
    };
    db.admin()
        .batch_execute("UPDATE crm.schema_version SET version = 99")
        .unwrap();
    let r = env.run(&["whoami"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("newer crm"), "{}", r.stderr);
}
