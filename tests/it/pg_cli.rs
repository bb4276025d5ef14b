//! crm's own commands on PostgreSQL, through the binary: `init --db URL` sets a database up
//! once (exit 5 the second time), users log in as their own login roles, `whoami` names
//! the role, a token for CRM_TOKEN carries the login, and a wrong password is exit 6.

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
