//! The customers report after its RFM and counts were moved out of SQL `GROUP BY`s (issue 8,
//! bench goal under a second): orders are totalled per customer and currency in the
//! program, so an order stored without a currency joins the default one, draft and
//! cancelled orders and orders outside the window stay out, and the counts by owner and
//! status (now read in the same index scan as the churn baseline) still count every customer.
use serde_json::Value as J;

use crate::harness::{Env, skip_unless_sqlite};

fn order(env: &Env, customer: &str, amount: &str, currency: &str, status: &str, date: &str) {
    env.add(
        "order",
        &[
            "--customer",
            customer,
            "--amount",
            amount,
            "--currency",
            currency,
            "--status",
            status,
            "--order-date",
            date,
        ],
    );
}

fn rows<'a>(r: &'a J, section: &str) -> &'a Vec<J> {
    r[section].as_array().expect("a table section")
}

#[test]
fn rfm_totals_per_customer_and_currency_with_null_as_the_default() {
    if skip_unless_sqlite("stores an order without a currency behind crm's back") {
        return;
    }
    let env = Env::new();
    let a = env
        .add("customer", &["--name", "Alpha", "--status", "active"])
        .to_string();
    let b = env
        .add("customer", &["--name", "Beta", "--status", "lost"])
        .to_string();
    env.add("customer", &["--name", "Gamma", "--status", "active"]);
    order(&env, &a, "100.00", "CNY", "paid", "2026-03-01");
    order(&env, &a, "50.00", "CNY", "paid", "2026-05-01");
    order(&env, &a, "30.00", "EUR", "shipped", "2026-04-01");
    order(&env, &a, "999.00", "CNY", "draft", "2026-05-02");
    order(&env, &a, "999.00", "CNY", "cancelled", "2026-05-03");
    order(&env, &a, "999.00", "CNY", "paid", "2025-01-01");
    order(&env, &b, "10.00", "CNY", "paid", "2026-02-01");
    // An order stored without a currency counts in the default one (CNY), for Alpha only.
    env.sql()
        .execute(
            "UPDATE \"order\" SET currency = NULL WHERE amount = 5000",
            [],
        )
        .expect("clear a currency");
    let r = env
        .run(&[
            "--format",
            "json",
            "report",
            "customers",
            "--from",
            "2026-01-01",
            "--as-of",
            "2026-06-30",
        ])
        .ok()
        .json();
    let m = rows(&r, "rfm_monetary");
    let cny = m
        .iter()
        .find(|x| x["currency"] == "CNY")
        .expect("a CNY row");
    assert_eq!(cny["customers"], 2, "{m:?}");
    assert_eq!(cny["amount"], "160.00", "{m:?}");
    let eur = m
        .iter()
        .find(|x| x["currency"] == "EUR")
        .expect("an EUR row");
    assert_eq!(eur["customers"], 1, "{m:?}");
    assert_eq!(eur["amount"], "30.00", "{m:?}");
    assert_eq!(m.len(), 2, "{m:?}");
    assert_eq!(r["rfm_thresholds"]["customers_scored"], 2);
    // Alpha: 3 booked orders, last on 05-01 (60 days); Beta: 1, on 02-01 (149 days).
    let mean = |k: &str| {
        let m = &r["rfm_thresholds"][k];
        (m["numerator"].clone(), m["denominator"].clone())
    };
    assert_eq!(mean("frequency_mean"), (J::from(4), J::from(2)));
    assert_eq!(mean("recency_days_mean"), (J::from(60 + 149), J::from(2)));
    // Each currency's amounts over the segments add up to its total.
    for (c, total) in [("CNY", 16000), ("EUR", 3000)] {
        let sum: i64 = rows(&r, "rfm_segment_amounts")
            .iter()
            .filter(|x| x["currency"] == c)
            .map(|x| {
                let s = x["amount"].as_str().expect("an amount").replace('.', "");
                s.parse::<i64>().expect("digits")
            })
            .sum();
        assert_eq!(sum, total, "{c}");
    }
    // Counts by status and owner see all three customers.
    let count = |section: &str, value: &str| {
        rows(&r, section)
            .iter()
            .find(|x| x["value"] == value)
            .map_or(0, |x| x["customers"].as_i64().expect("a count"))
    };
    assert_eq!(count("by_status", "lost"), 1);
    assert_eq!(count("by_status", "active"), 2);
    assert_eq!(count("by_owner", "admin"), 3);
    assert_eq!(r["summary"]["customers"], 3);
}
