//! `crm report` through the binary: one data set per report with answers worked out by
//! hand, checked figure by figure. Needs the `test-clock` feature: records are created at
//! fixed moments (`CRM_TEST_NOW`) so that creation times, the audit log's status changes
//! and "now" are known. Stage history, `closed_at` and `resolved_at` come from crm's own
//! rules: each change is made through crm at its moment, so the data sets hold on any engine.

#![cfg(feature = "test-clock")]
// Test data reads best as short names and literal tables.
#![allow(
    clippy::many_single_char_names,
    clippy::type_complexity,
    clippy::format_push_string
)]

use serde_json::Value as J;

use crate::harness::{Env, PW, Run};

mod activities;
mod contracts;
mod customers;
mod funnel;
mod sales;
mod service;
mod shape;

/// The moment the test session starts; it lasts 366 days, so every moment used lies between.
pub const T0: &str = "2025-10-01T00:00:00+08:00";
/// "Now" for report runs (each report also gets an explicit --as-of).
pub const NOW: &str = "2026-09-30T00:00:00+08:00";

/// Unix seconds of an RFC 3339 moment.
pub fn ts(s: &str) -> i64 {
    crm::schema::kinds::parse_datetime(s).expect("test moment")
}

/// An environment whose admin session is valid for all of 2026 on the test clock.
pub struct Rep {
    pub env: Env,
}

impl Rep {
    pub fn new() -> Rep {
        let env = Env::new();
        let rep = Rep { env };
        rep.stdin_at(
            T0,
            &[
                "login",
                "--user",
                "admin",
                "--password-stdin",
                "--ttl",
                "366d",
            ],
        )
        .ok();
        rep
    }

    fn stdin_at(&self, now: &str, args: &[&str]) -> Run {
        let o = self
            .env
            .cmd()
            .env("CRM_TEST_NOW", now)
            .args(args)
            .write_stdin(PW)
            .output()
            .expect("run crm");
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Runs at a moment of the test clock.
    pub fn at(&self, now: &str, args: &[&str]) -> Run {
        self.env.run_env(args, &[("CRM_TEST_NOW", now)])
    }

    /// Adds a record at a moment; returns its id.
    #[track_caller]
    pub fn add(&self, now: &str, entity: &str, fields: &[&str]) -> i64 {
        let mut args = vec!["add", entity, "-q"];
        args.extend_from_slice(fields);
        let r = self.at(now, &args);
        r.ok();
        r.stdout.trim().parse().expect("add prints the id")
    }

    /// Adds a user with a role.
    pub fn user(&self, name: &str, role: &str) {
        self.stdin_at(
            T0,
            &["user", "add", name, "--role", role, "--password-stdin"],
        )
        .ok();
    }

    /// A session token for a user, valid on the test clock.
    pub fn token(&self, name: &str) -> String {
        self.stdin_at(
            T0,
            &[
                "login",
                "--user",
                name,
                "--password-stdin",
                "--ttl",
                "366d",
                "--print-token",
            ],
        )
        .ok()
        .stdout
        .trim()
        .to_string()
    }

    /// `crm --format json report …` as JSON.
    #[track_caller]
    pub fn report(&self, args: &[&str]) -> J {
        let mut a = vec!["--format", "json", "report"];
        a.extend_from_slice(args);
        self.at(NOW, &a).ok().json()
    }
}

/// (numerator, denominator) of a rate object.
#[track_caller]
pub fn parts(v: &J) -> (i64, i64) {
    (
        v["numerator"]
            .as_i64()
            .unwrap_or_else(|| panic!("no numerator in {v}")),
        v["denominator"]
            .as_i64()
            .unwrap_or_else(|| panic!("no denominator in {v}")),
    )
}

/// The row of a section whose `key` column equals `value`.
#[track_caller]
pub fn row<'a>(section: &'a J, key: &str, value: &str) -> &'a J {
    section
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {section}"))
        .iter()
        .find(|r| r[key].as_str() == Some(value))
        .unwrap_or_else(|| panic!("no row with {key}={value} in {section}"))
}
