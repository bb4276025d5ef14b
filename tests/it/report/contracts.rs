//! Contracts: by status, total and in-force value, expiring within 30/60/90 days of the
//! as-of day (edges inclusive), renewals and the renewal rate, with and without a window.

use super::{Rep, parts, row};

#[test]
fn contracts_expiring_and_renewals() {
    let r = Rep::new();
    let t = "2026-01-02T10:00:00+08:00";
    let mut cust = std::collections::HashMap::new();
    for k in ["X", "Y", "Z", "W", "V"] {
        cust.insert(
            k,
            r.add(t, "customer", &["--name", &format!("合同客户{k}")])
                .to_string(),
        );
    }
    // (title, customer, status, start, end, amount)
    let contracts = [
        ("k1", "X", "active", "2025-06-01", "2026-06-20", "1000.00"),
        ("k2", "X", "active", "2026-06-25", "2027-06-24", "1200.00"), // renews k1 (5 days after)
        ("k3", "Y", "active", "2025-07-01", "2026-07-15", "500.00"),
        ("k4", "Y", "active", "2025-08-01", "2026-08-30", "300.00"), // as-of + 90 days exactly
        (
            "k5",
            "Z",
            "terminated",
            "2025-01-01",
            "2026-01-31",
            "700.00",
        ),
        ("k6", "Z", "draft", "2026-02-15", "2027-02-14", "50.00"), // a draft renews nothing
        ("k7", "W", "active", "2026-05-01", "2026-05-20", "200.00"),
        ("k9", "V", "active", "2025-01-01", "2025-12-31", "400.00"),
        ("k10", "V", "active", "2026-01-20", "2026-12-31", "450.00"), // renews k9 (20 days after)
    ];
    for (title, c, st, start, end, amount) in contracts {
        r.add(
            t,
            "contract",
            &[
                "--customer",
                &cust[c],
                "--title",
                title,
                "--status",
                st,
                "--start-date",
                start,
                "--end-date",
                end,
                "--amount",
                amount,
            ],
        );
    }
    let j = r.report(&["contracts", "--as-of", "2026-06-01"]);
    let s = &j["summary"];
    assert_eq!(s["contracts"], 9);
    assert_eq!(s["in_force"], 5, "k7 and k9 ended before 2026-06-01");
    let cny = row(&j["amounts"], "currency", "CNY");
    assert_eq!(cny["total_amount"], "4800.00");
    assert_eq!(cny["in_force_amount"], "3450.00");
    assert_eq!(s["renewals"], 2);
    assert_eq!(
        parts(&s["renewal_rate"]),
        (1, 3),
        "ended by the as-of day: k5, k7, k9; renewed: k9"
    );
    let st = &j["by_status"];
    assert_eq!(row(st, "status", "draft")["amount"], "50.00");
    assert_eq!(row(st, "status", "terminated")["contracts"], 1);
    let exp = j["expiring"].as_array().expect("rows");
    let got: Vec<(i64, &str)> = exp
        .iter()
        .map(|e| {
            (
                e["contracts"].as_i64().unwrap_or(-1),
                e["amount"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(got, [(1, "1000.00"), (2, "1500.00"), (3, "1800.00")]);
    let ren = j["renewals"].as_array().expect("rows");
    let pairs: Vec<(&str, &str)> = ren
        .iter()
        .map(|x| {
            (
                x["previous_end"].as_str().unwrap_or(""),
                x["renewal_start"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(pairs.contains(&("2026-06-20", "2026-06-25")), "{pairs:?}");
    assert!(pairs.contains(&("2025-12-31", "2026-01-20")), "{pairs:?}");

    // One day later, k4's end is 89 days away and k1's 18: the buckets shift by the as-of day.
    let later = r.report(&["contracts", "--as-of", "2026-06-02"]);
    assert_eq!(later["expiring"][2]["contracts"], 3);
    let before = r.report(&["contracts", "--as-of", "2026-05-31"]);
    assert_eq!(before["expiring"][2]["contracts"], 2, "k4 is 91 days away");

    // A window keeps the contracts starting in it: k2, k6, k7, k10.
    let w = r.report(&[
        "contracts",
        "--as-of",
        "2026-06-01",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
    ]);
    assert_eq!(w["summary"]["contracts"], 4);
    assert_eq!(w["amounts"][0]["total_amount"], "1900.00");
    assert_eq!(w["summary"]["renewals"], 2);
    assert_eq!(
        parts(&w["summary"]["renewal_rate"]),
        (0, 2),
        "ended in the window: k5, k7"
    );
}
