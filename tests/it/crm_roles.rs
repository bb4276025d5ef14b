//! Role checks for the CRM entities and workflows: sales owns its leads, opportunities,
//! quotes, orders, contracts and activities; service works tickets and reads customers and
//! contacts; viewer reads; manager does all. Every refusal is exit 7 and audited.

use crate::harness::Env;

#[test]
fn roles_for_each_crm_entity_and_workflow() {
    let env = Env::new();
    for (u, role) in [
        ("rep1", "sales"),
        ("rep2", "sales"),
        ("svc", "service"),
        ("view", "viewer"),
        ("boss", "manager"),
    ] {
        env.add_user(u, role);
    }
    let [rep1, rep2, svc, view, boss] =
        ["rep1", "rep2", "svc", "view", "boss"].map(|u| env.token(u));
    let c1 = env
        .add("customer", &["--name", "一号客户", "--owner", "rep1"])
        .to_string();
    env.add(
        "product",
        &["--code", "P1", "--name", "产品", "--unit-price", "10"],
    );
    let ok = |t: &str, args: &[&str]| -> String {
        let r = env.run_as(t, args);
        r.ok();
        r.stdout.trim().to_string()
    };
    let denied = |t: &str, args: &[&str]| {
        env.run_as(t, args).code(7).one_error_line();
    };

    // Sales: its own records of every sales entity, through add and the workflows.
    let lead = ok(&rep1, &["add", "lead", "--name", "线索", "-q"]);
    let opp = ok(
        &rep1,
        &[
            "add",
            "opportunity",
            "--customer",
            &c1,
            "--name",
            "机会",
            "-q",
        ],
    );
    let quote = ok(
        &rep1,
        &["add", "quote", "--customer", &c1, "--line", "P1:2", "-q"],
    );
    let order = ok(
        &rep1,
        &["add", "order", "--customer", &c1, "--line", "P1:1", "-q"],
    );
    let contract = ok(
        &rep1,
        &[
            "add",
            "contract",
            "--customer",
            &c1,
            "--title",
            "合同",
            "-q",
        ],
    );
    let plan = ok(
        &rep1,
        &[
            "add",
            "activity",
            "--customer",
            &c1,
            "--subject",
            "计划",
            "--due-at",
            "2026-12-01 10:00",
            "-q",
        ],
    );
    ok(&rep1, &["log", "customer", &c1, "电话", "-q"]);
    ok(
        &rep1,
        &[
            "add",
            "order_line",
            "--order",
            &order,
            "--product",
            "P1",
            "-q",
        ],
    );
    denied(
        &rep1,
        &[
            "add",
            "opportunity",
            "--customer",
            &c1,
            "--name",
            "x",
            "--owner",
            "rep2",
        ],
    );
    for entity in ["product", "campaign"] {
        denied(&rep1, &["add", entity, "--name", "x"]);
    }
    denied(
        &rep1,
        &["add", "ticket", "--customer", &c1, "--subject", "x"],
    );
    ok(&rep1, &["find", "ticket"]);

    // Another sales user reads them but may not change them.
    ok(&rep2, &["show", "opportunity", &opp]);
    for args in [
        vec!["edit", "opportunity", opp.as_str(), "--stage", "proposal"],
        vec!["edit", "lead", lead.as_str(), "--status", "contacted"],
        vec!["convert", "lead", lead.as_str()],
        vec!["done", "activity", plan.as_str()],
        vec![
            "add",
            "quote_line",
            "--quote",
            quote.as_str(),
            "--product",
            "P1",
        ],
        vec!["delete", "contract", contract.as_str(), "--yes"],
        vec!["log", "opportunity", opp.as_str(), "x"],
    ] {
        // `log` too: it would file rep2's activity under rep1's customer (issue 8, item 10).
        denied(&rep2, &args);
    }

    // Service: tickets, and reading customers and contacts only.
    let t = ok(
        &svc,
        &[
            "add",
            "ticket",
            "--customer",
            &c1,
            "--subject",
            "报修",
            "--assignee",
            "svc",
            "-q",
        ],
    );
    ok(&svc, &["edit", "ticket", &t, "--status", "open"]);
    ok(&svc, &["find", "customer"]);
    ok(&svc, &["find", "contact"]);
    ok(&svc, &["agenda"]);
    for args in [
        vec!["find", "opportunity"],
        vec!["show", "lead", lead.as_str()],
        vec![
            "add",
            "opportunity",
            "--customer",
            c1.as_str(),
            "--name",
            "x",
        ],
        vec!["log", "customer", c1.as_str(), "x"],
        vec!["delete", "ticket", t.as_str(), "--yes"],
        vec!["convert", "lead", lead.as_str()],
        vec!["edit", "customer", c1.as_str(), "--level", "A"],
    ] {
        denied(&svc, &args);
    }

    // Viewer: reads everything, changes nothing.
    ok(&view, &["find", "lead"]);
    ok(&view, &["show", "ticket", &t]);
    ok(&view, &["agenda"]);
    for args in [
        vec!["add", "lead", "--name", "x"],
        vec!["edit", "ticket", t.as_str(), "--status", "pending"],
        vec!["log", "customer", c1.as_str(), "x"],
        vec!["done", "activity", plan.as_str()],
        vec!["convert", "lead", lead.as_str()],
        vec!["convert", "quote", quote.as_str()],
    ] {
        denied(&view, &args);
    }

    // Manager: everyone's records, and the entities sales may not touch.
    ok(&boss, &["edit", "opportunity", &opp, "--stage", "proposal"]);
    ok(&boss, &["add", "campaign", "--name", "活动", "-q"]);
    ok(
        &boss,
        &["add", "product", "--code", "P2", "--name", "产品二", "-q"],
    );
    ok(&boss, &["edit", "ticket", &t, "--status", "resolved"]);
    ok(&boss, &["edit", "quote", &quote, "--status", "accepted"]);

    // The owner runs the workflows on its own records.
    ok(&rep1, &["done", "activity", &plan]);
    let converted = ok(&rep1, &["convert", "lead", &lead, "--format", "json"]);
    assert!(
        converted.contains("\"customer_created\": true"),
        "{converted}"
    );
    ok(&rep1, &["convert", "quote", &quote, "-q"]);
    assert_eq!(env.count_where("customer", &["owner=rep1"]), 2);
    ok(&boss, &["delete", "contract", &contract, "--yes"]);
    assert!(env.audits(&[("action", "denied")]) >= 20);
}
