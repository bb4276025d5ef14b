//! Custom fields (`crm field`, SPEC "Custom fields"): every kind added, set by flag, shown,
//! found and sorted; choices, required, unique and defaults enforced; names that shadow
//! refused; admin only; dropped values kept in the audit; schema JSON; import/export with
//! English and Chinese headers and revert; `crm copy` to `PostgreSQL`. Runs on both engines.

use crate::harness::{Env, PW, engine_is_postgres};
use crate::pg_cli::url_of;
use crate::pg_harness;

/// The custom choice field `tier` (gold, silver) on customers.
fn add_tier(env: &Env) {
    env.run(&[
        "field",
        "add",
        "customer",
        "tier",
        "--kind",
        "choice",
        "--choices",
        "gold,silver",
    ])
    .ok();
}

/// One field of each kind on customers.
fn with_every_kind(env: &Env) {
    for (name, kind, extra) in [
        ("memo", "text", &[][..]),
        ("billing_email", "email", &[][..]),
        ("fax", "phone", &[][..]),
        ("seats", "integer", &[][..]),
        ("budget_cap", "money", &[][..]),
        ("renewal_on", "date", &[][..]),
        ("visited_at", "datetime", &[][..]),
        ("vip", "bool", &[][..]),
        (
            "tier",
            "choice",
            &[
                "--choices",
                "gold:金牌,silver:银牌",
                "--label-zh",
                "会员级别",
            ][..],
        ),
        ("labels", "tags", &[][..]),
        ("referrer", "ref:customer", &[][..]),
    ] {
        let mut args = vec!["field", "add", "customer", name, "--kind", kind];
        args.extend_from_slice(extra);
        env.run(&args).ok();
    }
}

#[test]
fn every_kind_is_set_shown_found_and_sorted_like_a_built_in_field() {
    let env = Env::new();
    with_every_kind(&env);
    let first = env.add("customer", &["--name", "First", "--seats", "5"]);
    let id = env.add(
        "customer",
        &[
            "--name",
            "Acme",
            "--memo",
            "met at the fair",
            "--billing-email",
            "ap@acme.cn",
            "--fax",
            "+86 10 8888 6666",
            "--seats",
            "12",
            "--budget-cap",
            "1234.5",
            "--renewal-on",
            "2027-03-01",
            "--visited-at",
            "2026-11-30T10:00:00+00:00",
            "--vip",
            "yes",
            "--tier",
            "金牌",
            "--labels",
            "a;b",
            "--referrer",
            &first.to_string(),
        ],
    );
    let r = env.record("customer", id);
    assert_eq!(r["memo"], "met at the fair");
    assert_eq!(r["billing_email"], "ap@acme.cn");
    assert_eq!(r["seats"], 12);
    assert_eq!(r["budget_cap"], "1234.50");
    assert_eq!(r["renewal_on"], "2027-03-01");
    assert_eq!(r["vip"], true);
    assert_eq!(r["tier"], "gold");
    assert_eq!(r["labels"], serde_json::json!(["a", "b"]));
    // A reference shows the record's key, as a built-in one does.
    assert_eq!(r["referrer"], env.record("customer", first)["code"]);
    env.run(&["edit", "customer", &id.to_string(), "--seats", "3"])
        .ok();
    assert_eq!(env.record("customer", id)["seats"], 3);
    assert_eq!(env.count_where("customer", &["tier=gold"]), 1);
    assert_eq!(env.count_where("customer", &["budget_cap>1000"]), 1);
    let sorted = env.read_json(&[
        "find",
        "customer",
        "--sort",
        "seats:desc",
        "--columns",
        "name,seats",
    ]);
    assert_eq!(sorted[0]["name"], "First", "{sorted}");
    assert_eq!(sorted[1]["seats"], 3, "{sorted}");
    // Text search covers text, e-mail and phone kinds.
    let hits = env.read_json(&["find", "customer", "acme.cn"]);
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    // Help lists the flag once the database has the field.
    let help = env.run(&["add", "customer", "--help"]);
    assert!(help.ok().stdout.contains("--budget-cap"), "{}", help.stdout);
}

#[test]
fn choices_required_unique_and_defaults_are_enforced() {
    let env = Env::new();
    add_tier(&env);
    env.run(&["add", "customer", "--name", "X", "--tier", "bronze"])
        .code(4);
    env.run(&[
        "field", "add", "customer", "erp_id", "--kind", "text", "--unique",
    ])
    .ok();
    env.add("customer", &["--name", "A", "--erp-id", "E1"]);
    env.run(&["add", "customer", "--name", "B", "--erp-id", "E1"])
        .code(5);
    // Required on a table with records: a default for them, else refused.
    env.run(&[
        "field",
        "add",
        "customer",
        "region",
        "--kind",
        "text",
        "--required",
    ])
    .code(4);
    env.run(&[
        "field",
        "add",
        "customer",
        "region",
        "--kind",
        "text",
        "--required",
        "--default",
        "north",
    ])
    .ok();
    assert_eq!(env.count_where("customer", &["region=north"]), 1);
    let id = env.add("customer", &["--name", "C"]);
    assert_eq!(env.record("customer", id)["region"], "north");
    env.run(&[
        "field",
        "add",
        "customer",
        "budget",
        "--kind",
        "money",
        "--default",
        "abc",
    ])
    .code(4);
    // Narrowing choices below what is stored is refused; widening is fine.
    env.add("customer", &["--name", "D", "--tier", "silver"]);
    env.run(&["field", "edit", "customer", "tier", "--choices", "gold"])
        .code(4);
    env.run(&[
        "field",
        "edit",
        "customer",
        "tier",
        "--choices",
        "gold,silver,bronze",
        "--label-zh",
        "级别",
    ])
    .ok();
    env.add("customer", &["--name", "E", "--tier", "bronze"]);
    let list = env.read_json(&["field", "list", "customer"]);
    let tier = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "tier")
        .unwrap();
    assert_eq!(tier["label_zh"], "级别");
    assert!(env.audits(&[("action", "field edit"), ("field", "tier")]) == 1);
}

#[test]
fn names_that_shadow_fields_flags_or_words_are_refused_and_only_admins_manage_fields() {
    let env = Env::new();
    for bad in [
        "name", "owner", "quiet", "format", "where", "id", "select", "Tier", "tier-x", "yes",
    ] {
        let r = env.run(&["field", "add", "customer", bad, "--kind", "text"]);
        r.code(2);
        r.one_error_line();
    }
    // A label another field has or is named: import headers would be ambiguous.
    env.run(&[
        "field",
        "add",
        "customer",
        "tier",
        "--kind",
        "text",
        "--label-zh",
        "客户名称",
    ])
    .code(2);
    env.run(&[
        "field",
        "add",
        "customer",
        "tier",
        "--kind",
        "text",
        "--label-en",
        "City",
    ])
    .code(2);
    env.run(&["field", "add", "customer", "tier", "--kind", "nope"])
        .code(2);
    env.run(&["field", "add", "customer", "tier", "--kind", "ref:nothing"])
        .code(2);
    env.add_user("sam", "sales");
    let sam = env.token("sam");
    env.run_as(
        &sam,
        &["field", "add", "customer", "tier", "--kind", "text"],
    )
    .code(7);
    env.run(&["field", "add", "customer", "tier", "--kind", "text"])
        .ok();
    env.run_as(&sam, &["field", "drop", "customer", "tier", "--yes"])
        .code(7);
    // Everyone may read the definitions and use the field.
    let list = env.read_json_as(&sam, &["field", "list"]);
    assert_eq!(list[0]["name"], "tier");
    env.run(&["field", "add", "customer", "tier", "--kind", "text"])
        .code(2);
    env.run(&["field", "drop", "customer", "name", "--yes"])
        .code(2);
    env.run(&["field", "drop", "customer", "tier"]).code(2);
}

#[test]
fn dropping_a_field_keeps_its_values_in_the_audit_and_schema_marks_custom_fields() {
    let env = Env::new();
    env.run(&[
        "field",
        "add",
        "customer",
        "tier",
        "--kind",
        "text",
        "--label-zh",
        "等级",
    ])
    .ok();
    let schema = env.read_json(&["schema", "customer"]);
    let fields = schema["fields"].as_array().unwrap();
    let tier = fields.iter().find(|f| f["name"] == "tier").unwrap();
    assert_eq!(tier["custom"], true);
    assert_eq!(tier["label_zh"], "等级");
    assert!(fields.iter().filter(|f| f["custom"] == true).count() == 1);
    let id = env.add("customer", &["--name", "A", "--tier", "gold"]);
    assert_eq!(
        env.audits(&[("action", "create"), ("field", "tier"), ("new", "gold")]),
        1
    );
    env.run(&["field", "drop", "customer", "tier", "--yes"])
        .ok();
    let rows = env.audit_rows();
    let drop = rows
        .iter()
        .find(|r| r["action"] == "field drop")
        .expect("a drop entry");
    let old: serde_json::Value = serde_json::from_str(drop["old"].as_str().unwrap()).unwrap();
    assert_eq!(old[id.to_string()], "gold", "{drop}");
    assert!(env.record("customer", id).get("tier").is_none());
    env.run(&["add", "customer", "--name", "B", "--tier", "x"])
        .code(2);
    // The name is free again.
    env.run(&["field", "add", "customer", "tier", "--kind", "integer"])
        .ok();
    env.run(&["check"]).ok();
}

#[test]
fn import_and_export_carry_custom_fields_under_english_and_chinese_headers_and_revert() {
    let env = Env::new();
    env.run(&[
        "field",
        "add",
        "customer",
        "tier",
        "--kind",
        "choice",
        "--choices",
        "gold:金牌,silver:银牌",
        "--label-en",
        "Member tier",
        "--label-zh",
        "会员级别",
    ])
    .ok();
    env.run(&[
        "field",
        "add",
        "customer",
        "seats",
        "--kind",
        "integer",
        "--label-zh",
        "席位",
    ])
    .ok();
    let en = env.path("en.csv");
    std::fs::write(&en, "name,Member tier,seats\nA,gold,3\nB,silver,\n").unwrap();
    env.run(&["import", "customer", en.to_str().unwrap()]).ok();
    assert_eq!(env.count_where("customer", &["tier=gold", "seats=3"]), 1);
    let zh = env.path("zh.csv");
    std::fs::write(&zh, "客户名称,会员级别,席位\nC,银牌,7\n").unwrap();
    env.run(&["import", "customer", zh.to_str().unwrap()]).ok();
    assert_eq!(env.count_where("customer", &["tier=silver"]), 2);
    let out = env.run(&["--lang", "zh", "export", "customer"]);
    let head = out.ok().stdout.lines().next().unwrap().to_string();
    assert!(head.contains("会员级别") && head.contains("席位"), "{head}");
    // export → import (upsert) → export is the same, and reverting an update restores.
    let csv = env.run(&["export", "customer"]).ok().stdout.clone();
    assert!(csv.lines().next().unwrap().contains("tier"), "{csv}");
    let changed = env.path("changed.csv");
    std::fs::write(&changed, csv.replace(",gold,3\n", ",silver,4\n")).unwrap();
    let r = env.run(&[
        "--format",
        "json",
        "import",
        "customer",
        changed.to_str().unwrap(),
        "--mode",
        "upsert",
    ]);
    let batch = r.ok().json()["batch"].as_i64().unwrap();
    assert_eq!(env.count_where("customer", &["seats=4"]), 1);
    env.run(&["import", "revert", &batch.to_string()]).ok();
    assert_eq!(env.count_where("customer", &["tier=gold", "seats=3"]), 1);
    assert_eq!(env.run(&["export", "customer"]).ok().stdout, csv);
}

#[test]
fn copy_to_postgres_carries_custom_fields_and_their_definitions() {
    if engine_is_postgres() {
        return; // the source is a SQLite file
    }
    let Some(pg) = pg_harness::fresh("copy_to_postgres_carries_custom_fields") else {
        return;
    };
    let url = url_of(&pg);
    let src = Env::new();
    src.run(&[
        "field",
        "add",
        "customer",
        "tier",
        "--kind",
        "choice",
        "--choices",
        "gold,silver",
    ])
    .ok();
    src.run(&["field", "add", "customer", "gone", "--kind", "text"])
        .ok();
    src.run(&["field", "drop", "customer", "gone", "--yes"])
        .ok();
    let id = src.add("customer", &["--name", "A", "--tier", "gold"]);
    src.run_stdin(&["copy", "--to", &url, "--password-stdin"], PW)
        .ok();
    let mut dst = Env::empty();
    dst.db = url.clone().into();
    dst.run_stdin(&["login", "--user", "admin", "--password-stdin"], PW)
        .ok();
    assert_eq!(dst.record("customer", id)["tier"], "gold");
    let list = dst.read_json(&["field", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    dst.run(&["edit", "customer", &id.to_string(), "--tier", "silver"])
        .ok();
    dst.run(&["add", "customer", "--name", "B", "--tier", "bronze"])
        .code(4);
    assert_eq!(
        dst.audits(&[("action", "update"), ("field", "tier"), ("new", "silver")]),
        1
    );
}

/// The rows of a report's section (JSON).
fn section(report: &serde_json::Value, name: &str) -> Vec<serde_json::Value> {
    report[name]
        .as_array()
        .unwrap_or_else(|| panic!("no section {name}: {report}"))
        .clone()
}

#[test]
fn reports_group_by_a_custom_choice_field_in_every_format() {
    let env = Env::new();
    for (entity, name, choices) in [
        ("customer", "tier", "gold:金牌,silver:银牌"),
        ("opportunity", "deal_kind", "new_logo,renewal"),
        ("ticket", "region", "north,south"),
    ] {
        env.run(&[
            "field",
            "add",
            entity,
            name,
            "--kind",
            "choice",
            "--choices",
            choices,
        ])
        .ok();
    }
    env.run(&["field", "add", "customer", "memo", "--kind", "text"])
        .ok();
    let gold = env.add("customer", &["--name", "Gold", "--tier", "gold"]);
    let silver = env.add("customer", &["--name", "Silver", "--tier", "silver"]);
    let plain = env.add("customer", &["--name", "Plain"]);
    for (c, amount, kind) in [(gold, "100.00", "renewal"), (plain, "7.50", "new_logo")] {
        let id = env.add(
            "opportunity",
            &[
                "--customer",
                &c.to_string(),
                "--name",
                "deal",
                "--amount",
                amount,
                "--deal-kind",
                kind,
            ],
        );
        env.run(&["edit", "opportunity", &id.to_string(), "--stage", "won"])
            .ok();
    }
    env.add(
        "order",
        &[
            "--customer",
            &silver.to_string(),
            "--status",
            "confirmed",
            "--amount",
            "30.00",
        ],
    );
    for (c, region) in [(gold, "north"), (silver, "north"), (plain, "south")] {
        env.add(
            "ticket",
            &[
                "--customer",
                &c.to_string(),
                "--subject",
                "help",
                "--region",
                region,
            ],
        );
    }

    // Sales by the customer's tier: each value a group, customers without one in ''.
    let sales = env.read_json(&["report", "sales", "--by", "tier"]);
    let rows = section(&sales, "by_group");
    let of = |k: &str| rows.iter().find(|r| r["tier"] == k).cloned();
    assert_eq!(of("gold").unwrap()["won_count"], 1, "{sales}");
    assert_eq!(of("gold").unwrap()["won_amount"], "100.00", "{sales}");
    assert_eq!(of("silver").unwrap()["orders"], 1, "{sales}");
    assert_eq!(of("").unwrap()["won_amount"], "7.50", "{sales}");
    assert_eq!(rows.len(), 3, "{sales}");
    // A built-in choice of the customer works alike.
    let by_level = env.read_json(&["report", "sales", "--by", "level"]);
    assert!(section(&by_level, "by_group")[0].get("level").is_some());

    // The funnel by an opportunity's choice field; the service report by a ticket's.
    let funnel = env.read_json(&["report", "funnel", "--by", "deal_kind"]);
    let win = section(&funnel, "win_rate_by_deal_kind");
    assert_eq!(win.len(), 2, "{funnel}");
    assert!(win.iter().all(|r| r["won"] == 1), "{funnel}");
    assert!(!section(&funnel, "by_deal_kind").is_empty());
    let service = env.read_json(&["report", "service", "--by", "region"]);
    let groups = section(&service, "by_group");
    let north = groups.iter().find(|r| r["region"] == "north").unwrap();
    assert_eq!(north["tickets"], 2, "{service}");

    // Table and CSV carry the same groups.
    let table = env.run(&["report", "sales", "--by", "tier", "--section", "by_group"]);
    assert!(table.ok().stdout.contains("silver"), "{}", table.stdout);
    let csv = env.run(&[
        "--format",
        "csv",
        "report",
        "service",
        "--by",
        "region",
        "--section",
        "by_group",
    ]);
    let csv = &csv.ok().stdout;
    assert!(csv.lines().next().unwrap().contains("region"), "{csv}");
    assert!(csv.contains("south"), "{csv}");

    // Anything else: exit 2 naming what --by takes, custom choices included.
    for (report, by) in [
        ("sales", "memo"),
        ("sales", "nope"),
        ("funnel", "tier"),
        ("service", "deal_kind"),
    ] {
        let r = env.run(&["report", report, "--by", by]);
        r.code(2);
        assert!(r.stderr.contains(by), "{}", r.stderr);
    }
    let r = env.run(&["report", "sales", "--by", "memo"]);
    assert!(
        r.stderr.contains("tier") && r.stderr.contains("level"),
        "{}",
        r.stderr
    );
    let r = env.run(&["report", "service", "--by", "nope"]);
    assert!(r.stderr.contains("region"), "{}", r.stderr);
}

#[test]
fn a_masked_choice_field_cannot_group_a_report() {
    let env = Env::new();
    add_tier(&env);
    env.add("customer", &["--name", "Gold", "--tier", "gold"]);
    env.add_user("mia", "manager");
    env.run(&["config", "set", "mask.manager", "customer.tier"])
        .ok();
    let mia = env.token("mia");
    let before = env.audits(&[("action", "denied")]);
    let r = env.run_as(&mia, &["report", "sales", "--by", "tier"]);
    r.code(7);
    assert!(r.stderr.contains("customer.tier"), "{}", r.stderr);
    assert_eq!(env.audits(&[("action", "denied")]), before + 1);
    // Another grouping still works for the role; the admin groups by it.
    env.run_as(&mia, &["report", "sales", "--by", "owner"]).ok();
    env.run(&["report", "sales", "--by", "tier"]).ok();
}

#[test]
fn reverting_an_import_audits_the_custom_values_of_each_record_it_deletes() {
    let env = Env::new();
    add_tier(&env);
    env.run(&["field", "add", "customer", "budget_cap", "--kind", "money"])
        .ok();
    let f = env.path("new.csv");
    std::fs::write(&f, "name,city,tier,budget_cap\nA,x,gold,12.5\nB,,,\n").unwrap();
    let r = env.run(&[
        "--format",
        "json",
        "import",
        "customer",
        f.to_str().unwrap(),
    ]);
    let batch = r.ok().json()["batch"].as_i64().unwrap();
    env.run(&["import", "revert", &batch.to_string()]).ok();
    let deleted: Vec<serde_json::Value> = env
        .audit_rows()
        .into_iter()
        .filter(|a| a["action"] == "delete" && a["entity"] == "customer")
        .collect();
    assert_eq!(deleted.len(), 2, "{deleted:?}");
    let old = |a: &serde_json::Value| -> serde_json::Value {
        serde_json::from_str(a["old"].as_str().unwrap()).unwrap()
    };
    let a = deleted.iter().map(old).find(|o| o["name"] == "A").unwrap();
    assert_eq!(a["tier"], "gold", "{a}");
    assert_eq!(a["budget_cap"], "12.50", "{a}");
    assert_eq!(a["city"], "x", "{a}");
    // Custom fields come after the built-in ones, as on SQLite; empty ones are left out.
    let keys: Vec<&String> = a.as_object().unwrap().keys().collect();
    assert_eq!(keys.last().map(|k| k.as_str()), Some("budget_cap"), "{a}");
    let b = deleted.iter().map(old).find(|o| o["name"] == "B").unwrap();
    assert!(
        b.get("tier").is_none() && b.get("budget_cap").is_none(),
        "{b}"
    );
}
