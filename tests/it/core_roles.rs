//! The role matrix through the binary: each role × add/edit/delete/find/audit/user add, on its
//! own and on another's record. Allowed succeeds; denied exits 7, changes nothing and leaves a
//! `denied` audit row. Also mass assignment of `owner`, cascades and a role change mid-session.

use crate::harness::{Env, Run, text};

struct World {
    env: Env,
    tokens: Vec<(&'static str, &'static str, String)>, // (user, role, token)
}

fn world() -> World {
    let env = Env::new();
    let users = [
        ("max", "manager"),
        ("bob", "sales"),
        ("sam", "service"),
        ("vic", "viewer"),
    ];
    for (u, r) in users {
        env.add_user(u, r);
    }
    let mut tokens = vec![("admin", "admin", env.token("admin"))];
    for (u, r) in users {
        tokens.push((u, r, env.token(u)));
    }
    World { env, tokens }
}

/// Everything a denied command must leave untouched.
fn snapshot(env: &Env) -> String {
    let line = |rows: Vec<serde_json::Value>, cols: &[&str]| -> String {
        let rows: Vec<String> = rows
            .iter()
            .map(|r| {
                let vals: Vec<String> = cols
                    .iter()
                    .map(|c| text(&r[*c]).unwrap_or_default())
                    .collect();
                vals.join("|")
            })
            .collect();
        rows.join(";") + "\n"
    };
    line(
        env.find("customer", &[]),
        &["id", "name", "owner", "level", "updated_at"],
    ) + &line(env.find("contact", &[]), &["id", "name"])
        + &line(env.users(), &["name", "role"])
}

fn expect(
    env: &Env,
    user: &str,
    allowed: bool,
    what: &str,
    r: &Run,
    before: &str,
    denied_before: i64,
) {
    if allowed {
        assert_eq!(r.code, 0, "{user} may {what}: {}", r.stderr);
    } else {
        assert_eq!(r.code, 7, "{user} may not {what}: {r:?}");
        r.one_error_line();
        assert_eq!(snapshot(env), before, "{user} {what}: nothing changed");
        assert_eq!(
            env.audits(&[("action", "denied"), ("user", user)]),
            denied_before + 1,
            "{user} {what}: one denied audit row"
        );
    }
}

#[test]
fn role_matrix_for_customers_and_administration() {
    let w = world();
    let env = &w.env;
    for (user, role, token) in &w.tokens {
        let own = env
            .add(
                "customer",
                &["--name", &format!("{user}'s own"), "--owner", user],
            )
            .to_string();
        let other = env
            .add(
                "customer",
                &["--name", "someone else's", "--owner", "admin"],
            )
            .to_string();
        let writes = matches!(*role, "admin" | "manager");
        let sales = *role == "sales";
        let cases: Vec<(&str, Vec<String>, bool)> = vec![
            (
                "add",
                vec![
                    "add".into(),
                    "customer".into(),
                    "--name".into(),
                    "new".into(),
                ],
                writes || sales,
            ),
            (
                "edit own",
                vec![
                    "edit".into(),
                    "customer".into(),
                    own.clone(),
                    "--level".into(),
                    "A".into(),
                ],
                writes || sales,
            ),
            (
                "edit other's",
                vec![
                    "edit".into(),
                    "customer".into(),
                    other.clone(),
                    "--level".into(),
                    "A".into(),
                ],
                writes,
            ),
            ("find", vec!["find".into(), "customer".into()], true),
            (
                "show other's",
                vec!["show".into(), "customer".into(), other.clone()],
                true,
            ),
            (
                "audit",
                vec!["audit".into(), "--limit".into(), "1".into()],
                *role == "admin",
            ),
            (
                "user add",
                vec![
                    "user".into(),
                    "add".into(),
                    format!("new_{user}"),
                    "--role".into(),
                    "viewer".into(),
                    "--password-stdin".into(),
                ],
                *role == "admin",
            ),
            (
                "user list",
                vec!["user".into(), "list".into()],
                *role == "admin",
            ),
            ("check", vec!["check".into()], writes),
            (
                "delete other's",
                vec![
                    "delete".into(),
                    "customer".into(),
                    other.clone(),
                    "--yes".into(),
                ],
                writes,
            ),
            (
                "delete own",
                vec![
                    "delete".into(),
                    "customer".into(),
                    own.clone(),
                    "--yes".into(),
                ],
                writes || sales,
            ),
        ];
        for (what, args, allowed) in cases {
            let before = snapshot(env);
            let denied_before = env.audits(&[("action", "denied"), ("user", user)]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = env.run_as_stdin(token, &args, crate::harness::PW);
            expect(
                env,
                user,
                allowed,
                &format!("{what} ({role})"),
                &r,
                &before,
                denied_before,
            );
        }
    }
}

#[test]
fn sales_ownership_owner_assignment_cascade_and_role_change_mid_session() {
    let w = world();
    let env = &w.env;
    let bob = &w.tokens.iter().find(|t| t.0 == "bob").unwrap().2;
    env.add_user("carol", "sales");
    let carol = env.token("carol");
    // S5: sales may not hand a new record to someone else, nor give its own away
    let before = snapshot(env);
    env.run_as(bob, &["add", "customer", "--name", "x", "--owner", "carol"])
        .code(7)
        .one_error_line();
    assert_eq!(snapshot(env), before);
    let mine = env
        .run_as(bob, &["add", "customer", "--name", "bob's", "-q"])
        .ok()
        .stdout
        .trim()
        .to_string();
    env.run_as(bob, &["edit", "customer", &mine, "--owner", "carol"])
        .code(7)
        .one_error_line();
    // contacts are owned through their customer
    let theirs = env
        .run_as(&carol, &["add", "customer", "--name", "carol's", "-q"])
        .ok()
        .stdout
        .trim()
        .to_string();
    env.run_as(
        bob,
        &["add", "contact", "--customer", &theirs, "--name", "c"],
    )
    .code(7)
    .one_error_line();
    env.run_as(
        bob,
        &["add", "contact", "--customer", &mine, "--name", "c", "-q"],
    )
    .ok();
    env.run_as(bob, &["edit", "contact", "1", "--customer", &theirs])
        .code(7)
        .one_error_line();
    // a cascade may not take along another user's records
    let opp = env.run_as(
        &carol,
        &[
            "add",
            "opportunity",
            "--customer",
            &mine,
            "--name",
            "carol's deal",
            "-q",
        ],
    );
    if opp.code == 0 {
        let before = snapshot(env);
        let n = env.count("opportunity");
        env.run_as(bob, &["delete", "customer", &mine, "--yes", "--cascade"])
            .code(7)
            .one_error_line();
        assert_eq!(snapshot(env), before);
        assert_eq!(env.count("opportunity"), n);
    } else {
        // the rules may forbid an opportunity on another's customer; then build it as admin
        let id = env.add(
            "opportunity",
            &[
                "--customer",
                &mine,
                "--name",
                "carol's deal",
                "--owner",
                "carol",
            ],
        );
        let before = snapshot(env);
        env.run_as(bob, &["delete", "customer", &mine, "--yes", "--cascade"])
            .code(7)
            .one_error_line();
        assert_eq!(snapshot(env), before);
        assert!(env.exists("opportunity", id), "carol's deal is still there");
    }
    // S6: a role change applies to the next command of a running session
    env.run_as(bob, &["add", "customer", "--name", "still sales", "-q"])
        .ok();
    env.run(&["user", "edit", "bob", "--role", "viewer"]).ok();
    env.run_as(bob, &["add", "customer", "--name", "as viewer"])
        .code(7)
        .one_error_line();
    assert_eq!(
        env.run_as(bob, &["whoami", "--format", "json"]).ok().json()["role"],
        "viewer"
    );
    env.run(&["user", "edit", "bob", "--role", "manager"]).ok();
    env.run_as(bob, &["edit", "customer", &theirs, "--level", "A"])
        .ok();
    env.run_as(
        bob,
        &["user", "add", "eve", "--role", "admin", "--password-stdin"],
    )
    .code(7)
    .one_error_line();
    assert_eq!(
        env.audits(&[
            ("action", "user_edit"),
            ("field", "role"),
            ("detail", "bob")
        ]),
        2
    );
}
