//! Login, sessions, tokens and passwords through the binary: init, login/logout/whoami,
//! the token file's permissions, revocation, password limits, the one login failure message.

use std::os::unix::fs::PermissionsExt;

use crate::harness::{Env, PW, engine_is_postgres, skip_unless_sqlite, text};

fn token_file(env: &Env) -> std::path::PathBuf {
    let dir = env.path("state").join("crm");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("state dir")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one token file: {files:?}");
    files.pop().unwrap()
}

#[test]
fn init_login_whoami_logout() {
    let env = Env::empty();
    env.run(&["whoami"]).code(9).one_error_line(); // no database yet
    env.run_stdin(&["init", "--admin", "root", "--password-stdin"], PW)
        .ok();
    if !engine_is_postgres() {
        // the SQLite file's mode
        let mode = std::fs::metadata(&env.db).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "database created 0600");
    }
    // init on an existing database: exit 5, nothing changed
    let root = env.token("root");
    let users = || {
        env.read_json_as(&root, &["user", "list"])
            .as_array()
            .map(Vec::len)
    };
    let before = users();
    env.run_stdin(&["init", "--password-stdin"], PW)
        .code(5)
        .one_error_line();
    assert_eq!(users(), before);
    env.run(&["whoami"]).code(6).one_error_line();
    env.run(&["find", "customer"]).code(6).one_error_line();
    // no terminal and no --password-stdin: a usage error naming the flag
    let r = env.run(&["login", "--user", "root"]);
    r.code(2).one_error_line();
    assert!(r.stderr.contains("--password-stdin"));
    env.run_stdin(&["login", "--user", "root", "--password-stdin"], PW)
        .ok();
    let who = env.run(&["whoami", "--format", "json"]).ok().json();
    assert_eq!(
        (&who["name"], &who["role"]),
        (&"root".into(), &"admin".into())
    );
    env.assert_shows_db(who["database"].as_str().expect("database"));
    // PostgreSQL adds the login role the server knows the session by; both the session's
    // expiry.
    let keys = who.as_object().expect("object").len();
    assert_eq!(keys, if engine_is_postgres() { 5 } else { 4 }, "{who}");
    assert!(who["expires_at"].is_string(), "{who}");
    // the token file: 0600 in a 0700 directory, and the token appears nowhere else
    let tf = token_file(&env);
    assert_eq!(
        std::fs::metadata(&tf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(tf.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let token = std::fs::read_to_string(&tf).unwrap().trim().to_string();
    let hits = env.audits_by(|r| {
        ["detail", "new"]
            .iter()
            .any(|k| text(&r[*k]).is_some_and(|t| t.contains(&token)))
    });
    assert_eq!(hits, 0, "the token is not in the audit log");
    if !engine_is_postgres() {
        // sessions table internals: only a hash of the token is stored
        let stored = env.sql_int(&format!(
            "SELECT COUNT(*) FROM sessions WHERE token_hash = '{token}'"
        ));
        assert_eq!(stored, 0, "only a hash of the token is stored");
    }
    // logout revokes the token in the database: a copy stops working
    env.run(&["logout"]).ok();
    assert!(!tf.exists());
    env.run(&["whoami"]).code(6).one_error_line();
    env.run_env(&["whoami"], &[("CRM_TOKEN", &token)])
        .code(6)
        .one_error_line();
    env.run_env(&["whoami"], &[("CRM_TOKEN", "garbage")])
        .code(6)
        .one_error_line();
    env.login("root");
    assert!(env.audits(&[("action", "logout"), ("user", "root")]) == 1);
}

#[test]
fn token_file_readable_by_others_is_refused() {
    let env = Env::new();
    let tf = token_file(&env);
    env.run(&["whoami"]).ok();
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = env.run(&["whoami"]);
    r.code(6).one_error_line();
    assert!(r.stderr.contains("readable by others"), "{}", r.stderr);
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.run(&["whoami"]).ok();
}

#[test]
fn print_token_and_crm_token() {
    let env = Env::new();
    let t = env.token("admin");
    if !engine_is_postgres() {
        // On PostgreSQL the token also carries the login role's credentials.
        assert_eq!(t.len(), 64, "a 256-bit hex token");
    }
    let r = env.run_as(&t, &["whoami", "--format", "json"]);
    assert_eq!(r.ok().json()["name"], "admin");
    assert!(!r.stderr.contains(&t));
    // logging out the CRM_TOKEN session leaves the saved session alone
    env.run_as(&t, &["logout"]).ok();
    env.run_as(&t, &["whoami"]).code(6).one_error_line();
    env.run(&["whoami"]).ok();
}

#[test]
fn one_message_for_every_login_failure_and_true_reasons_audited() {
    let env = Env::new();
    env.add_user("dora", "sales");
    env.add_user("dis", "viewer");
    env.run(&["user", "edit", "dis", "--disable"]).ok();
    let unknown = env.run_stdin(&["login", "--user", "nobody", "--password-stdin"], PW);
    let wrong = env.run_stdin(
        &["login", "--user", "dora", "--password-stdin"],
        "wrong password!",
    );
    let disabled = env.run_stdin(&["login", "--user", "dis", "--password-stdin"], PW);
    for r in [&unknown, &wrong, &disabled] {
        r.code(6).one_error_line();
    }
    assert_eq!(unknown.stderr, wrong.stderr);
    assert_eq!(wrong.stderr, disabled.stderr);
    // The reasons are audited where crm sees the attempt: on PostgreSQL the server refuses
    // the connection before crm can write anything (the one message holds on both).
    if !crate::harness::engine_is_postgres() {
        assert_eq!(
            env.audits(&[
                ("action", "login_failed"),
                ("user", "nobody"),
                ("detail", "unknown user")
            ]),
            1
        );
        assert_eq!(
            env.audits(&[
                ("action", "login_failed"),
                ("user", "dora"),
                ("detail", "wrong password")
            ]),
            1
        );
        assert_eq!(
            env.audits(&[
                ("action", "login_failed"),
                ("user", "dis"),
                ("detail", "account disabled")
            ]),
            1
        );
    }
    // a disabled user's existing session stops working too
    env.run(&["user", "edit", "dis", "--enable"]).ok();
    let t = env.token("dis");
    env.run(&["user", "edit", "dis", "--disable"]).ok();
    env.run_as(&t, &["whoami"]).code(6).one_error_line();
}

#[test]
fn password_limits_and_non_ascii() {
    let env = Env::new();
    let long = "a".repeat(1025);
    let r = env.run_stdin(
        &[
            "user",
            "add",
            "long",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        &long,
    );
    r.code(4).one_error_line();
    assert!(r.stderr.contains("too long"));
    assert_eq!(
        env.users().iter().filter(|u| u["name"] == "long").count(),
        0
    );
    let r = env.run_stdin(&["login", "--user", "admin", "--password-stdin"], &long);
    r.code(4).one_error_line();
    assert!(r.stderr.contains("too long"), "refused, not truncated");
    env.run_stdin(
        &[
            "user",
            "add",
            "short",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "1234567",
    )
    .code(4)
    .one_error_line();
    let max = "b".repeat(1024);
    env.run_stdin(
        &["user", "add", "max", "--role", "viewer", "--password-stdin"],
        &max,
    )
    .ok();
    env.run_stdin(
        &[
            "login",
            "--user",
            "max",
            "--password-stdin",
            "--print-token",
        ],
        &max,
    )
    .ok();
    let zh = "密码：我的口令🔑 très sûr";
    env.run_stdin(
        &["user", "add", "zh", "--role", "viewer", "--password-stdin"],
        zh,
    )
    .ok();
    env.run_stdin(
        &["login", "--user", "zh", "--password-stdin", "--print-token"],
        zh,
    )
    .ok();
    env.run_stdin(
        &["login", "--user", "zh", "--password-stdin"],
        "密码：我的口令🔑 tres sur",
    )
    .code(6)
    .one_error_line();
    // no flag takes a password as an argument
    env.run(&["login", "--user", "zh", "--password", "x"])
        .code(2)
        .one_error_line();
    // passwd changes it and ends the user's other sessions
    let other = env
        .run_stdin(
            &["login", "--user", "zh", "--password-stdin", "--print-token"],
            zh,
        )
        .ok()
        .stdout
        .trim()
        .to_string();
    env.run_as(&other, &["whoami"]).ok();
    env.run_stdin(
        &["user", "passwd", "zh", "--password-stdin"],
        "new password 1",
    )
    .ok();
    env.run_as(&other, &["whoami"]).code(6);
    env.run_stdin(
        &["login", "--user", "zh", "--password-stdin", "--print-token"],
        "new password 1",
    )
    .ok();
}

#[test]
fn five_failures_lock_and_parallel_attempts_are_counted_exactly() {
    if crate::harness::skip_unless_sqlite(
        "lockout is the server's on PostgreSQL: a refused login never reaches crm (README: Team server)",
    ) {
        return;
    }
    let env = Env::new();
    env.add_user("bob", "sales");
    let children: Vec<_> = (0..8)
        .map(|i| login_with(&env, "bob", &format!("wrong {i}\n")))
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let first_err = String::from_utf8_lossy(&outs[0].stderr).to_string();
    for o in &outs {
        assert_eq!(o.status.code(), Some(6));
        assert_eq!(String::from_utf8_lossy(&o.stderr), first_err, "one message");
    }
    assert_eq!(
        env.audits_by(|r| r["user"] == "bob"
            && r["action"] == "login_failed"
            && text(&r["detail"]).is_some_and(|d| d.starts_with("wrong password"))),
        5
    );
    assert_eq!(
        env.audits(&[
            ("user", "bob"),
            ("action", "login_failed"),
            ("detail", "account locked")
        ]),
        3
    );
    // now even the right password is refused, with the same message
    let r = env.run_stdin(&["login", "--user", "bob", "--password-stdin"], PW);
    r.code(6);
    assert_eq!(r.stderr, first_err);
    let locked = env.run(&["user", "list", "--format", "json"]).ok().json();
    assert!(
        locked
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["name"] == "bob" && u["locked"] == true)
    );
    env.run(&["audit", "--verify"]).ok(); // parallel writers kept one hash chain
    // an admin can lift it
    env.run(&["user", "edit", "bob", "--enable"]).ok();
    env.run_stdin(
        &[
            "login",
            "--user",
            "bob",
            "--password-stdin",
            "--print-token",
        ],
        PW,
    )
    .ok();
}

#[cfg(feature = "test-clock")]
mod clock {
    use super::*;

    const T0: i64 = 1_800_000_000;

    fn at(env: &Env, t: i64, args: &[&str], stdin: Option<&str>) -> crate::harness::Run {
        let now = t.to_string();
        match stdin {
            Some(s) => {
                let mut c = env.cmd();
                c.env("CRM_TEST_NOW", &now);
                let o = c.args(args).write_stdin(s.to_string()).output().unwrap();
                crate::harness::Run {
                    code: o.status.code().unwrap_or(-1),
                    stdout: String::from_utf8_lossy(&o.stdout).into(),
                    stderr: String::from_utf8_lossy(&o.stderr).into(),
                }
            }
            None => env.run_env(args, &[("CRM_TEST_NOW", &now)]),
        }
    }

    #[test]
    fn lockout_lifts_after_15_minutes_and_not_by_setting_the_clock_back() {
        if crate::harness::skip_unless_sqlite(
            "lockout is the server's on PostgreSQL: a refused login never reaches crm (README: Team server)",
        ) {
            return;
        }
        let env = Env::new();
        env.add_user("bob", "sales");
        let login = [
            "login",
            "--user",
            "bob",
            "--password-stdin",
            "--print-token",
        ];
        for i in 0..5 {
            at(&env, T0 + i, &login, Some("wrong password")).code(6);
        }
        at(&env, T0 + 10, &login, Some(PW)).code(6);
        at(&env, T0 - 3600, &login, Some(PW)).code(6); // clock set back: still locked
        at(&env, T0 + 4 + 899, &login, Some(PW)).code(6);
        at(&env, T0 + 4 + 900, &login, Some(PW)).ok();
        // four failures then a success reset the count
        for i in 0..4 {
            at(&env, T0 + 1000 + i, &login, Some("wrong password")).code(6);
        }
        at(&env, T0 + 1010, &login, Some(PW)).ok();
        at(&env, T0 + 1011, &login, Some("wrong password")).code(6);
        at(&env, T0 + 1012, &login, Some(PW)).ok();
    }

    #[test]
    fn sessions_expire_after_8h_or_ttl_and_a_clock_set_back_does_not_revive() {
        let env = Env::new();
        let login = |ttl: &str| {
            at(
                &env,
                T0,
                &[
                    "login",
                    "--user",
                    "admin",
                    "--password-stdin",
                    "--print-token",
                    "--ttl",
                    ttl,
                ],
                Some(PW),
            )
            .ok()
            .stdout
            .trim()
            .to_string()
        };
        let who = |t: &str, now: i64| {
            let mut c = env.cmd();
            c.env("CRM_TOKEN", t).env("CRM_TEST_NOW", now.to_string());
            c.arg("whoami").output().unwrap().status.code().unwrap()
        };
        let eight = login("8h");
        assert_eq!(who(&eight, T0 + 8 * 3600 - 1), 0);
        assert_eq!(who(&eight, T0 + 8 * 3600), 6);
        assert_eq!(
            who(&eight, T0 + 60),
            6,
            "clock moved back does not revive it"
        );
        let short = login("90s");
        assert_eq!(who(&short, T0 + 89), 0);
        assert_eq!(who(&short, T0 + 90), 6);
        let before = login("7d");
        assert_eq!(who(&before, T0 - 10), 6, "a clock before the session began");
        let week = login("7d");
        assert_eq!(who(&week, T0 + 6 * 86_400), 0);
        at(
            &env,
            T0,
            &[
                "login",
                "--user",
                "admin",
                "--password-stdin",
                "--ttl",
                "8x",
            ],
            Some(PW),
        )
        .code(2);
        at(
            &env,
            T0,
            &[
                "login",
                "--user",
                "admin",
                "--password-stdin",
                "--ttl",
                "0s",
            ],
            Some(PW),
        )
        .code(2);
    }
}

#[test]
fn user_commands_and_their_exit_codes() {
    let env = Env::new();
    env.add_user("bob", "sales");
    env.run_stdin(
        &["user", "add", "bob", "--role", "viewer", "--password-stdin"],
        PW,
    )
    .code(5)
    .one_error_line();
    env.run(&["user", "add", "x", "--role", "king", "--password-stdin"])
        .code(2)
        .one_error_line();
    env.run(&["user", "add", "x"]).code(2).one_error_line();
    env.run(&["user", "edit", "nobody", "--role", "viewer"])
        .code(3)
        .one_error_line();
    env.run(&["user", "edit", "bob"]).code(2).one_error_line();
    env.run(&["user", "edit", "bob", "--disable", "--enable"])
        .code(2)
        .one_error_line();
    env.run_stdin(&["user", "passwd", "nobody", "--password-stdin"], PW)
        .code(3)
        .one_error_line();
    env.run_stdin(
        &[
            "user",
            "add",
            " padded",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        PW,
    )
    .code(4)
    .one_error_line();
    // the last enabled admin can be neither demoted nor disabled
    let admins = || env.users().iter().filter(|u| u["role"] == "admin").count();
    let users_before = admins();
    let r = env.run(&["user", "edit", "admin", "--role", "viewer"]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("last enabled admin"), "{}", r.stderr);
    assert_eq!(admins(), users_before);
    env.run(&["user", "edit", "admin", "--disable"])
        .code(5)
        .one_error_line();
    env.run(&["user", "edit", "bob", "--role", "admin"]).ok();
    env.run(&["user", "edit", "admin", "--role", "viewer"]).ok();
    let list = env.run(&["user", "list", "--format", "json"]);
    list.code(7).one_error_line(); // admin is a viewer now, on its very next command
    assert!(list.stderr.contains("manage users"), "{}", list.stderr);
    let bob = env.token("bob");
    let list = env
        .run_as(&bob, &["user", "list", "--format", "json"])
        .ok()
        .json();
    let roles: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().into(),
                u["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("admin".into(), "viewer".into()),
            ("bob".into(), "admin".into())
        ]
    );
    assert!(
        env.read_json_as(&bob, &["audit"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "user_edit"
                && r["field"] == "role"
                && r["old"] == "admin"
                && r["new"] == "viewer")
            .count()
            == 1
    );
}

#[test]
fn parallel_logins_saving_the_token_file_all_succeed_and_keep_it_private() {
    use std::os::unix::fs::DirBuilderExt;
    let env = Env::empty();
    env.run_stdin(&["init", "--password-stdin"], PW).ok();
    let dir = env.path("state").join("crm");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&dir)
        .unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| login_with(&env, "admin", &format!("{PW}\n")))
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    token_file(&env); // exactly one file, no temp files left
    env.run(&["whoami"]).ok();
}

#[test]
fn init_finishes_a_database_left_without_users_by_a_killed_init() {
    if skip_unless_sqlite("empties the users table behind crm's back") {
        return;
    }
    let env = Env::empty();
    env.run_stdin(&["init", "--password-stdin"], PW).ok();
    // as if `crm init` was killed after the schema but before the first user
    env.sql().execute_batch("DELETE FROM users").unwrap();
    env.run_stdin(&["init", "--admin", "boss", "--password-stdin"], PW)
        .ok();
    env.run_stdin(&["login", "--user", "boss", "--password-stdin"], PW)
        .ok();
    env.run_stdin(&["init", "--password-stdin"], PW)
        .code(5)
        .one_error_line();
    // a file that is not a crm database is never overwritten by init
    let other = env.path("notes.txt");
    std::fs::write(&other, "my notes").unwrap();
    let r = env.run_stdin(
        &["--db", other.to_str().unwrap(), "init", "--password-stdin"],
        PW,
    );
    assert_ne!(r.code, 0);
    r.one_error_line();
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "my notes");
}

/// Starts `crm login --user USER --password-stdin` without waiting, the password written to
/// its stdin, so several logins can race.
fn login_with(env: &Env, user: &str, password: &str) -> std::process::Child {
    use std::io::Write;
    let mut child = env.spawn(&["login", "--user", user, "--password-stdin"]);
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write the password");
    child
}
