//! Where the parts meet: bulk import runs the same rules and derived-value upkeep as the
//! commands (stage history, a customer's last contact, an order's amount), revert puts the
//! derived values back, and reports see imported records (churn of imported customers).

#![cfg(feature = "test-clock")]

use crate::crm_support::At;
use crate::harness::{Env, write};

/// Imports a CSV text at the session's moment; returns the batch.
fn import(at: &At, entity: &str, csv: &str, extra: &[&str]) -> i64 {
    let file = at.env.path(&format!("{entity}-{}.csv", csv.len()));
    write(&file, csv);
    let mut args = vec![
        "import",
        entity,
        file.to_str().expect("path"),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    at.run(&args).ok().json()["batch"].as_i64().expect("batch")
}

/// A date-time as crm shows it, as seconds since the epoch.
fn moment(v: &serde_json::Value) -> i64 {
    crm::schema::kinds::parse_datetime(v.as_str().expect("a date-time")).expect("moment")
}

fn stages(env: &Env, opp: i64) -> Vec<String> {
    env.record("opportunity", opp)["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["stage"].as_str().expect("stage").to_string())
        .collect()
}

#[test]
fn import_update_of_opportunities_writes_stage_history() {
    let env = Env::new();
    let at = At::new(&env, "admin", "2026-03-01T09:00:00+08:00");
    at.add("customer", &["--name", "甲", "--code", "C1"]);
    import(
        &at,
        "opportunity",
        "customer,name,stage\nC1,大单,prospecting\nC1,小单,qualification\n",
        &[],
    );
    let (a, b) = (
        env.id_where("opportunity", &["name=大单"]),
        env.id_where("opportunity", &["name=小单"]),
    );
    assert_eq!(stages(&env, a), ["prospecting"]);
    let later = At::new(&env, "admin", "2026-03-05T09:00:00+08:00");
    let csv = format!("id,stage,lost_reason\n{a},proposal,\n{b},lost,价格太高\n");
    let batch = import(
        &later,
        "opportunity",
        &csv,
        &["--mode", "update", "--key", "id"],
    );
    assert_eq!(stages(&env, a), ["prospecting", "proposal"]);
    assert_eq!(stages(&env, b), ["qualification", "lost"]);
    // The stage's rules ran too: probability follows, closed_at set at the import's moment.
    assert_eq!(env.record("opportunity", a)["probability"], 50);
    assert_eq!(
        moment(&env.record("opportunity", b)["closed_at"]),
        crm::schema::kinds::parse_datetime("2026-03-05T09:00:00+08:00").expect("moment")
    );
    // A lost stage without its reason is refused, as `crm edit` refuses it.
    let file = env.path("lost.csv");
    write(&file, format!("id,stage\n{a},lost\n"));
    let r = later.run(&[
        "import",
        "opportunity",
        file.to_str().expect("path"),
        "--mode",
        "update",
        "--key",
        "id",
    ]);
    r.code(4);
    assert!(r.stderr.contains("lost_reason"), "{}", r.stderr);
    // Revert restores the stage, and the funnel history records the way back.
    later.run(&["import", "revert", &batch.to_string()]).ok();
    assert_eq!(
        {
            let o = env.record("opportunity", b);
            (o["stage"].clone(), o["closed_at"].clone())
        },
        (serde_json::json!("qualification"), serde_json::Value::Null)
    );
    assert_eq!(stages(&env, b), ["qualification", "lost", "qualification"]);
}

#[test]
fn import_of_activities_keeps_last_contacted_at() {
    let env = Env::new();
    let at = At::new(&env, "admin", "2026-03-10T09:00:00+08:00");
    let c = at.add("customer", &["--name", "乙", "--code", "C1"]);
    let last = || {
        let v = &env.record("customer", c)["last_contacted_at"];
        if v.is_null() { 0 } else { moment(v) }
    };
    let ts = |s: &str| crm::schema::kinds::parse_datetime(s).expect("moment");
    let b1 = import(
        &at,
        "activity",
        "customer,subject,type,done_at\nC1,电话,call,2026-03-01T10:00:00+08:00\nC1,拜访,visit,2026-03-03T15:00:00+08:00\n",
        &[],
    );
    assert_eq!(last(), ts("2026-03-03T15:00:00+08:00"));
    let id = env.id_where("activity", &["subject=电话"]);
    let csv = format!("id,done_at\n{id},2026-03-08T08:00:00+08:00\n");
    let b2 = import(&at, "activity", &csv, &["--mode", "upsert", "--key", "id"]);
    assert_eq!(last(), ts("2026-03-08T08:00:00+08:00"));
    // Reverting the update, then the insert, walks the last contact back.
    at.run(&["import", "revert", &b2.to_string()]).ok();
    assert_eq!(last(), ts("2026-03-03T15:00:00+08:00"));
    at.run(&["import", "revert", &b1.to_string()]).ok();
    assert_eq!(last(), 0);
}

#[test]
fn import_of_order_lines_keeps_the_order_amount_and_revert_restores_it() {
    let env = Env::new();
    let at = At::new(&env, "admin", "2026-03-10T09:00:00+08:00");
    at.add("customer", &["--name", "丙", "--code", "C1"]);
    at.add(
        "product",
        &["--name", "笔", "--code", "P1", "--unit-price", "5.00"],
    );
    at.add("order", &["--customer", "C1", "--number", "SO1"]);
    at.add(
        "order",
        &["--customer", "C1", "--number", "SO2", "--amount", "100.00"],
    );
    at.add("order_line", &["--order", "SO1", "--product", "P1"]);
    let amount = |n: &str| {
        let o = &env.find("order", &[&format!("number={n}")])[0];
        o["amount"]
            .as_str()
            .map_or(-1, |a| crm::schema::kinds::parse_money(a).expect("money"))
    };
    assert_eq!((amount("SO1"), amount("SO2")), (500, 10_000));
    // One row per line, the order named by its number.
    let b1 = import(
        &at,
        "order_line",
        "order,product,quantity,unit_price,discount\nSO1,P1,2,,\nSO2,P1,3,10.00,10\n",
        &[],
    );
    assert_eq!((amount("SO1"), amount("SO2")), (1_500, 2_700));
    let line = env.find("order_line", &[])[0]["id"].as_i64().expect("id");
    let csv = format!("id,quantity\n{line},4\n");
    let b2 = import(
        &at,
        "order_line",
        &csv,
        &["--mode", "update", "--key", "id"],
    );
    assert_eq!(amount("SO1"), 3_000);
    // Export writes one row per line with the order's number; derived amounts stay out.
    let out = at.run(&["export", "order_line"]).ok().stdout.clone();
    assert_eq!(
        out,
        "order,product,quantity,unit_price,discount\nSO1,P1,4,5.00,0\nSO1,P1,2,5.00,0\nSO2,P1,3,10.00,10\n"
    );
    at.run(&["import", "revert", &b2.to_string()]).ok();
    assert_eq!(amount("SO1"), 1_500);
    at.run(&["import", "revert", &b1.to_string()]).ok();
    // SO1 keeps its one line's sum; SO2, without lines again, gets its plain amount back.
    assert_eq!((amount("SO1"), amount("SO2")), (500, 10_000));
}

#[test]
fn churn_counts_imported_customers() {
    let env = Env::new();
    let at = At::new(&env, "admin", "2026-01-15T09:00:00+08:00");
    import(
        &at,
        "customer",
        "code,name,status\nC1,甲,active\nC2,乙,active\nC3,丙,active\n",
        &[],
    );
    let feb = At::new(&env, "admin", "2026-02-10T09:00:00+08:00");
    feb.run(&["edit", "customer", "C2", "--status", "lost"])
        .ok();
    let j = feb
        .run(&[
            "report",
            "customers",
            "--from",
            "2026-02-01",
            "--to",
            "2026-02-28",
            "--as-of",
            "2026-02-28",
            "--format",
            "json",
        ])
        .ok()
        .json();
    let s = &j["summary"];
    assert_eq!(
        (s["active_at_start"].as_i64(), s["churned"].as_i64()),
        (Some(3), Some(1)),
        "{s}"
    );
    // January: none active at its start (they were created mid-month), none churned.
    let jan = feb
        .run(&[
            "report",
            "customers",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
            "--as-of",
            "2026-01-31",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(
        (
            jan["summary"]["active_at_start"].as_i64(),
            jan["summary"]["churned"].as_i64()
        ),
        (Some(0), Some(0))
    );
}

#[test]
fn a_logged_follow_up_does_not_block_reverting_a_customer_update() {
    let env = Env::new();
    let at = At::new(&env, "admin", "2026-03-10T09:00:00+08:00");
    at.add(
        "customer",
        &["--name", "丁", "--code", "C1", "--city", "上海"],
    );
    let b = import(
        &at,
        "customer",
        "code,city\nC1,深圳\n",
        &["--mode", "update", "--key", "code"],
    );
    // Logging a follow-up changes only the derived last_contacted_at (audited as derived).
    at.run(&["log", "customer", "C1", "回访"]).ok();
    let last = || i64::from(!env.find("customer", &["code=C1"])[0]["last_contacted_at"].is_null());
    assert_eq!(last(), 1);
    at.run(&["import", "revert", &b.to_string()]).ok();
    assert_eq!(env.count_where("customer", &["code=C1", "city=上海"]), 1);
    assert_eq!(last(), 1, "the derived last contact stays");
    // A real edit after the batch still blocks a revert of it.
    let b = import(
        &at,
        "customer",
        "code,city\nC1,北京\n",
        &["--mode", "update", "--key", "code"],
    );
    at.run(&["edit", "customer", "C1", "--city", "广州"]).ok();
    at.run(&["import", "revert", &b.to_string()]).code(5);
}

#[test]
fn saving_segments_does_not_block_reverting_a_customer_import() {
    let env = Env::new();
    let at = At::new(&env, "admin", "2026-03-10T09:00:00+08:00");
    at.add(
        "customer",
        &["--name", "戊", "--code", "C1", "--city", "上海"],
    );
    at.add(
        "order",
        &[
            "--customer",
            "C1",
            "--number",
            "SO1",
            "--amount",
            "500.00",
            "--status",
            "paid",
            "--order-date",
            "2026-03-01",
        ],
    );
    let b = import(
        &at,
        "customer",
        "code,city\nC1,深圳\n",
        &["--mode", "update", "--key", "code"],
    );
    // A day later (so a bumped updated_at would differ from the batch's).
    let at = At::new(&env, "admin", "2026-03-11T09:00:00+08:00");
    at.run(&[
        "report",
        "customers",
        "--from",
        "2026-01-01",
        "--as-of",
        "2026-03-11",
        "--save",
        "--format",
        "json",
    ])
    .ok();
    let seg = || {
        let rows = env.find("customer", &["code=C1"]);
        rows.iter().filter(|r| !r["segment"].is_null()).count()
    };
    assert_eq!(seg(), 1);
    at.run(&["import", "revert", &b.to_string()]).ok();
    assert_eq!(env.count_where("customer", &["code=C1", "city=上海"]), 1);
    assert_eq!(seg(), 1, "the derived segment stays");
}
