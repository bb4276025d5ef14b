//! Helpers for the CRM tests: a user session at a fixed moment (the `test-clock` feature's
//! `CRM_TEST_NOW`), and short ways to read records back.

use crate::harness::{Env, PW, Run};

/// Runs `crm` as one user with the clock fixed at one moment.
pub struct At<'a> {
    pub env: &'a Env,
    pub now: String,
    pub token: String,
}

impl<'a> At<'a> {
    /// Logs `user` in at `now` (a session must begin before the moments it is used at).
    pub fn new(env: &'a Env, user: &str, now: &str) -> At<'a> {
        let out = env
            .cmd()
            .env("CRM_TEST_NOW", now)
            .args([
                "login",
                "--user",
                user,
                "--password-stdin",
                "--print-token",
                "--ttl",
                "300d",
            ])
            .write_stdin(PW)
            .output()
            .expect("run crm login");
        assert!(
            out.status.success(),
            "login: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        At {
            env,
            now: now.to_string(),
            token: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_at(&self.now, args)
    }

    /// Runs at another moment of the same session.
    pub fn run_at(&self, now: &str, args: &[&str]) -> Run {
        self.env
            .run_env(args, &[("CRM_TEST_NOW", now), ("CRM_TOKEN", &self.token)])
    }

    /// `add -q` and the new id.
    #[track_caller]
    pub fn add(&self, entity: &str, fields: &[&str]) -> i64 {
        let mut args = vec!["add", entity, "-q"];
        args.extend_from_slice(fields);
        let r = self.run(&args);
        r.ok();
        r.stdout.trim().parse().expect("add printed an id")
    }
}

/// One field of a record as JSON, through `crm show`.
#[track_caller]
pub fn field(env: &Env, entity: &str, id: i64, name: &str) -> serde_json::Value {
    env.run(&["show", entity, &id.to_string(), "--format", "json"])
        .ok()
        .json()[name]
        .clone()
}

/// The ids of a JSON array of records.
pub fn ids(v: &serde_json::Value) -> Vec<i64> {
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|r| r["id"].as_i64().expect("an id"))
        .collect()
}

/// A customer to hang records on.
pub fn customer(env: &Env, name: &str) -> i64 {
    env.add("customer", &["--name", name])
}

/// Starts `crm` as a child process in the env (for commands that must race each other).
pub fn spawn(env: &Env, args: &[&str]) -> std::process::Child {
    env.hermetic(Env::bin())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn crm")
}

/// Runs the same command in `n` processes at once; their exit statuses, sorted.
pub fn race(env: &Env, n: usize, args: &[&str]) -> Vec<i32> {
    let children: Vec<_> = (0..n).map(|_| spawn(env, args)).collect();
    let mut codes: Vec<i32> = children
        .into_iter()
        .map(|c| {
            c.wait_with_output()
                .expect("wait")
                .status
                .code()
                .unwrap_or(-1)
        })
        .collect();
    codes.sort_unstable();
    codes
}
