//! Activities: follow-ups done and overdue per owner per month (edges to the second),
//! the open overdue backlog at "now", and customers without a follow-up for 30 days.

use super::{Rep, row};

#[test]
fn follow_ups_per_owner_and_neglected_customers() {
    let r = Rep::new();
    r.user("li", "sales");
    let t = "2026-01-01T10:00:00+08:00";
    let ca = r
        .add(t, "customer", &["--name", "甲", "--status", "active"])
        .to_string();
    let cb = r
        .add(
            t,
            "customer",
            &["--name", "乙", "--status", "active", "--owner", "li"],
        )
        .to_string();
    let cc = r
        .add(
            t,
            "customer",
            &["--name", "丙", "--status", "active", "--owner", "li"],
        )
        .to_string();
    r.add(t, "customer", &["--name", "丁", "--status", "lost"]);
    r.add(
        "2026-03-15T10:00:00+08:00",
        "customer",
        &["--name", "戊", "--status", "active"],
    );
    // (customer, owner, due, done)
    let acts = [
        (
            &ca,
            "admin",
            "2026-02-10T10:00:00+08:00",
            "2026-02-09T10:00:00+08:00",
        ),
        (
            &ca,
            "admin",
            "2026-02-15T10:00:00+08:00",
            "2026-02-20T10:00:00+08:00",
        ), // late
        (&ca, "admin", "2026-03-10T10:00:00+08:00", ""), // never done
        (&cb, "li", "2026-03-31T12:00:00+08:00", ""),    // overdue by "now"
        (&cb, "li", "2026-04-02T10:00:00+08:00", ""),    // not yet due
        (&cb, "li", "", "2026-03-01T00:00:00+08:00"),    // first second of March
        (&ca, "admin", "", "2026-01-31T23:59:59+08:00"), // last second of January
        (&cc, "li", "", "2026-03-20T10:00:00+08:00"),
    ];
    for (c, owner, due, done) in acts {
        let mut f = vec![
            "--customer",
            c.as_str(),
            "--subject",
            "回访",
            "--owner",
            owner,
        ];
        if !due.is_empty() {
            f.extend_from_slice(&["--due-at", due]);
        }
        if !done.is_empty() {
            f.extend_from_slice(&["--done-at", done]);
        }
        // Recorded afterwards: a done time may not lie in the future of the clock.
        r.add(super::NOW, "activity", &f);
    }
    let j = r.report(&[
        "activities",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-31",
        "--as-of",
        "2026-03-31",
    ]);
    let per = j["per_owner_period"].as_array().expect("rows");
    let cell = |p: &str, o: &str| {
        per.iter()
            .find(|x| x["period"] == p && x["owner"] == o)
            .map(|x| {
                (
                    x["done"].as_i64().unwrap_or(-1),
                    x["overdue"].as_i64().unwrap_or(-1),
                )
            })
    };
    assert_eq!(cell("2026-02", "admin"), Some((2, 1)));
    assert_eq!(cell("2026-03", "admin"), Some((0, 1)));
    assert_eq!(cell("2026-03", "li"), Some((2, 1)));
    assert_eq!(cell("2026-02", "li"), None);
    let a = row(&j["by_owner"], "owner", "admin");
    assert_eq!(
        (
            a["done"].as_i64(),
            a["overdue"].as_i64(),
            a["open_overdue"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
    let l = row(&j["by_owner"], "owner", "li");
    assert_eq!(
        (
            l["open_overdue"].as_i64(),
            l["neglected_customers"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(a["neglected_customers"], 1);
    let s = &j["summary"];
    assert_eq!(
        (
            s["done"].as_i64(),
            s["overdue"].as_i64(),
            s["neglected_customers"].as_i64()
        ),
        (Some(4), Some(3), Some(2))
    );
    let names: Vec<&str> = j["neglected"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["甲", "乙"],
        "丙 was followed up on 03-20, 丁 is lost, 戊 is new"
    );
    assert!(
        j["neglected"][1]["last_follow_up"]
            .as_str()
            .is_some_and(|d| d.starts_with("2026-03-01T00:00:00"))
    );
    // The owner filter.
    let li = r.report(&[
        "activities",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-31",
        "--as-of",
        "2026-03-31",
        "--owner",
        "li",
    ]);
    assert_eq!(li["summary"]["done"], 2);
    assert_eq!(li["summary"]["neglected_customers"], 1);
    // One day earlier, li's follow-up due 03-31 12:00 is not overdue yet.
    let early = r.report(&[
        "activities",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-30",
        "--as-of",
        "2026-03-30",
    ]);
    assert_eq!(row(&early["by_owner"], "owner", "li")["open_overdue"], 0);
}
