//! Sales: won deals by close month and quarter (window edges to the second), booked and
//! paid orders by order date (edges by day), the weighted forecast, top customers, by owner.

use super::{Rep, row, ts};

#[test]
fn sales_by_month_quarter_owner_and_forecast() {
    let r = Rep::new();
    r.user("li", "sales");
    let t = "2026-01-01T09:00:00+08:00";
    let c1 = r.add(t, "customer", &["--name", "甲公司"]).to_string();
    let c2 = r.add(t, "customer", &["--name", "乙公司"]).to_string();
    // Won deals: each won through crm at its moment, so the stage rules set closed_at then.
    let won = [
        ("2026-01-01T00:00:00+08:00", "100.10", "admin"), // first second of the window
        ("2026-03-31T23:59:59+08:00", "200.20", "li"),    // last second of March
        ("2026-06-30T23:59:59+08:00", "0.01", "admin"),   // last second of the window
        ("2026-07-01T00:00:00+08:00", "999.00", "admin"), // just outside
        ("2025-12-31T23:59:59+08:00", "999.00", "admin"), // just outside
    ];
    for (closed, amount, owner) in won {
        let id = r.add(
            t,
            "opportunity",
            &[
                "--customer",
                &c1,
                "--name",
                "won",
                "--amount",
                amount,
                "--owner",
                owner,
            ],
        );
        r.at(
            closed,
            &["edit", "opportunity", &id.to_string(), "--stage", "won"],
        )
        .ok();
        let o = r.at(
            closed,
            &["--format", "json", "show", "opportunity", &id.to_string()],
        );
        let o = o.ok().json();
        assert_eq!(
            (o["probability"].as_i64(), o["closed_at"].as_str().map(ts)),
            (Some(100), Some(ts(closed)))
        );
    }
    // Open opportunities for the forecast.
    r.add(
        t,
        "opportunity",
        &[
            "--customer",
            &c1,
            "--name",
            "f1",
            "--amount",
            "100.00",
            "--probability",
            "30",
            "--expected-close",
            "2026-08-15",
        ],
    );
    r.add(
        t,
        "opportunity",
        &[
            "--customer",
            &c2,
            "--name",
            "f2",
            "--amount",
            "50.01",
            "--probability",
            "50",
            "--expected-close",
            "2026-08-20",
        ],
    );
    r.add(
        t,
        "opportunity",
        &[
            "--customer",
            &c2,
            "--name",
            "f3",
            "--amount",
            "10.00",
            "--probability",
            "20",
            "--expected-close",
            "2026-09-01",
        ],
    );
    // Orders: (date, status, amount, customer, owner)
    let orders = [
        ("2026-01-01", "paid", "0.10", &c1, "admin"),
        ("2026-01-15", "confirmed", "0.20", &c1, "admin"),
        ("2026-06-30", "paid", "1000.00", &c2, "li"),
        ("2026-02-10", "cancelled", "5000.00", &c2, "li"),
        ("2026-02-11", "draft", "5000.00", &c2, "li"),
        ("2025-12-31", "paid", "7.00", &c1, "admin"),
        ("2026-07-01", "paid", "7.00", &c1, "admin"),
    ];
    for (d, st, amount, c, owner) in orders {
        r.add(
            t,
            "order",
            &[
                "--customer",
                c,
                "--order-date",
                d,
                "--status",
                st,
                "--amount",
                amount,
                "--owner",
                owner,
            ],
        );
    }

    let m = r.report(&[
        "sales",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
        "--as-of",
        "2026-07-15",
    ]);
    assert_eq!(m["params"]["by"], "month");
    let g = &m["by_group"];
    assert_eq!(
        g.as_array().map(Vec::len),
        Some(6),
        "every month shown, empty ones too"
    );
    let jan = row(g, "period", "2026-01");
    assert_eq!(
        (jan["won_count"].as_i64(), jan["won_amount"].as_str()),
        (Some(1), Some("100.10"))
    );
    assert_eq!(
        (jan["orders"].as_i64(), jan["order_amount"].as_str()),
        (Some(2), Some("0.30"))
    );
    assert_eq!(
        (jan["paid_orders"].as_i64(), jan["paid_amount"].as_str()),
        (Some(1), Some("0.10"))
    );
    assert_eq!(
        row(g, "period", "2026-02")["orders"],
        0,
        "cancelled and draft are not booked"
    );
    assert_eq!(row(g, "period", "2026-03")["won_amount"], "200.20");
    let jun = row(g, "period", "2026-06");
    assert_eq!(
        (jun["won_amount"].as_str(), jun["paid_amount"].as_str()),
        (Some("0.01"), Some("1000.00"))
    );
    let s = &m["summary"];
    assert_eq!(
        (s["won_count"].as_i64(), s["orders"].as_i64()),
        (Some(3), Some(3))
    );
    let a = row(&m["amounts"], "currency", "CNY");
    assert_eq!(a["won_amount"], "300.31");
    assert_eq!(a["order_amount"], "1000.30");
    assert_eq!(a["paid_amount"], "1000.10");
    // With --to, the forecast only looks up to --to: nothing expected to close by June.
    assert_eq!(m["forecast"].as_array().map(Vec::len), Some(0));
    let top = m["top_customers"].as_array().expect("rows");
    assert_eq!(top[0]["name"], "乙公司");
    assert_eq!(
        (top[0]["orders"].as_i64(), top[0]["amount"].as_str()),
        (Some(1), Some("1000.00"))
    );
    assert_eq!(top[1]["amount"], "0.30");

    let q = r.report(&[
        "sales",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
        "--as-of",
        "2026-07-15",
        "--by",
        "quarter",
    ]);
    let g = q["by_group"].as_array().expect("rows");
    assert_eq!(g.len(), 2);
    assert_eq!(
        (g[0]["period"].as_str(), g[0]["won_amount"].as_str()),
        (Some("2026-Q1"), Some("300.30"))
    );
    assert_eq!(
        (g[1]["period"].as_str(), g[1]["won_amount"].as_str()),
        (Some("2026-Q2"), Some("0.01"))
    );

    let o = r.report(&[
        "sales",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
        "--as-of",
        "2026-07-15",
        "--by",
        "owner",
    ]);
    let li = row(&o["by_group"], "owner", "li");
    assert_eq!(
        (li["won_amount"].as_str(), li["order_amount"].as_str()),
        (Some("200.20"), Some("1000.00"))
    );
    assert_eq!(
        row(&o["by_group"], "owner", "admin")["won_amount"],
        "100.11"
    );

    // Without --from/--to the forecast covers every open opportunity, by expected month.
    let f = r.report(&["sales", "--as-of", "2026-07-15"]);
    let aug = row(&f["forecast"], "month", "2026-08");
    assert_eq!(
        (aug["count"].as_i64(), aug["amount"].as_str()),
        (Some(2), Some("150.01"))
    );
    // 10000×30 + 5001×50 = 550050 → 5500.5 fen → 55.01
    assert_eq!(aug["weighted"], "55.01");
    assert_eq!(row(&f["forecast"], "month", "2026-09")["weighted"], "2.00");
    assert_eq!(f["amounts"][0]["forecast_weighted"], "57.01");
    assert_eq!(f["amounts"][0]["currency"], "CNY");
    // Default window: the 12 months up to the as-of day.
    assert_eq!(f["params"]["from"], "2025-08-01");
    assert_eq!(f["by_group"].as_array().map(Vec::len), Some(12));
}
