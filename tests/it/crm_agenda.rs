//! `crm agenda` with fixed data and `--as-of`: each group's contents, `--days`, `--user`,
//! the per-role defaults, and the table and JSON shapes.

use crate::crm_support::{At, ids};
use crate::harness::Env;

/// Where the records are written: well before the agenda's day.
const CREATED: &str = "2026-10-01T09:00:00+08:00";
/// When the follow-ups were done (a `done_at` may not lie in the future).
const LATER: &str = "2026-11-29T09:00:00+08:00";
/// When the agenda is asked for: the session's clock; `--as-of` fixes the agenda's day.
const ASKED: &str = "2026-12-01T12:00:00+08:00";

#[test]
fn agenda_groups_as_of_a_fixed_day() {
    let env = Env::new();
    env.add_user("rep", "sales");
    env.add_user("svc", "service");
    let at = At::new(&env, "admin", CREATED);
    let cust = |name: &str, owner: &str, status: &str| {
        at.add(
            "customer",
            &["--name", name, "--owner", owner, "--status", status],
        )
    };
    let quiet = cust("久未联系", "admin", "active");
    let recent = cust("最近联系", "rep", "active");
    let never = cust("从未联系", "admin", "prospect");
    cust("已流失", "admin", "lost");
    let (q, r) = (quiet.to_string(), recent.to_string());
    let later = |args: &[&str]| {
        at.run_at(LATER, args)
            .ok()
            .stdout
            .trim()
            .parse::<i64>()
            .unwrap()
    };
    later(&[
        "log",
        "customer",
        &q,
        "问候",
        "--at",
        "2026-10-15 10:00",
        "-q",
    ]);
    later(&[
        "log",
        "customer",
        &r,
        "回访",
        "--at",
        "2026-11-20 10:00",
        "-q",
    ]);
    let plan = |due: &str, owner: &str| {
        at.add(
            "activity",
            &[
                "--customer",
                &r,
                "--subject",
                "计划",
                "--type",
                "call",
                "--due-at",
                due,
                "--owner",
                owner,
            ],
        )
    };
    let overdue = plan("2026-11-28 10:00", "admin");
    let today = plan("2026-12-01 15:00", "rep");
    plan("2026-12-02 09:00", "admin");
    let done = plan("2026-11-20 10:00", "admin");
    at.run_at(LATER, &["done", "activity", &done.to_string()])
        .ok();

    let opp = |stage: &str, close: &str, owner: &str| {
        let mut a = vec![
            "--customer",
            &q,
            "--name",
            "机会",
            "--stage",
            stage,
            "--expected-close",
            close,
            "--owner",
            owner,
        ];
        if stage == "lost" {
            a.extend(["--lost-reason", "价格"]);
        }
        at.add("opportunity", &a)
    };
    let late_opp = opp("negotiation", "2026-11-30", "admin");
    let rep_opp = opp("proposal", "2026-11-15", "rep");
    opp("won", "2026-11-01", "admin");
    opp("lost", "2026-11-01", "admin");
    opp("proposal", "2026-12-01", "admin");

    let contract = |end: &str, status: &str| {
        at.add(
            "contract",
            &[
                "--customer",
                &q,
                "--title",
                "合同",
                "--start-date",
                "2026-01-01",
                "--end-date",
                end,
                "--status",
                status,
            ],
        )
    };
    let soon = contract("2026-12-20", "active");
    let far = contract("2027-01-15", "active");
    contract("2026-12-10", "draft");
    contract("2026-11-30", "active");
    let ends_today = contract("2026-12-01", "active");

    let ticket = |priority: &str, status: &str, opened: &str, assignee: &str| {
        let mut a = vec![
            "--customer",
            &q,
            "--subject",
            "工单",
            "--priority",
            priority,
            "--opened-at",
            opened,
        ];
        if !assignee.is_empty() {
            a.extend(["--assignee", assignee]);
        }
        let id = at.add("ticket", &a);
        if status != "new" {
            at.run(&["edit", "ticket", &id.to_string(), "--status", status])
                .ok();
        }
        id
    };
    let urgent = ticket("urgent", "open", "2026-11-30 19:00", "admin");
    ticket("urgent", "open", "2026-11-30 21:00", "admin");
    let low = ticket("low", "new", "2026-11-23 09:00", "");
    ticket("normal", "resolved", "2026-11-01 09:00", "svc");
    let high = ticket("high", "pending", "2026-11-29 09:00", "svc");

    let agenda = |args: &[&str]| {
        let mut a = vec!["agenda", "--as-of", "2026-12-01", "--format", "json"];
        a.extend_from_slice(args);
        at.run_at(ASKED, &a).ok().json()
    };
    let all = agenda(&[]);
    assert_eq!(all["as_of"], "2026-12-01T00:00:00+08:00");
    assert_eq!(all["days"], 30);
    assert_eq!(ids(&all["followups"]), [overdue, today]);
    assert_eq!(all["followups"][0]["detail"], "overdue by 3 days");
    assert_eq!(all["followups"][1]["detail"], "due today");
    assert_eq!(all["followups"][0]["customer_name"], "最近联系");
    assert_eq!(ids(&all["opportunities"]), [rep_opp, late_opp]);
    assert_eq!(ids(&all["contracts"]), [ends_today, soon]);
    assert_eq!(all["contracts"][0]["detail"], "ends today");
    assert_eq!(all["contracts"][1]["detail"], "ends in 19 days");
    assert_eq!(ids(&all["tickets"]), [low, high, urgent]);
    assert_eq!(all["tickets"][2]["detail"], "urgent: open 5h > 4h");
    assert_eq!(ids(&all["customers"]), [never, quiet]);
    assert_eq!(all["customers"][1]["detail"], "no follow-up for 47 days");

    assert_eq!(
        ids(&agenda(&["--days", "60"])["contracts"]),
        [ends_today, soon, far]
    );
    // --limit keeps the most pressing per group and says how many there are in all.
    let one = agenda(&["--limit", "1"]);
    assert_eq!(ids(&one["customers"]), [never]);
    assert_eq!(ids(&one["tickets"]), [low]);
    assert_eq!(
        (
            one["totals"]["customers"].as_i64(),
            one["totals"]["tickets"].as_i64()
        ),
        (Some(2), Some(3))
    );
    let limited = at
        .run_at(ASKED, &["agenda", "--as-of", "2026-12-01", "--limit", "1"])
        .ok()
        .stdout
        .clone();
    assert!(
        limited.contains("Tickets past their service time (1 of 3)"),
        "{limited}"
    );
    let rep = agenda(&["--user", "rep"]);
    assert_eq!(ids(&rep["followups"]), [today]);
    assert_eq!(ids(&rep["opportunities"]), [rep_opp]);
    assert!(ids(&rep["customers"]).is_empty());
    // A user's tickets include the unassigned ones.
    assert_eq!(ids(&agenda(&["--user", "svc"])["tickets"]), [low, high]);
    at.run_at(ASKED, &["agenda", "--user", "nobody"])
        .code(3)
        .one_error_line();
    at.run_at(ASKED, &["agenda", "--as-of", "someday"])
        .code(2)
        .one_error_line();

    // Sales see their own by default; service sees only what it may read.
    let as_rep = At::new(&env, "rep", CREATED);
    let mine = as_rep
        .run_at(
            ASKED,
            &["agenda", "--as-of", "2026-12-01", "--format", "json"],
        )
        .ok()
        .json();
    assert_eq!(mine["user"], "rep");
    assert_eq!(ids(&mine["followups"]), [today]);
    let everyone = as_rep
        .run_at(
            ASKED,
            &[
                "agenda",
                "--as-of",
                "2026-12-01",
                "--user",
                "all",
                "--format",
                "json",
            ],
        )
        .ok()
        .json();
    assert_eq!(ids(&everyone["followups"]), [overdue, today]);
    let as_svc = At::new(&env, "svc", CREATED);
    let svc = as_svc
        .run_at(
            ASKED,
            &["agenda", "--as-of", "2026-12-01", "--format", "json"],
        )
        .ok()
        .json();
    let keys: Vec<&String> = svc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "as_of",
            "days",
            "user",
            "limit",
            "totals",
            "tickets",
            "customers"
        ]
    );

    // The table groups with headings; zh headings with --lang zh.
    let table = at
        .run_at(ASKED, &["agenda", "--as-of", "2026-12-01"])
        .ok()
        .stdout
        .clone();
    for heading in [
        "Follow-ups overdue and due today (2)",
        "Contracts ending soon (2)",
        "Tickets past their service time (3)",
        "Customers without a follow-up for 30 days (2)",
    ] {
        assert!(table.contains(heading), "{heading} in:\n{table}");
    }
    let zh = at
        .run_at(ASKED, &["agenda", "--as-of", "2026-12-01", "--lang", "zh"])
        .ok()
        .stdout
        .clone();
    assert!(
        zh.contains("即将到期的合同 (2)") && zh.contains("逾期 3 天"),
        "{zh}"
    );
    let csv = at
        .run_at(
            ASKED,
            &["agenda", "--as-of", "2026-12-01", "--format", "csv"],
        )
        .ok()
        .stdout
        .clone();
    assert!(csv.starts_with("group,id,number,subject"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 2 + 2 + 2 + 3 + 2);
}

#[test]
fn demo_agenda_has_something_in_every_group() {
    let env = Env::empty();
    let demo = env.path("demo.db");
    let demo = demo.to_str().unwrap();
    let now = [("CRM_TEST_NOW", "2026-11-26T09:00:00+08:00")];
    let r = env.run_env(&["demo", "--path", demo], &now);
    r.ok();
    assert!(
        r.stderr.contains("7 opportunities") && r.stderr.contains("6 tickets"),
        "{}",
        r.stderr
    );
    let run = |args: &[&str]| {
        let mut a = vec!["--db", demo, "--format", "json"];
        a.extend_from_slice(args);
        env.run_env(&a, &now).ok().json()
    };
    let agenda = run(&["agenda"]);
    let count = |g: &str| agenda[g].as_array().map_or(0, Vec::len);
    let counts: Vec<usize> = [
        "followups",
        "opportunities",
        "contracts",
        "tickets",
        "customers",
    ]
    .iter()
    .map(|g| count(g))
    .collect();
    assert_eq!(counts, [2, 2, 2, 3, 3], "{agenda}");
    // The sample quote and the order made from it agree line for line.
    assert_eq!(run(&["show", "quote", "Q000001"])["amount"], "96000.00");
    assert_eq!(run(&["show", "order", "SO000001"])["amount"], "96000.00");
    assert_eq!(run(&["show", "order", "SO000002"])["amount"], "45000.00");
    assert_eq!(run(&["show", "contract", "HT000003"])["status"], "expired");
    let shown = run(&["show", "customer", "C000001"]);
    for e in [
        "contact",
        "opportunity",
        "quote",
        "contract",
        "activity",
        "ticket",
    ] {
        assert!(
            shown["related"][e].is_array(),
            "C000001 lists its {e}s: {shown}"
        );
    }
    // The lead whose company is already a customer links to it.
    let lead = run(&["convert", "lead", "4"]);
    assert_eq!(lead["customer"], "C000006");
    assert_eq!(lead["matched_by"], "name");
}
