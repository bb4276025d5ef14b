//! Prompts driven through a real pseudo-terminal (expectrl): `add` asks for what is missing
//! with a select list for choices and re-asks an invalid value, `login` never echoes the
//! password, `edit` walks every field with its current value as the default.

use std::time::Duration;

use expectrl::{Eof, Session};

use crate::harness::{Env, PW};

/// A `crm` session on a pty, recording everything shown on the screen.
pub(crate) struct Pty {
    pub(crate) s: Session,
    screen: String,
}

impl Pty {
    pub(crate) fn spawn(env: &Env, args: &[&str]) -> Pty {
        Self::spawn_env(env, args, &[("NO_COLOR", "1")])
    }
    fn spawn_env(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Pty {
        Self::spawn_prog(env, Env::bin().as_os_str(), args, vars)
    }
    /// `crm` run by a shell that then waits for a line, so the pty stays open until every
    /// byte of a quickly exiting command has been read.
    pub(crate) fn spawn_held(env: &Env, args: &str, vars: &[(&str, &str)]) -> Pty {
        let script = format!("\"$CRM\" {args}; echo \"exit=$?\"; read x");
        let mut vars = vars.to_vec();
        let bin = Env::bin();
        vars.push(("CRM", bin.to_str().unwrap()));
        Self::spawn_prog(env, "sh".as_ref(), &["-c", &script], &vars)
    }
    /// `crm ARGS` on a pty `cols` wide: the whole screen, `\r` removed (the command must
    /// exit 0). The size is set while the shell waits for a line: the pty library sets 80x24
    /// itself right after the fork, which would race with a size set inside the child.
    pub(crate) fn screen_at(env: &Env, cols: u16, args: &str) -> String {
        let script = format!("read go; \"$CRM\" {args}; echo \"exit=$?\"; read x");
        let bin = Env::bin();
        let mut p = Self::spawn_prog(
            env,
            "sh".as_ref(),
            &["-c", &script],
            &[
                ("CRM", bin.to_str().expect("utf-8 path")),
                ("NO_COLOR", "1"),
            ],
        );
        p.s.get_process_mut()
            .set_window_size(cols, 60)
            .expect("set the pty size");
        p.send(ENTER);
        p.wait("exit=0");
        p.send(ENTER);
        p.finish().1.replace('\r', "")
    }
    pub(crate) fn spawn_prog(
        env: &Env,
        prog: &std::ffi::OsStr,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> Pty {
        let mut c = std::process::Command::new(prog);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", env.dir.path())
            .env("XDG_DATA_HOME", env.path("data"))
            .env("XDG_STATE_HOME", env.path("state"))
            .env("CRM_DB", &env.db)
            .env("TERM", "xterm")
            .env("TZ", "Asia/Shanghai");
        for (k, v) in vars {
            c.env(k, v);
        }
        let mut s = Session::spawn(c).expect("spawn on a pty");
        s.set_expect_timeout(Some(Duration::from_secs(20)));
        Pty {
            s,
            screen: String::new(),
        }
    }
    #[track_caller]
    pub(crate) fn wait(&mut self, text: &str) {
        match self.s.expect(text) {
            Ok(found) => {
                self.screen
                    .push_str(&String::from_utf8_lossy(found.before()));
                for m in found.matches() {
                    self.screen.push_str(&String::from_utf8_lossy(m));
                }
            }
            Err(e) => panic!("waiting for {text:?}: {e}; screen so far:\n{}", self.screen),
        }
    }
    pub(crate) fn send(&mut self, keys: &str) {
        self.s.send(keys).expect("send keys");
    }
    /// Reads to the end and returns the exit status.
    pub(crate) fn finish(mut self) -> (i32, String) {
        if let Ok(found) = self.s.expect(Eof) {
            self.screen
                .push_str(&String::from_utf8_lossy(found.before()));
        }
        let status = self.s.get_process().wait().expect("wait");
        let code = match status {
            expectrl::WaitStatus::Exited(_, c) => c,
            other => panic!("not exited: {other:?}"),
        };
        (code, self.screen)
    }
}

pub(crate) const ENTER: &str = "\r";
/// The Chinese labels `edit customer` walks through, in order.
pub(crate) const CUSTOMER_LABELS: [&str; 16] = [
    "客户编号",
    "客户名称",
    "客户类型",
    "所属行业",
    "客户等级",
    "客户状态",
    "客户来源",
    "负责人",
    "电话",
    "邮箱",
    "网址",
    "城市",
    "地址",
    "标签",
    "信用代码",
    "备注",
];
const DOWN: &str = "\x1b[B";

#[test]
fn login_prompts_hide_the_password() {
    let env = Env::new();
    let secret = "s3cret-påss-口令-42";
    env.run_stdin(
        &["user", "add", "ann", "--role", "sales", "--password-stdin"],
        secret,
    )
    .ok();
    let mut p = Pty::spawn(&env, &["login"]);
    p.wait("User");
    p.send("ann\r");
    p.wait("Password");
    p.send(secret);
    p.send(ENTER);
    p.wait("logged in as ann");
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(
        !screen.contains(secret),
        "the password was echoed:\n{screen}"
    );
    assert!(!screen.contains("s3cret"), "not even partly:\n{screen}");
    assert_eq!(
        env.run(&["whoami", "--format", "json"]).ok().json()["name"],
        "ann"
    );
    // a wrong password on the terminal: exit 6, still not echoed
    let mut p = Pty::spawn(&env, &["login", "--user", "ann"]);
    p.wait("Password");
    p.send("wrong-one-xyz\r");
    p.wait("login failed");
    let (code, screen) = p.finish();
    assert_eq!(code, 6, "{screen}");
    assert!(!screen.contains("wrong-one-xyz"));
}

#[test]
fn add_customer_asks_for_the_name_and_the_choices() {
    let env = Env::new();
    let mut p = Pty::spawn(&env, &["add", "customer", "--format", "json"]);
    p.wait("客户名称");
    p.send("终端客户\r");
    p.wait("客户类型"); // kind: company (default), person
    p.send(DOWN);
    p.send(ENTER);
    p.wait("客户等级"); // level: A..D, (none) preselected
    p.send(ENTER);
    p.wait("客户状态"); // status: prospect preselected
    p.send(DOWN);
    p.send(ENTER);
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    let j = env
        .run(&["find", "customer", "--format", "json"])
        .ok()
        .json();
    assert_eq!(j[0]["name"], "终端客户");
    assert_eq!(j[0]["kind"], "person");
    assert_eq!(
        j[0]["level"],
        serde_json::Value::Null,
        "Enter on an empty optional choice keeps it empty"
    );
    assert_eq!(j[0]["status"], "active");
}

#[test]
fn add_contact_reasks_an_invalid_value() {
    let env = Env::new();
    env.add("customer", &["--name", "Acme", "--code", "ACME"]);
    let mut p = Pty::spawn(&env, &["add", "contact", "--name", "王五"]);
    p.wait("所属客户");
    p.send("NOPE\r");
    p.wait("no customer with id or key 'NOPE'");
    p.wait("所属客户"); // asked again
    p.send("ACME\r");
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    let j = env
        .run(&["find", "contact", "--format", "json"])
        .ok()
        .json();
    assert_eq!(j[0]["customer"], "ACME");
    assert_eq!(j[0]["name"], "王五");
}

#[test]
fn edit_walks_every_field_with_current_values_as_defaults() {
    let env = Env::new();
    let id = env.add(
        "customer",
        &[
            "--name",
            "Acme",
            "--city",
            "深圳",
            "--tags",
            "vip;华南",
            "--email",
            "a@b.cn",
            "--level",
            "B",
        ],
    );
    let before = env.audits(&[("action", "update")]);
    let mut p = Pty::spawn(&env, &["edit", "customer", &id.to_string()]);
    for label in CUSTOMER_LABELS {
        p.wait(label);
        match label {
            "邮箱" => {
                p.wait("a@b.cn"); // the current value is offered
                p.send("not-an-email\r");
                p.wait("invalid email");
                p.wait("邮箱");
                p.send(ENTER); // back to the default
            }
            "城市" => p.send("广州\r"),
            _ => p.send(ENTER),
        }
    }
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(
        env.audits(&[("action", "update")]) - before,
        1,
        "only the city changed"
    );
    let j = env
        .run(&["show", "customer", &id.to_string(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(j["city"], "广州");
    assert_eq!(j["email"], "a@b.cn");
    assert_eq!(j["level"], "B");
    assert_eq!(j["tags"], serde_json::json!(["vip", "华南"]));
    let _ = PW;
}

#[test]
fn delete_asks_on_a_terminal() {
    let env = Env::new();
    let id = env.add("customer", &["--name", "Acme"]).to_string();
    let mut p = Pty::spawn(&env, &["delete", "customer", &id]);
    p.wait("Delete customer");
    p.send("n");
    let (code, _) = p.finish();
    assert_ne!(code, 0);
    assert_eq!(env.count("customer"), 1);
    let mut p = Pty::spawn(&env, &["delete", "customer", &id]);
    p.wait("Delete customer");
    p.send("y");
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(env.count("customer"), 0);
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let env = Env::new();
    let run = |args: &str, vars: &[(&str, &str)]| {
        let mut p = Pty::spawn_held(&env, args, vars);
        p.wait("exit=3");
        p.send(ENTER);
        let (_, screen) = p.finish();
        assert!(screen.contains("error:"), "{screen:?}");
        screen
    };
    let screen = run("show customer 999", &[]);
    assert!(
        screen.contains("\x1b[31merror:"),
        "coloured on a terminal: {screen:?}"
    );
    let screen = run("show customer 999", &[("NO_COLOR", "1")]);
    assert!(!screen.contains('\x1b'), "{screen:?}");
    let screen = run("show customer 999 --color never", &[]);
    assert!(!screen.contains('\x1b'), "{screen:?}");
}
