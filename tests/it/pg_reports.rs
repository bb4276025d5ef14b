//! Reports on `PostgreSQL` read what they read on `SQLite`: the same data set copied from one
//! engine to the other prints byte-identical reports (the `PostgreSQL` queries are shaped
//! for its planner — owners by a loose index scan, one pass over the customers — and must
//! not change a figure), and a copy leaves the planner's statistics behind, so the first
//! reports after it are planned for the rows that are there.

use crate::harness::{Env, PW};
use crate::pg_cli::url_of;
use crate::pg_harness;

/// Every report, as `bench_reports.sh` runs them.
const REPORTS: [&[&str]; 10] = [
    &["funnel"],
    &["funnel", "--by", "owner"],
    &["sales"],
    &["sales", "--by", "owner"],
    &["customers"],
    &["customers", "--owner", "li.lei"],
    &["service"],
    &["service", "--by", "month"],
    &["contracts"],
    &["activities"],
];

/// The demo data set on `SQLite`, with a customer lacking the profile fields and one
/// follow-up per owner done now (so the neglected counts subtract some).
fn source() -> Env {
    let mut env = Env::empty();
    env.db = env.path("demo.db");
    let demo = env.db.to_str().unwrap().to_string();
    env.run(&["demo", "--path", &demo]).ok();
    let bare = env.add("customer", &["--name", "Bare Co", "--code", "BARE-1"]);
    env.add(
        "activity",
        &[
            "--customer",
            &bare.to_string(),
            "--subject",
            "call",
            "--owner",
            "li.lei",
        ],
    );
    env
}

/// Another environment (its own home and sessions) on database `db`.
fn on(db: &str) -> Env {
    let mut env = Env::empty();
    env.db = db.into();
    env
}

/// Each report's JSON on `env`, as of `as_of`.
fn reports(env: &Env, as_of: &str) -> Vec<String> {
    REPORTS
        .iter()
        .map(|args| {
            let mut a = vec!["--format", "json", "report"];
            a.extend_from_slice(args);
            a.extend_from_slice(&["--as-of", as_of]);
            let r = env.run(&a);
            r.ok();
            r.stdout.clone()
        })
        .collect()
}

#[test]
fn every_report_reads_the_same_on_both_engines() {
    let Some(pg) = pg_harness::fresh("every_report_reads_the_same_on_both_engines") else {
        return;
    };
    let url = url_of(&pg);
    let src = source();
    let first = src.run(&["--format", "json", "report", "activities"]);
    let as_of = first.ok().json()["params"]["as_of"]
        .as_str()
        .unwrap()
        .to_string();
    src.run_stdin(&["copy", "--to", &url, "--password-stdin"], PW)
        .ok();
    let dst = on(&url);
    dst.run_stdin(&["login", "--user", "admin", "--password-stdin"], PW)
        .ok();
    let want = reports(&src, &as_of);
    let got = reports(&dst, &as_of);
    for ((args, w), g) in REPORTS.iter().zip(&want).zip(&got) {
        assert!(w.len() > 100, "report {args:?} is empty: {w}");
        assert_eq!(w, g, "report {args:?} differs on PostgreSQL");
    }
    // The figures the PostgreSQL-only query shapes compute are there to compare.
    let activities: serde_json::Value = serde_json::from_str(&want[9]).unwrap();
    assert!(activities["summary"]["done"].as_i64().unwrap() > 0);
    assert!(
        activities["summary"]["neglected_customers"]
            .as_i64()
            .unwrap()
            > 0
    );
}

#[test]
fn a_copy_to_postgresql_leaves_statistics_for_the_planner() {
    let Some(pg) = pg_harness::fresh("a_copy_to_postgresql_leaves_statistics_for_the_planner")
    else {
        return;
    };
    let url = url_of(&pg);
    let src = source();
    src.run_stdin(&["copy", "--to", &url, "--password-stdin"], PW)
        .ok();
    let mut admin = pg.admin();
    for table in ["customer", "activity", "audit"] {
        let rows: i64 = admin
            .query_one(&format!("SELECT count(*) FROM crm.{table}"), &[])
            .unwrap()
            .get(0);
        // reltuples is -1 until a table is first analyzed (or vacuumed).
        let tuples: f32 = admin
            .query_one(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass('crm.' || $1)",
                &[&table],
            )
            .unwrap()
            .get(0);
        #[allow(clippy::cast_precision_loss)]
        let want = rows as f32;
        assert!(rows > 0, "{table} is empty");
        assert!(
            (tuples - want).abs() < 1.0,
            "{table}: {tuples} planned rows, {rows} there"
        );
    }
}
