//! Tokens for automation (`crm token`, `CRM_TOKEN`) on both engines: printed once, listed
//! without secrets, limited to their role and their owner's records, audited as
//! `token:NAME`, refused (exit 6) once revoked or expired or when garbage.

use crate::harness::Env;

/// Unix seconds now, as the binary's real clock reads it.
fn now() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(d.as_secs()).expect("seconds")
}

/// `crm token create NAME ARGS…` as the logged-in admin; the token it printed.
#[track_caller]
fn create(env: &Env, name: &str, args: &[&str]) -> String {
    let mut all = vec!["token", "create", name];
    all.extend_from_slice(args);
    let r = env.run(&all);
    r.ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "the token alone on stdout: {}", r.stdout);
    assert!(lines[0].starts_with("crm_"), "{}", r.stdout);
    assert!(r.stderr.contains("shown this once"), "{}", r.stderr);
    lines[0].to_string()
}

#[test]
fn a_token_is_printed_once_and_listed_without_its_secret() {
    let env = Env::new();
    let token = create(&env, "ci", &["--role", "viewer"]);
    let json = env.read_json(&[
        "token", "create", "nightly", "--role", "manager", "--ttl", "12h",
    ]);
    let other = json["token"].as_str().expect("token in JSON").to_string();
    assert_eq!(
        (&json["role"], &json["owner"]),
        (&"manager".into(), &"admin".into())
    );
    assert_ne!(other, token);
    // used once, so `last used` is set
    let who = env.read_json_as(&token, &["whoami"]);
    assert_eq!(
        (&who["token"], &who["role"]),
        (&"ci".into(), &"viewer".into())
    );
    assert!(who["expires_at"].is_string(), "{who}");
    let listed = env.run(&["--format", "json", "token", "list"]);
    listed.ok();
    let secret = token.rsplit('_').next().expect("secret");
    for shown in [&listed.stdout, &env.run(&["token", "list"]).stdout] {
        assert!(
            !shown.contains(secret) && !shown.contains(&other[20..]),
            "{shown}"
        );
    }
    let rows = listed.json();
    let ci = &rows.as_array().expect("array")[0];
    assert_eq!(
        (&ci["name"], &ci["role"], &ci["owner"]),
        (&"ci".into(), &"viewer".into(), &"admin".into())
    );
    assert_eq!(ci["revoked"], false);
    assert!(ci["last_used_at"].is_string(), "{ci}");
    assert!(rows[1]["last_used_at"].is_null(), "{rows}");
    // a name is taken once, in any case
    env.run(&["token", "create", "CI", "--role", "viewer"])
        .code(5)
        .one_error_line();
    // a session's whoami shows its expiry too, and no token
    let mine = env.read_json(&["whoami"]);
    assert!(
        mine["expires_at"].is_string() && mine.get("token").is_none(),
        "{mine}"
    );
}

#[test]
fn a_token_acts_with_its_role_as_its_owner_audited_under_its_name() {
    let env = Env::new();
    env.add_user("ann", "sales");
    env.add_user("bob", "sales");
    let bobs = env
        .add("customer", &["--name", "鲍勃的客户", "--owner", "bob"])
        .to_string();
    let viewer = create(&env, "reader", &["--role", "viewer"]);
    env.run_as(&viewer, &["find", "customer"]).ok();
    let r = env.run_as(&viewer, &["add", "customer", "--name", "不行"]);
    r.code(7).one_error_line();
    assert_eq!(
        env.audits(&[("user", "token:reader"), ("action", "denied")]),
        1
    );

    let sales = create(
        &env,
        "ann-bot",
        &["--role", "sales", "--user", "ann", "--ttl", "30m"],
    );
    let id = env
        .run_as(&sales, &["add", "customer", "--name", "安的客户", "-q"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let rec = env.read_json(&["show", "customer", &id]);
    assert_eq!(rec["owner"], "ann", "{rec}");
    env.run_as(&sales, &["edit", "customer", &id, "--city", "深圳"])
        .ok();
    // bob's customer is not the token's own: refused on both engines
    env.run_as(&sales, &["edit", "customer", &bobs, "--city", "深圳"])
        .code(7);
    assert!(
        env.audits(&[
            ("user", "token:ann-bot"),
            ("action", "create"),
            ("record_id", &id)
        ]) > 0
    );
    assert!(
        env.audits(&[
            ("user", "token:ann-bot"),
            ("action", "update"),
            ("record_id", &id)
        ]) > 0
    );
    assert_eq!(
        env.audits(&[("user", "ann")]),
        0,
        "nothing in ann's own name"
    );
    assert_eq!(
        env.audits(&[("user", "admin"), ("action", "token_create")]),
        2
    );

    // Its owner's password and a logout are not the token's to do.
    env.run_as_stdin(
        &sales,
        &["user", "passwd", "--password-stdin"],
        &format!("{}\nnew-password-1\n", crate::harness::PW),
    )
    .code(7)
    .one_error_line();
    env.run_as(&sales, &["logout"]).code(2).one_error_line();
    env.run_as(&sales, &["whoami"]).ok();

    // The owner demoted below the token's role: the token stops working.
    env.run(&["user", "edit", "ann", "--role", "viewer"]).ok();
    let r = env.run_as(&sales, &["whoami"]);
    r.code(6).one_error_line();
    // (on PostgreSQL the server itself no longer lets its login role in)
    assert!(
        r.stderr.contains("more than its owner") || r.stderr.contains("server refused"),
        "{}",
        r.stderr
    );
    // and works again once the owner may do all it may
    env.run(&["user", "edit", "ann", "--role", "sales"]).ok();
    env.run_as(&sales, &["whoami"]).ok();
    env.run(&["user", "edit", "ann", "--disable"]).ok();
    env.run_as(&sales, &["whoami"]).code(6).one_error_line();
}

#[test]
fn revoked_expired_and_garbage_tokens_are_exit_6() {
    let env = Env::new();
    let t = create(&env, "short", &["--role", "viewer", "--ttl", "1h"]);
    env.run_as(&t, &["find", "customer"]).ok();
    // an hour and a minute later (the test clock): expired
    let later = (now() + 3660).to_string();
    let r = env.run_env(
        &["find", "customer"],
        &[("CRM_TOKEN", &t), ("CRM_TEST_NOW", &later)],
    );
    r.code(6).one_error_line();
    assert!(r.stderr.contains("expired"), "{}", r.stderr);

    let gone = create(&env, "gone", &["--role", "viewer"]);
    env.run(&["token", "revoke", "gone"]).ok();
    let r = env.run_as(&gone, &["find", "customer"]);
    r.code(6).one_error_line();
    assert!(
        r.stderr.contains("revoked") || r.stderr.contains("refused"),
        "{}",
        r.stderr
    );
    env.run(&["token", "revoke", "nosuch"])
        .code(3)
        .one_error_line();
    assert_eq!(
        env.audits(&[("action", "token_revoke"), ("detail", "gone")]),
        1
    );
    // two made, one revoked: the token rows by `--entity token`
    let by_entity = env.read_json(&["audit", "--entity", "token"]);
    assert_eq!(by_entity.as_array().map(Vec::len), Some(3), "{by_entity}");

    // garbage, a well-formed unknown token, and a known lookup with a wrong secret
    let wrong = format!(
        "{}{}",
        &t[..t.len() - 1],
        if t.ends_with('0') { '1' } else { '0' }
    );
    let unknown = format!("crm_0123456789abcdef_{}", "ab".repeat(32));
    for bad in ["crm_garbage", unknown.as_str(), wrong.as_str()] {
        let r = env.run_as(bad, &["find", "customer"]);
        r.code(6).one_error_line();
        assert!(r.stderr.contains("CRM_TOKEN"), "{}", r.stderr);
    }
}

#[test]
fn only_admins_make_tokens_and_never_above_the_owner() {
    let env = Env::new();
    env.add_user("ann", "sales");
    env.add_user("boss", "manager");
    let boss = env.token("boss");
    env.run_as(&boss, &["token", "create", "x", "--role", "viewer"])
        .code(7)
        .one_error_line();
    env.run_as(&boss, &["token", "list"]).code(7);
    env.run_as(&boss, &["token", "revoke", "x"]).code(7);
    let viewer = create(&env, "v", &["--role", "viewer"]);
    env.run_as(&viewer, &["token", "create", "y", "--role", "viewer"])
        .code(7);
    // a token acting as a sales user holds at most sales rights
    for role in ["manager", "admin", "service"] {
        let r = env.run(&["token", "create", "z", "--role", role, "--user", "ann"]);
        r.code(7).one_error_line();
    }
    env.run(&[
        "token", "create", "z", "--role", "sales", "--user", "nobody",
    ])
    .code(3);
    env.run(&["token", "create", "z", "--role", "sales", "--ttl", "0h"])
        .code(2);
    // an admin token may make tokens, admin ones too, named in the log as itself
    let root = create(&env, "root-bot", &["--role", "admin"]);
    let r = env.run_as(&root, &["token", "create", "child", "--role", "admin"]);
    r.ok();
    assert!(r.stdout.starts_with("crm_"));
    assert_eq!(
        env.audits(&[("user", "token:root-bot"), ("action", "token_create")]),
        1
    );
    let rows = env.read_json(&["token", "list"]);
    let child = rows
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["name"] == "child")
        .cloned();
    assert_eq!(child.expect("child listed")["created_by"], "token:root-bot");
}

#[test]
fn on_postgresql_a_token_is_a_login_role_the_server_holds_to_its_rights() {
    let env = Env::new();
    let Some(pg) = &env.pg else {
        println!("SKIPPED (postgres only): the token's own login role");
        return;
    };
    env.add_user("ann", "sales");
    env.add_user("bob", "sales");
    let bobs = env.add("customer", &["--name", "鲍勃的客户", "--owner", "bob"]);
    let t = create(&env, "ann-bot", &["--role", "sales", "--user", "ann"]);
    create(&env, "other", &["--role", "viewer"]);
    let (lookup, secret) = crm::auth::automation::parse(&t).expect("a token");
    let role = crm::db::tokens::login_role(&pg.name, lookup);
    // as with psql: the server applies the token's role and its owner's records
    let mut c = pg
        .login_with(&role, secret)
        .expect("the token logs in as its role");
    let changed = c
        .execute("UPDATE crm.customer SET city = 'x' WHERE id = $1", &[&bobs])
        .expect("an update row security filters");
    assert_eq!(changed, 0, "bob's customer is not the token's");
    crate::pg_harness::denied(
        c.execute(
            "UPDATE crm.users SET role = 'admin' WHERE name = 'ann'",
            &[],
        ),
        "a sales token manages no users",
    );
    let seen: Vec<String> = c
        .query("SELECT name FROM crm.tokens", &[])
        .expect("its own row")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(seen, ["ann-bot"], "a token sees no other token");
    assert!(pg.login_with(&role, "wrong").is_err());
    env.run(&["token", "revoke", "ann-bot"]).ok();
    assert!(pg.login_with(&role, secret).is_err(), "revoked: NOLOGIN");
}
