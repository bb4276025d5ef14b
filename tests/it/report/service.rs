//! Service: tickets by status, type and priority; average and nearest-rank p90 resolution
//! time; breaches against each priority's service time (resolved or still open at "now");
//! complaint rate; satisfaction mean and distribution; window edges.

use super::{Rep, parts, row, ts};

#[test]
fn service_times_breaches_and_satisfaction() {
    let r = Rep::new();
    r.user("wang", "service");
    let t = "2026-04-01T08:00:00+08:00";
    let c = r.add(t, "customer", &["--name", "服务客户"]).to_string();
    // (opened, priority, type, hours to resolve, satisfaction, assignee)
    let h = 3600;
    let tickets: [(&str, &str, &str, Option<i64>, &str, &str); 10] = [
        (
            "2026-04-01T08:00:00+08:00",
            "urgent",
            "inquiry",
            Some(3 * h),
            "5",
            "wang",
        ),
        (
            "2026-04-01T08:00:00+08:00",
            "urgent",
            "repair",
            Some(5 * h),
            "4",
            "wang",
        ),
        (
            "2026-04-01T08:00:00+08:00",
            "high",
            "repair",
            Some(24 * h),
            "4",
            "",
        ),
        (
            "2026-04-01T08:00:00+08:00",
            "normal",
            "complaint",
            Some(80 * h),
            "1",
            "",
        ),
        ("2026-04-20T08:00:00+08:00", "low", "inquiry", None, "", ""),
        ("2026-04-29T08:00:00+08:00", "low", "inquiry", None, "", ""),
        (
            "2026-04-01T08:00:00+08:00",
            "normal",
            "complaint",
            Some(10 * h),
            "2",
            "",
        ),
        (
            "2026-04-01T08:00:00+08:00",
            "normal",
            "inquiry",
            Some(h),
            "",
            "",
        ),
        // resolved after "now" (the end of 2026-04-30): still open then, and within 4 h of age
        (
            "2026-04-30T20:00:00+08:00",
            "high",
            "inquiry",
            Some(5 * h),
            "",
            "",
        ),
        // opened after the window
        (
            "2026-05-02T08:00:00+08:00",
            "urgent",
            "complaint",
            Some(100 * h),
            "1",
            "",
        ),
    ];
    for (opened, prio, kind, took, sat, who) in tickets {
        let mut f = vec![
            "--customer",
            c.as_str(),
            "--subject",
            "问题",
            "--opened-at",
            opened,
            "--priority",
            prio,
            "--type",
            kind,
        ];
        if !who.is_empty() {
            f.extend_from_slice(&["--assignee", who]);
        }
        let id = r.add(t, "ticket", &f);
        // Resolved through crm at its moment (the rules set resolved_at then), then rated.
        if let Some(s) = took {
            let at = crm::schema::kinds::format_datetime(ts(opened) + s);
            let id = id.to_string();
            r.at(&at, &["edit", "ticket", &id, "--status", "resolved"])
                .ok();
            if !sat.is_empty() {
                r.at(&at, &["edit", "ticket", &id, "--satisfaction", sat])
                    .ok();
            }
            let k = r.at(&at, &["--format", "json", "show", "ticket", &id]);
            let k = k.ok().json();
            assert_eq!(k["resolved_at"].as_str().map(ts), Some(ts(opened) + s));
        } else {
            assert!(sat.is_empty(), "satisfaction needs a resolved ticket");
        }
    }

    let j = r.report(&["service", "--as-of", "2026-04-30"]);
    let s = &j["summary"];
    assert_eq!(s["tickets"], 9);
    assert_eq!(s["resolved"], 6);
    assert_eq!(s["unresolved"], 3);
    assert_eq!(s["avg_hours"], 20.5, "(1+3+5+10+24+80)/6");
    assert_eq!(s["p90_hours"], 80.0, "rank ceil(0.9×6) = 6");
    assert_eq!(
        parts(&s["breached"]),
        (3, 9),
        "urgent 5 h, normal 80 h, low open 10 days"
    );
    assert_eq!(parts(&s["complaint_rate"]), (2, 9));
    assert_eq!(parts(&s["satisfaction"]), (16, 5));
    assert_eq!(s["satisfaction"]["mean"], 3.2);
    let u = row(&j["by_priority"], "value", "urgent");
    assert_eq!(
        (
            u["tickets"].as_i64(),
            u["avg_hours"].as_f64(),
            u["p90_hours"].as_f64()
        ),
        (Some(2), Some(4.0), Some(5.0))
    );
    assert_eq!(parts(&u["breached"]), (1, 2));
    assert_eq!(u["limit_hours"], 4.0);
    assert_eq!(
        parts(&row(&j["by_priority"], "value", "high")["breached"]),
        (0, 2),
        "24 h exactly is in time"
    );
    assert_eq!(row(&j["by_type"], "value", "complaint")["tickets"], 2);
    assert_eq!(row(&j["by_type"], "value", "complaint")["label"], "投诉");
    assert_eq!(
        row(&j["by_status"], "value", "resolved")["tickets"],
        7,
        "status is as stored"
    );
    let dist = j["satisfaction"].as_array().expect("rows");
    let counts: Vec<i64> = dist
        .iter()
        .map(|d| d["tickets"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(counts, [1, 1, 0, 2, 1]);
    assert_eq!(parts(&dist[3]["share"]), (2, 5));

    // Window edges: opened on or after 2026-04-20 00:00.
    let late = r.report(&["service", "--as-of", "2026-04-30", "--from", "2026-04-20"]);
    assert_eq!(late["summary"]["tickets"], 3);
    // --owner is the assignee; --by assignee groups.
    let w = r.report(&["service", "--as-of", "2026-04-30", "--owner", "wang"]);
    assert_eq!(w["summary"]["tickets"], 2);
    let by = r.report(&["service", "--as-of", "2026-04-30", "--by", "assignee"]);
    assert_eq!(row(&by["by_group"], "assignee", "wang")["tickets"], 2);
    assert_eq!(row(&by["by_group"], "assignee", "")["tickets"], 7);
    // Later, the May ticket counts and the April 30 one is resolved.
    let may = r.report(&["service", "--as-of", "2026-05-31"]);
    assert_eq!(
        (
            may["summary"]["tickets"].as_i64(),
            may["summary"]["resolved"].as_i64()
        ),
        (Some(10), Some(8))
    );
    // A service user may read reports.
    let tok = r.token("wang");
    r.env
        .run_env(
            &["report", "service", "--as-of", "2026-04-30"],
            &[("CRM_TOKEN", tok.as_str()), ("CRM_TEST_NOW", super::NOW)],
        )
        .ok();
}
