//! RFM value segmentation: recency (days since the last booked order, as of the report's
//! day), frequency (booked orders in the window) and monetary value (their sum), each
//! compared with its mean over the scored customers, give the eight classic segments.
//! The comparisons are exact: `x ≥ Σ/n` is tested as `x·n ≥ Σ` in integers.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde_json::Value as J;

use super::money::{Total, currency_of};
use super::{CURRENCY, Params, Section, col, mean, money, rate};
use crate::db::Store;
use crate::db::report::{Args, customers as q};
use crate::error::Result;
use crate::schema::Value;

/// A segment: high (true) or low recency score, frequency, monetary; Chinese name; key.
pub struct Segment {
    pub r: bool,
    pub f: bool,
    pub m: bool,
    pub zh: &'static str,
    pub key: &'static str,
}

const fn seg(r: bool, f: bool, m: bool, zh: &'static str, key: &'static str) -> Segment {
    Segment { r, f, m, zh, key }
}

/// The eight classic segments. R "high" means a recent buyer (recency at or below the mean).
pub const SEGMENTS: [Segment; 8] = [
    seg(true, true, true, "重要价值客户", "important_value"),
    seg(true, false, true, "重要发展客户", "important_develop"),
    seg(false, true, true, "重要保持客户", "important_retain"),
    seg(false, false, true, "重要挽留客户", "important_win_back"),
    seg(true, true, false, "一般价值客户", "general_value"),
    seg(true, false, false, "一般发展客户", "general_develop"),
    seg(false, true, false, "一般保持客户", "general_retain"),
    seg(false, false, false, "一般挽留客户", "general_win_back"),
];

/// One scored customer.
#[derive(Debug, Clone)]
pub struct Score {
    pub id: i64,
    pub recency_days: i64,
    pub frequency: i64,
    /// The booked amount per currency (exact): an index into the currencies' names, once
    /// each (a vector, not a map: a map per customer costs a large allocation each).
    pub monetary: Vec<(usize, Total)>,
}

/// Thresholds (as sums over `n`, so the means stay exact) and each customer's segment index.
pub struct Rfm {
    pub n: i64,
    pub sum_r: i64,
    pub sum_f: i64,
    /// Per currency: how many customers bought in it and their total.
    pub sum_m: BTreeMap<String, (i64, Total)>,
    /// The currencies' names, as `Score::monetary` indexes them.
    pub currencies: Vec<String>,
    pub assigned: Vec<(i64, usize)>,
    pub monetary: Vec<Vec<(usize, Total)>>,
}

/// Classifies scores against their means. Amounts are compared within their currency: M is
/// high when the customer's amount in some currency is at least that currency's mean (over
/// the customers who bought in it) — amounts in different currencies are never added.
#[allow(clippy::many_single_char_names)]
pub fn classify(scores: Vec<Score>, currencies: Vec<String>) -> Rfm {
    let n = i64::try_from(scores.len()).unwrap_or(i64::MAX);
    let sum_r: i64 = scores.iter().map(|s| s.recency_days).sum();
    let sum_f: i64 = scores.iter().map(|s| s.frequency).sum();
    let mut per: Vec<(i64, Total)> = vec![(0, 0); currencies.len()];
    for s in &scores {
        for &(c, m) in &s.monetary {
            per[c].0 += 1;
            per[c].1 += m;
        }
    }
    let assigned = scores
        .iter()
        .map(|s| {
            let r = s.recency_days * n <= sum_r;
            let f = s.frequency * n >= sum_f;
            let m = s.monetary.iter().any(|&(c, m)| {
                let (k, total) = per[c];
                m * Total::from(k) >= total
            });
            let i = SEGMENTS
                .iter()
                .position(|g| g.r == r && g.f == f && g.m == m)
                .expect("the eight segments cover every combination");
            (s.id, i)
        })
        .collect();
    let sum_m = currencies
        .iter()
        .zip(per)
        .filter(|(_, (k, _))| *k > 0)
        .map(|(c, kt)| (c.clone(), kt))
        .collect();
    Rfm {
        n,
        sum_r,
        sum_f,
        sum_m,
        currencies,
        assigned,
        monetary: scores.into_iter().map(|s| s.monetary).collect(),
    }
}

/// One customer's booked orders so far: count, last order date, amount per currency (by
/// index into the currencies seen).
struct Acc {
    orders: i64,
    /// Index into the distinct order dates seen.
    last: usize,
    amounts: Vec<(usize, Total)>,
}

/// Scores the customers with booked orders in the window, in id order. The orders are
/// totalled here, per customer in a hash map (no sort of every order row) and per currency
/// in 128 bits (exact, so no split sums in SQL).
pub fn score(conn: &Store, p: &Params) -> Result<Rfm> {
    let args = Args::window(&p.window, p.owner.as_deref());
    let as_of = p.window.as_of;
    // The stored currency values seen (a handful), so an order costs no allocation.
    let mut seen: Vec<Option<String>> = Vec::new();
    let mut by_id: HashMap<i64, Acc, foldhash::fast::RandomState> = HashMap::default();
    // The distinct order dates (a few hundred), so a customer's last one is an index.
    let mut dates: Vec<String> = Vec::new();
    let mut date_ix: HashMap<String, usize> = HashMap::new();
    q::rfm_orders(conn, &args, |id, currency, amount, date| {
        let c = seen
            .iter()
            .position(|s| s.as_deref() == currency)
            .unwrap_or_else(|| {
                seen.push(currency.map(str::to_string));
                seen.len() - 1
            });
        // Rows come in date order (the index's), so the last date seen is nearly always it.
        let d = if dates.last().is_some_and(|l| l == date) {
            dates.len() - 1
        } else if let Some(&d) = date_ix.get(date) {
            d
        } else {
            dates.push(date.to_string());
            date_ix.insert(date.to_string(), dates.len() - 1);
            dates.len() - 1
        };
        let acc = by_id.entry(id).or_insert_with(|| Acc {
            orders: 0,
            last: d,
            amounts: Vec::new(),
        });
        acc.orders += 1;
        if date > dates[acc.last].as_str() {
            acc.last = d;
        }
        match acc.amounts.iter_mut().find(|(k, _)| *k == c) {
            Some((_, total)) => *total += Total::from(amount),
            None => acc.amounts.push((c, Total::from(amount))),
        }
    })?;
    // NULL and empty mean the default currency.
    let names: Vec<String> = seen
        .into_iter()
        .map(|s| currency_of(&s.map_or(Value::Null, Value::Text)))
        .collect();
    let mut currencies = names.clone();
    currencies.sort();
    currencies.dedup();
    let to: Vec<usize> = names
        .iter()
        .map(|n| currencies.binary_search(n).expect("every name is listed"))
        .collect();
    // Recency per distinct last-order date (a few hundred), not per customer.
    let recency: Vec<i64> = dates
        .iter()
        .map(|d| {
            let last = NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or(as_of);
            (as_of - last).num_days().max(0)
        })
        .collect();
    let mut scores: Vec<Score> = by_id
        .into_iter()
        .map(|(id, mut acc)| {
            for a in &mut acc.amounts {
                a.0 = to[a.0];
            }
            if acc.amounts.windows(2).any(|w| w[0].0 >= w[1].0) {
                // Rare: NULL and the default currency (or unsorted): merge by name.
                acc.amounts.sort_by_key(|a| a.0);
                acc.amounts.dedup_by(|b, a| {
                    let same = a.0 == b.0;
                    if same {
                        a.1 += b.1;
                    }
                    same
                });
            }
            Score {
                id,
                recency_days: recency[acc.last],
                frequency: acc.orders,
                monetary: acc.amounts,
            }
        })
        .collect();
    scores.sort_unstable_by_key(|s| s.id);
    Ok(classify(scores, currencies))
}

/// The thresholds, the monetary means per currency, the segment counts and the segments'
/// amounts per currency, as report sections.
pub fn sections(r: &Rfm) -> Vec<Section> {
    let mut t = Section::summary(
        "rfm_thresholds",
        "RFM thresholds (means)",
        "RFM 阈值（均值）",
    );
    t.put("customers_scored", J::from(r.n));
    t.put("recency_days_mean", mean(r.sum_r, r.n));
    t.put("frequency_mean", mean(r.sum_f, r.n));
    t.put(
        "rule",
        J::from("R high: recency ≤ mean; F high: frequency ≥ mean; M high: amount ≥ its currency's mean"),
    );
    let mut m = Section::table(
        "rfm_monetary",
        "RFM monetary means by currency",
        "RFM 消费金额均值（按币种）",
        vec![
            CURRENCY,
            col("customers", "customers", "客户数"),
            col("amount", "amount", "消费金额"),
            col("mean", "mean", "均值"),
        ],
    );
    for (c, (k, total)) in &r.sum_m {
        m.rows.push(vec![
            J::from(c.as_str()),
            J::from(*k),
            money(*total),
            money(total / Total::from((*k).max(1))),
        ]);
    }
    let mut s = Section::table(
        "rfm_segments",
        "RFM segments",
        "客户细分（RFM）",
        vec![
            col("segment", "segment", "客户细分"),
            col("key", "key", "英文名"),
            col("r", "r", "R"),
            col("f", "f", "F"),
            col("m", "m", "M"),
            col("customers", "customers", "客户数"),
            col("share", "share", "占比"),
        ],
    )
    .chart("segment", "customers");
    let mut a = Section::table(
        "rfm_segment_amounts",
        "RFM segment amounts by currency",
        "客户细分消费金额（按币种）",
        vec![
            col("segment", "segment", "客户细分"),
            col("key", "key", "英文名"),
            CURRENCY,
            col("amount", "amount", "消费金额"),
        ],
    );
    let hl = |b: bool| J::from(if b { "high" } else { "low" });
    for (i, g) in SEGMENTS.iter().enumerate() {
        let members: Vec<usize> = (0..r.assigned.len())
            .filter(|&k| r.assigned[k].1 == i)
            .collect();
        let count = i64::try_from(members.len()).unwrap_or(0);
        let mut amounts: BTreeMap<&str, Total> = BTreeMap::new();
        for &k in &members {
            for &(c, m) in &r.monetary[k] {
                *amounts.entry(r.currencies[c].as_str()).or_default() += m;
            }
        }
        s.rows.push(vec![
            J::from(g.zh),
            J::from(g.key),
            hl(g.r),
            hl(g.f),
            hl(g.m),
            J::from(count),
            rate(count, r.n),
        ]);
        for (c, amount) in amounts {
            a.rows.push(vec![
                J::from(g.zh),
                J::from(g.key),
                J::from(c),
                money(amount),
            ]);
        }
    }
    vec![t, m, s, a]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: i64, r: i64, f: i64, m: i64) -> Score {
        Score {
            id,
            recency_days: r,
            frequency: f,
            monetary: vec![(0, Total::from(m))],
        }
    }

    fn currencies() -> Vec<String> {
        vec!["CNY".to_string(), "EUR".to_string()]
    }

    #[test]
    fn amounts_are_compared_within_their_currency() {
        // EUR mean 100 (one buyer), CNY mean 1000: 100 EUR is high, 500 CNY is low.
        let mut eur = s(1, 10, 1, 0);
        eur.monetary = vec![(1, 100)];
        let r = classify(vec![eur, s(2, 10, 1, 500), s(3, 10, 1, 1500)], currencies());
        let m: Vec<bool> = r.assigned.iter().map(|(_, i)| SEGMENTS[*i].m).collect();
        assert_eq!(m, [true, false, true]);
        assert_eq!(r.sum_m["CNY"], (2, 2000));
    }

    #[test]
    fn means_split_exactly_including_ties() {
        // means: recency 20, frequency 2, monetary 300
        let scores = vec![s(1, 10, 3, 500), s(2, 30, 1, 100), s(3, 20, 2, 300)];
        let r = classify(scores, currencies());
        let names: Vec<&str> = r.assigned.iter().map(|(_, i)| SEGMENTS[*i].key).collect();
        assert_eq!(
            names,
            ["important_value", "general_win_back", "important_value"]
        );
    }

    #[test]
    fn every_combination_has_a_segment() {
        for r in [true, false] {
            for f in [true, false] {
                for m in [true, false] {
                    assert_eq!(
                        SEGMENTS
                            .iter()
                            .filter(|g| g.r == r && g.f == f && g.m == m)
                            .count(),
                        1
                    );
                }
            }
        }
    }
}
