//! Sales rules through the binary, valid and invalid: opportunity stages and their history,
//! quote/order lines and amounts, contracts and campaigns, references within one customer.

use crate::crm_support::{At, customer, field, ids};
use crate::harness::{Env, engine_is_postgres};

#[test]
fn opportunity_stage_probability_lost_reason_closed_at_and_history() {
    let env = Env::new();
    let c = customer(&env, "甲公司");
    let o = env.add(
        "opportunity",
        &["--customer", &c.to_string(), "--name", "扩容"],
    );
    assert_eq!(field(&env, "opportunity", o, "probability"), 10);
    assert_eq!(field(&env, "opportunity", o, "stage"), "prospecting");
    let id = o.to_string();
    env.run(&["edit", "opportunity", &id, "--stage", "proposal"])
        .ok();
    assert_eq!(field(&env, "opportunity", o, "probability"), 50);
    // An explicit probability wins over the stage's default.
    env.run(&[
        "edit",
        "opportunity",
        &id,
        "--stage",
        "negotiation",
        "--probability",
        "65",
    ])
    .ok();
    assert_eq!(field(&env, "opportunity", o, "probability"), 65);
    env.run(&["edit", "opportunity", &id, "--probability", "101"])
        .code(4)
        .one_error_line();
    env.run(&["edit", "opportunity", &id, "--amount=-1"])
        .code(4);
    // Lost needs a reason; nothing changes without one.
    let r = env.run(&["edit", "opportunity", &id, "--stage", "lost"]);
    r.code(4).one_error_line();
    assert!(r.stderr.contains("lost_reason"), "{}", r.stderr);
    assert_eq!(field(&env, "opportunity", o, "stage"), "negotiation");
    assert!(field(&env, "opportunity", o, "closed_at").is_null());
    env.run(&[
        "edit",
        "opportunity",
        &id,
        "--stage",
        "lost",
        "--lost-reason",
        "价格太高",
    ])
    .ok();
    assert_eq!(field(&env, "opportunity", o, "probability"), 0);
    assert!(field(&env, "opportunity", o, "closed_at").is_string());
    // Reopened: closed_at cleared, probability follows the stage again.
    env.run(&["edit", "opportunity", &id, "--stage", "qualification"])
        .ok();
    assert!(field(&env, "opportunity", o, "closed_at").is_null());
    assert_eq!(field(&env, "opportunity", o, "probability"), 20);
    env.run(&[
        "edit",
        "opportunity",
        &id,
        "--stage",
        "won",
        "--probability",
        "80",
    ])
    .code(4)
    .one_error_line();
    env.run(&["edit", "opportunity", &id, "--stage", "won"])
        .ok();
    assert_eq!(field(&env, "opportunity", o, "probability"), 100);
    assert!(field(&env, "opportunity", o, "closed_at").is_string());
    // An edit that leaves the stage alone adds no history row.
    env.run(&["edit", "opportunity", &id, "--name", "扩容二期"])
        .ok();
    let stages: Vec<String> = env.record("opportunity", o)["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        stages,
        [
            "prospecting",
            "proposal",
            "negotiation",
            "lost",
            "qualification",
            "won"
        ]
    );
    // A new lost opportunity needs its reason too; a new won one starts closed.
    env.run(&[
        "add",
        "opportunity",
        "--customer",
        &c.to_string(),
        "--name",
        "x",
        "--stage",
        "lost",
    ])
    .code(4);
    let w = env.add(
        "opportunity",
        &[
            "--customer",
            &c.to_string(),
            "--name",
            "y",
            "--stage",
            "won",
        ],
    );
    assert_eq!(field(&env, "opportunity", w, "probability"), 100);
    assert!(field(&env, "opportunity", w, "closed_at").is_string());
}

#[test]
fn quote_and_order_lines_derive_amounts() {
    let env = Env::new();
    let c = customer(&env, "乙公司").to_string();
    env.add(
        "product",
        &[
            "--code",
            "P1",
            "--name",
            "服务器",
            "--unit-price",
            "1999.00",
        ],
    );
    env.add(
        "product",
        &["--code", "P2", "--name", "安装", "--unit-price", "500"],
    );
    env.add(
        "product",
        &[
            "--code",
            "OLD",
            "--name",
            "旧",
            "--unit-price",
            "1",
            "--active",
            "false",
        ],
    );
    env.add("product", &["--code", "FREE", "--name", "无价"]);
    let q = env.add("quote", &["--customer", &c]);
    assert_eq!(field(&env, "quote", q, "amount"), "0.00");
    assert!(
        field(&env, "quote", q, "number")
            .as_str()
            .unwrap()
            .starts_with('Q')
    );
    let qs = q.to_string();
    // 3 × 1999.00 × 90% = 5397.30; the unit price came from the product.
    let l1 = env.add(
        "quote_line",
        &[
            "--quote",
            &qs,
            "--product",
            "P1",
            "--quantity",
            "3",
            "--discount",
            "10",
        ],
    );
    assert_eq!(field(&env, "quote_line", l1, "unit_price"), "1999.00");
    assert_eq!(field(&env, "quote_line", l1, "amount"), "5397.30");
    let l2 = env.add(
        "quote-line",
        &["--quote", &qs, "--product", "P2", "--unit-price", "450.50"],
    );
    assert_eq!(field(&env, "quote", q, "amount"), "5847.80");
    // The derived amount is audited like any change, naming the line it follows.
    assert_eq!(
        env.audits(&[
            ("entity", "quote"),
            ("record_id", &q.to_string()),
            ("field", "amount"),
            ("old", "5397.30"),
            ("new", "5847.80"),
            ("detail", &format!("derived: follows quote_line {l2}")),
        ]),
        1
    );
    env.run(&["edit", "quote_line", &l2.to_string(), "--quantity", "2"])
        .ok();
    assert_eq!(field(&env, "quote", q, "amount"), "6298.30");
    env.run(&["delete", "quote_line", &l1.to_string(), "--yes"])
        .ok();
    assert_eq!(field(&env, "quote", q, "amount"), "901.00");
    // Invalid lines: inactive product, no price anywhere, bad quantity or discount.
    for args in [
        vec!["--product", "OLD"],
        vec!["--product", "FREE"],
        vec!["--product", "P1", "--quantity", "0"],
        vec!["--product", "P1", "--discount", "101"],
    ] {
        let mut a = vec!["add", "quote_line", "--quote", qs.as_str()];
        a.extend(args);
        env.run(&a).code(4).one_error_line();
    }
    env.add(
        "quote_line",
        &["--quote", &qs, "--product", "FREE", "--unit-price", "10"],
    );
    // A line that moves to another quote takes its amount with it.
    let q2 = env.add("quote", &["--customer", &c]);
    env.run(&[
        "edit",
        "quote_line",
        &l2.to_string(),
        "--quote",
        &q2.to_string(),
    ])
    .ok();
    assert_eq!(field(&env, "quote", q, "amount"), "10.00");
    assert_eq!(field(&env, "quote", q2, "amount"), "901.00");

    // Orders: a plain amount without lines; with lines, their sum.
    let plain = env.add("order", &["--customer", &c, "--amount", "300"]);
    assert_eq!(field(&env, "order", plain, "amount"), "300.00");
    env.run(&["edit", "order", &plain.to_string(), "--amount", "350"])
        .ok();
    env.add(
        "order_line",
        &["--order", &plain.to_string(), "--product", "P2"],
    );
    assert_eq!(field(&env, "order", plain, "amount"), "500.00");
    let r = env.run(&["edit", "order", &plain.to_string(), "--amount", "1"]);
    r.code(4).one_error_line();
    assert!(r.stderr.contains("sum"), "{}", r.stderr);
    env.run(&["edit", "order", &plain.to_string(), "--status", "confirmed"])
        .ok();
    assert_eq!(field(&env, "order", plain, "amount"), "500.00");

    // --line on add: written with the parent, all or nothing.
    let o = env
        .run(&[
            "add",
            "order",
            "--customer",
            &c,
            "--line",
            "P1:2",
            "--line",
            "P2:1:450",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(o["amount"], "4448.00");
    assert!(o["number"].as_str().unwrap().starts_with("SO"));
    let qj = env
        .run(&[
            "add",
            "quote",
            "--customer",
            &c,
            "--line",
            "P2:4",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(qj["amount"], "2000.00");
    let before = env.count("order");
    env.run(&[
        "add",
        "order",
        "--customer",
        &c,
        "--line",
        "P1:1",
        "--line",
        "OLD:1",
    ])
    .code(4)
    .one_error_line();
    env.run(&["add", "order", "--customer", &c, "--line", "P1"])
        .code(4);
    env.run(&["add", "order", "--customer", &c, "--line", "NOPE:1"])
        .code(4);
    env.run(&[
        "add",
        "order",
        "--customer",
        &c,
        "--amount",
        "5",
        "--line",
        "P1:1",
    ])
    .code(2)
    .one_error_line();
    assert_eq!(env.count("order"), before);
    assert_eq!(
        {
            // order lines whose order does not exist
            let orders: Vec<serde_json::Value> = env
                .find("order", &[])
                .iter()
                .map(|o| o["number"].clone())
                .collect();
            env.find("order_line", &[])
                .iter()
                .filter(|l| !orders.contains(&l["order"]))
                .count()
        },
        0
    );
}

#[test]
fn contract_dates_expired_status_and_campaign_dates() {
    let env = Env::new();
    let c = customer(&env, "丙公司").to_string();
    let at = At::new(&env, "admin", "2026-12-01T10:00:00+08:00");
    env.run(&[
        "add",
        "contract",
        "--customer",
        &c,
        "--title",
        "t",
        "--start-date",
        "2026-05-01",
        "--end-date",
        "2026-04-30",
    ])
    .code(4)
    .one_error_line();
    let past = env.add(
        "contract",
        &[
            "--customer",
            &c,
            "--title",
            "旧合同",
            "--start-date",
            "2025-01-01",
            "--end-date",
            "2026-11-30",
            "--status",
            "active",
        ],
    );
    let current = env.add(
        "contract",
        &[
            "--customer",
            &c,
            "--title",
            "新合同",
            "--start-date",
            "2026-01-01",
            "--end-date",
            "2026-12-01",
            "--status",
            "active",
        ],
    );
    env.add(
        "contract",
        &[
            "--customer",
            &c,
            "--title",
            "草稿",
            "--end-date",
            "2020-01-01",
        ],
    );
    let expired = at
        .run(&[
            "find",
            "contract",
            "--where",
            "status=expired",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(
        ids(&expired),
        [past],
        "only an active contract past its end date is expired"
    );
    let shown = at
        .run(&["show", "contract", &current.to_string(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(shown["status"], "active");
    assert_eq!(
        at.run(&["find", "contract", "--where", "status=active", "--count"])
            .ok()
            .stdout
            .trim(),
        "1"
    );
    // Stored as active: the derivation is at read time only. crm shows only the derived
    // status, so this looks at the SQLite file (sqlite only).
    if !engine_is_postgres() {
        assert_eq!(
            env.sql_int(&format!(
                "SELECT COUNT(*) FROM contract WHERE status = 'active' AND id = {past}"
            )),
            1
        );
    }
    // Writing `expired` (an export read back) is accepted only once the end date has passed.
    at.run(&["edit", "contract", &past.to_string(), "--status", "expired"])
        .ok();
    at.run(&[
        "edit",
        "contract",
        &current.to_string(),
        "--status",
        "expired",
    ])
    .code(4)
    .one_error_line();
    at.run(&[
        "edit",
        "contract",
        &current.to_string(),
        "--status",
        "terminated",
    ])
    .ok();
    assert_eq!(field(&env, "contract", current, "status"), "terminated");

    env.run(&[
        "add",
        "campaign",
        "--name",
        "展会",
        "--start-date",
        "2026-09-12",
        "--end-date",
        "2026-09-10",
    ])
    .code(4)
    .one_error_line();
    env.add(
        "campaign",
        &[
            "--name",
            "展会",
            "--start-date",
            "2026-09-10",
            "--end-date",
            "2026-09-10",
        ],
    );
    env.run(&["add", "campaign", "--name", "广告", "--budget=-5"])
        .code(4);
}

#[test]
fn references_stay_within_one_customer() {
    let env = Env::new();
    let a = customer(&env, "甲").to_string();
    let b = customer(&env, "乙").to_string();
    let opp = env
        .add("opportunity", &["--customer", &a, "--name", "甲的机会"])
        .to_string();
    let contact = env
        .add("contact", &["--customer", &a, "--name", "甲的人"])
        .to_string();
    let quote = env.add("quote", &["--customer", &a]).to_string();
    for args in [
        vec![
            "add",
            "quote",
            "--customer",
            b.as_str(),
            "--opportunity",
            opp.as_str(),
        ],
        vec![
            "add",
            "order",
            "--customer",
            b.as_str(),
            "--quote",
            quote.as_str(),
        ],
        vec![
            "add",
            "order",
            "--customer",
            b.as_str(),
            "--opportunity",
            opp.as_str(),
        ],
        vec![
            "add",
            "ticket",
            "--customer",
            b.as_str(),
            "--contact",
            contact.as_str(),
            "--subject",
            "s",
        ],
        vec![
            "add",
            "activity",
            "--customer",
            b.as_str(),
            "--opportunity",
            opp.as_str(),
            "--subject",
            "s",
        ],
        vec![
            "edit",
            "quote",
            quote.as_str(),
            "--customer",
            b.as_str(),
            "--opportunity",
            opp.as_str(),
        ],
    ] {
        let r = env.run(&args);
        r.code(4).one_error_line();
        assert!(
            r.stderr.contains("belongs to customer"),
            "{args:?}: {}",
            r.stderr
        );
    }
    env.add(
        "order",
        &["--customer", &a, "--quote", &quote, "--opportunity", &opp],
    );
    env.add(
        "ticket",
        &["--customer", &a, "--contact", &contact, "--subject", "s"],
    );
}
