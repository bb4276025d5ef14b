//! Customers: counts by field, new customers and churn per month from the audit log's status
//! changes (a change at the first second of a month belongs to that month), RFM segments
//! from orders with exact mean thresholds, and `--save` writing segments `find` can use.

use super::{Rep, parts, row};

fn data() -> (Rep, Vec<i64>) {
    let r = Rep::new();
    r.user("li", "sales");
    // (created, status, level, city, later changes)
    let people: [(&str, &str, &str, &[(&str, &str)]); 6] = [
        (
            "2025-12-01T10:00:00+08:00",
            "active",
            "A",
            &[("2026-01-15T10:00:00+08:00", "lost")],
        ),
        (
            "2025-12-01T10:00:00+08:00",
            "active",
            "A",
            &[("2026-02-01T00:00:00+08:00", "inactive")],
        ),
        ("2025-12-15T10:00:00+08:00", "active", "B", &[]),
        (
            "2026-01-10T10:00:00+08:00",
            "active",
            "",
            &[("2026-03-05T10:00:00+08:00", "lost")],
        ),
        ("2026-02-20T10:00:00+08:00", "prospect", "", &[]),
        (
            "2025-11-01T10:00:00+08:00",
            "prospect",
            "",
            &[
                ("2026-02-10T10:00:00+08:00", "active"),
                ("2026-02-20T10:00:00+08:00", "lost"),
            ],
        ),
    ];
    let mut ids = Vec::new();
    for (i, (created, status, level, changes)) in people.iter().enumerate() {
        let name = format!("客户{}", i + 1);
        let mut f = vec![
            "--name",
            name.as_str(),
            "--status",
            status,
            "--city",
            "深圳",
        ];
        if !level.is_empty() {
            f.extend_from_slice(&["--level", level]);
        }
        let id = r.add(created, "customer", &f);
        for (at, to) in *changes {
            r.at(at, &["edit", "customer", &id.to_string(), "--status", to])
                .ok();
        }
        ids.push(id);
    }
    (r, ids)
}

#[test]
fn churn_new_and_counts_per_month() {
    let (r, _) = data();
    let j = r.report(&[
        "customers",
        "--from",
        "2026-01-01",
        "--to",
        "2026-03-31",
        "--as-of",
        "2026-03-31",
    ]);
    let per = &j["per_period"];
    let jan = row(per, "period", "2026-01");
    assert_eq!(jan["new"], 1);
    assert_eq!(parts(&jan["churn_rate"]), (1, 3));
    let feb = row(per, "period", "2026-02");
    assert_eq!(feb["new"], 1);
    // The change at 2026-02-01 00:00:00 is February's; the customer active only mid-month is not counted.
    assert_eq!(
        (feb["active_at_start"].as_i64(), feb["churned"].as_i64()),
        (Some(3), Some(1))
    );
    let mar = row(per, "period", "2026-03");
    assert_eq!(parts(&mar["churn_rate"]), (1, 2));
    assert_eq!(mar["churn_rate"]["rate"], 0.5);
    assert_eq!(mar["new"], 0);
    let s = &j["summary"];
    assert_eq!(s["customers"], 6);
    assert_eq!(s["active"], 1);
    assert_eq!(s["new"], 2);
    assert_eq!(
        parts(&s["churn_rate"]),
        (2, 3),
        "whole window: active on Jan 1, lost by Mar 31"
    );
    assert_eq!(row(&j["by_status"], "value", "lost")["customers"], 3);
    assert_eq!(row(&j["by_status"], "value", "lost")["label"], "已流失");
    assert_eq!(
        parts(&row(&j["by_status"], "value", "inactive")["share"]),
        (1, 6)
    );
    assert_eq!(row(&j["by_level"], "value", "A")["customers"], 2);
    assert_eq!(row(&j["by_level"], "label", "(none)")["customers"], 3);
    assert_eq!(row(&j["by_city"], "value", "深圳")["customers"], 6);
    // --by quarter: one bucket; --limit cuts the value lists and sums the rest as (other).
    let q = r.report(&[
        "customers",
        "--from",
        "2026-01-01",
        "--to",
        "2026-03-31",
        "--as-of",
        "2026-03-31",
        "--by",
        "quarter",
        "--limit",
        "1",
    ]);
    let qs = q["per_period"].as_array().expect("rows");
    assert_eq!(qs.len(), 1);
    assert_eq!(parts(&qs[0]["churn_rate"]), (2, 3));
    assert_eq!(row(&q["by_status"], "label", "(other)")["customers"], 3);
    // The owner filter applies to the audit history too.
    let li = r.report(&["customers", "--as-of", "2026-03-31", "--owner", "li"]);
    assert_eq!(li["summary"]["customers"], 0);
    assert_eq!(li["summary"]["active_at_start"], 0);
}

#[test]
fn rfm_segments_thresholds_and_save() {
    let (r, ids) = data();
    let t = "2026-01-02T10:00:00+08:00";
    let c = |i: usize| ids[i].to_string();
    // (customer, date, status, amount)
    let orders = [
        (c(0), "2026-01-10", "paid", "300.00"),
        (c(0), "2026-02-10", "paid", "300.00"),
        (c(0), "2026-03-30", "shipped", "300.00"),
        (c(1), "2026-01-05", "paid", "100.00"),
        (c(2), "2026-02-01", "paid", "200.00"),
        (c(2), "2026-03-31", "confirmed", "300.00"), // the window's last day counts
        (c(2), "2025-12-31", "paid", "9999.00"),     // before the window
        (c(3), "2026-02-01", "paid", "1000.00"),
        (c(4), "2026-03-01", "cancelled", "5000.00"),
    ];
    for (cust, d, st, amount) in &orders {
        r.add(
            t,
            "order",
            &[
                "--customer",
                cust,
                "--order-date",
                d,
                "--status",
                st,
                "--amount",
                amount,
            ],
        );
    }
    let args = [
        "customers",
        "--from",
        "2026-01-01",
        "--to",
        "2026-03-31",
        "--as-of",
        "2026-03-31",
    ];
    let j = r.report(&args);
    let th = &j["rfm_thresholds"];
    assert_eq!(th["customers_scored"], 4);
    assert_eq!(
        parts(&th["recency_days_mean"]),
        (144, 4),
        "1 + 85 + 0 + 58 days"
    );
    assert_eq!(parts(&th["frequency_mean"]), (7, 4));
    let m = row(&j["rfm_monetary"], "currency", "CNY");
    assert_eq!(
        (m["customers"].as_i64(), m["mean"].as_str()),
        (Some(4), Some("625.00"))
    );
    let seg = &j["rfm_segments"];
    for (key, n) in [
        ("important_value", 1),
        ("general_win_back", 1),
        ("general_value", 1),
        ("important_win_back", 1),
        ("important_develop", 0),
    ] {
        assert_eq!(row(seg, "key", key)["customers"], n, "{key}");
    }
    assert_eq!(
        row(seg, "key", "important_value")["segment"],
        "重要价值客户"
    );
    assert_eq!(
        row(&j["rfm_segment_amounts"], "key", "important_value")["amount"],
        "900.00"
    );

    // A sales user may read the report but not save segments.
    r.user("xiao", "sales");
    let tok = r.token("xiao");
    let mut save: Vec<&str> = vec!["report"];
    save.extend_from_slice(&args);
    save.push("--save");
    let denied = r.env.run_env(
        &save,
        &[("CRM_TOKEN", tok.as_str()), ("CRM_TEST_NOW", super::NOW)],
    );
    denied.code(7).one_error_line();
    // State read through crm at the data set's moment (the admin session is from then).
    let read = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(args);
        r.at(super::NOW, &a)
            .ok()
            .json()
            .as_array()
            .expect("rows")
            .clone()
    };
    let audits = || read(&["audit"]);
    assert_eq!(
        read(&["find", "customer"])
            .iter()
            .filter(|c| !c["segment"].is_null())
            .count(),
        0
    );

    let audit_before = audits().len();
    let saved = r.at(super::NOW, &save);
    saved.ok();
    assert!(
        saved.stderr.contains("4 customers changed"),
        "{}",
        saved.stderr
    );
    assert_eq!(audits().len() - audit_before, 1, "one audit entry per run");
    assert_eq!(
        audits().iter().filter(|a| a["action"] == "segment").count(),
        1
    );
    let found = r
        .at(
            super::NOW,
            &[
                "--format",
                "json",
                "find",
                "customer",
                "--where",
                "segment=重要价值客户",
            ],
        )
        .ok()
        .json();
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    assert_eq!(found[0]["id"], ids[0]);
    let seg_of = |i: usize| -> Option<String> {
        read(&["find", "customer", "--where", &format!("id={}", ids[i])])[0]["segment"]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(seg_of(1).as_deref(), Some("一般挽留客户"));
    assert_eq!(seg_of(2).as_deref(), Some("一般价值客户"));
    assert_eq!(seg_of(3).as_deref(), Some("重要挽留客户"));
    assert_eq!(seg_of(4), None, "no booked order, no segment");
    // Saving again changes nothing but is still audited once.
    let again = r.at(super::NOW, &save);
    assert!(
        again.ok().stderr.contains("0 customers changed"),
        "{}",
        again.stderr
    );
    assert_eq!(
        audits().iter().filter(|a| a["action"] == "segment").count(),
        2
    );
}
