//! `crm show`: a customer lists its contacts, open opportunities, latest activities,
//! contracts, open tickets and orders (closed ones left out, each list capped with its
//! total); an opportunity shows its stage history.

use crate::crm_support::At;
use crate::harness::Env;

#[test]
fn show_customer_lists_open_and_latest_records() {
    let env = Env::new();
    let at = At::new(&env, "admin", "2026-11-01T09:00:00+08:00");
    let c = at
        .add("customer", &["--name", "深圳测试科技有限公司"])
        .to_string();
    at.add("contact", &["--customer", &c, "--name", "张伟"]);
    let open = at.add("opportunity", &["--customer", &c, "--name", "扩容"]);
    at.add(
        "opportunity",
        &["--customer", &c, "--name", "已赢", "--stage", "won"],
    );
    at.add(
        "product",
        &["--code", "P1", "--name", "服务器", "--unit-price", "10"],
    );
    at.add("order", &["--customer", &c, "--line", "P1:2"]);
    at.add("contract", &["--customer", &c, "--title", "框架合同"]);
    let t_open = at.add("ticket", &["--customer", &c, "--subject", "报修"]);
    let t_done = at.add("ticket", &["--customer", &c, "--subject", "已修好"]);
    for s in ["open", "resolved"] {
        at.run(&["edit", "ticket", &t_done.to_string(), "--status", s])
            .ok();
    }
    // 21 follow-ups logged a day apart: the list keeps the 20 latest.
    for day in 1..=21 {
        let when = format!("2026-10-{day:02}T10:00:00+08:00");
        at.run(&["log", "customer", &c, &format!("回访 {day}"), "--at", &when])
            .ok();
    }

    let shown = at
        .run(&["show", "customer", &c, "--format", "json"])
        .ok()
        .json();
    let rel = &shown["related"];
    let ids = |e: &str| -> Vec<i64> {
        rel[e]
            .as_array()
            .unwrap_or_else(|| panic!("{e} listed: {shown}"))
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids("opportunity"), [open], "only the open opportunity");
    assert_eq!(ids("ticket"), [t_open], "only the open ticket");
    assert_eq!(ids("contact").len(), 1);
    assert_eq!(ids("contract").len(), 1);
    assert_eq!(ids("order").len(), 1);
    let acts = rel["activity"].as_array().unwrap();
    assert_eq!(acts.len(), 20, "capped at 20");
    assert_eq!(shown["related_total"]["activity"], 21);
    assert_eq!(acts[0]["subject"], "回访 21", "latest first");
    assert_eq!(acts[19]["subject"], "回访 2");
    assert_eq!(shown["related_total"]["opportunity"], 1);

    let table = at.run(&["show", "customer", &c]).ok().stdout.clone();
    for heading in [
        "Contacts (1)",
        "Open opportunities (1)",
        "Latest activities (20 of 21)",
        "Contracts (1)",
        "Open tickets (1)",
        "Orders (1)",
    ] {
        assert!(table.contains(heading), "{heading} in:\n{table}");
    }
    assert!(
        !table.contains("已赢") && !table.contains("已修好"),
        "{table}"
    );
    // The sections come in the order the issue names them.
    let pos = |h: &str| table.find(h).unwrap();
    assert!(pos("Contacts") < pos("Open opportunities"));
    assert!(pos("Latest activities") < pos("Contracts") && pos("Contracts") < pos("Open tickets"));
    assert!(pos("Open tickets") < pos("Orders"));
    let zh = at
        .run(&["show", "customer", &c, "--lang", "zh"])
        .ok()
        .stdout
        .clone();
    assert!(
        zh.contains("进行中的销售机会 (1)") && zh.contains("未结工单 (1)"),
        "{zh}"
    );
}

#[test]
fn show_opportunity_has_its_stage_history() {
    let env = Env::new();
    let at = At::new(&env, "admin", "2026-11-01T09:00:00+08:00");
    let c = at.add("customer", &["--name", "ACME"]).to_string();
    let o = at
        .add("opportunity", &["--customer", &c, "--name", "Deal"])
        .to_string();
    at.run_at(
        "2026-11-03T09:00:00+08:00",
        &["edit", "opportunity", &o, "--stage", "qualification"],
    )
    .ok();
    at.run_at(
        "2026-11-08T09:00:00+08:00",
        &["edit", "opportunity", &o, "--stage", "proposal"],
    )
    .ok();
    // An edit that leaves the stage alone adds no history.
    at.run_at(
        "2026-11-09T09:00:00+08:00",
        &["edit", "opportunity", &o, "--amount", "5000"],
    )
    .ok();

    let shown = at
        .run_at(
            "2026-11-10T09:00:00+08:00",
            &["show", "opportunity", &o, "--format", "json"],
        )
        .ok()
        .json();
    let stages: Vec<(String, String)> = shown["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap().to_string(),
                s["entered_at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("prospecting".into(), "2026-11-01T09:00:00+08:00".into()),
            ("qualification".into(), "2026-11-03T09:00:00+08:00".into()),
            ("proposal".into(), "2026-11-08T09:00:00+08:00".into()),
        ]
    );
    let table = at
        .run_at("2026-11-10T09:00:00+08:00", &["show", "opportunity", &o])
        .ok()
        .stdout
        .clone();
    let history = &table[table.find("Stage history (3)").expect(&table)..];
    // Days in each stage: 2, 5, and 2 so far in the current one.
    let days: Vec<&str> = history
        .lines()
        .skip(3)
        .map(|l| l.split('|').nth(3).unwrap().trim())
        .collect();
    assert_eq!(days, ["2", "5", "2"], "{history}");
    let zh = at
        .run_at(
            "2026-11-10T09:00:00+08:00",
            &["show", "opportunity", &o, "--lang", "zh"],
        )
        .ok()
        .stdout
        .clone();
    assert!(
        zh.contains("阶段历史 (3)") && zh.contains("| 需求确认 "),
        "{zh}"
    );
    // Other records have no stage history.
    let cust = at
        .run(&["show", "customer", &c, "--format", "json"])
        .ok()
        .json();
    assert!(cust.get("stages").is_none());
}
