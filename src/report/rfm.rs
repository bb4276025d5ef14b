//! RFM value segmentation: recency (days since the last booked order, as of the report's
//! day), frequency (booked orders in the window) and monetary value (their sum), each
//! compared with its mean over the scored customers, give the eight classic segments.
//! The comparisons are exact: `x ≥ Σ/n` is tested as `x·n ≥ Σ` in integers.

use chrono::NaiveDate;
use rusqlite::Connection;
use serde_json::Value as J;

use super::{Params, Section, col, mean, money, rate};
use crate::db::report::{Args, customers as q, int, text};
use crate::error::Result;

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
#[derive(Debug, Clone, Copy)]
pub struct Score {
    pub id: i64,
    pub recency_days: i64,
    pub frequency: i64,
    pub monetary: i64,
}

/// Thresholds (as sums over `n`, so the means stay exact) and each customer's segment index.
pub struct Rfm {
    pub n: i64,
    pub sum_r: i64,
    pub sum_f: i64,
    pub sum_m: i128,
    pub assigned: Vec<(i64, usize)>,
    pub monetary: Vec<i64>,
}

/// Classifies scores against their means.
#[allow(clippy::many_single_char_names)]
pub fn classify(scores: &[Score]) -> Rfm {
    let n = i64::try_from(scores.len()).unwrap_or(i64::MAX);
    let sum_r: i64 = scores.iter().map(|s| s.recency_days).sum();
    let sum_f: i64 = scores.iter().map(|s| s.frequency).sum();
    let sum_m: i128 = scores.iter().map(|s| i128::from(s.monetary)).sum();
    let assigned = scores
        .iter()
        .map(|s| {
            let r = s.recency_days * n <= sum_r;
            let f = s.frequency * n >= sum_f;
            let m = i128::from(s.monetary) * i128::from(n) >= sum_m;
            let i = SEGMENTS
                .iter()
                .position(|g| g.r == r && g.f == f && g.m == m)
                .expect("the eight segments cover every combination");
            (s.id, i)
        })
        .collect();
    Rfm {
        n,
        sum_r,
        sum_f,
        sum_m,
        assigned,
        monetary: scores.iter().map(|s| s.monetary).collect(),
    }
}

/// Scores the customers with booked orders in the window.
pub fn score(conn: &Connection, p: &Params) -> Result<Rfm> {
    let args = Args::window(&p.window, p.owner.as_deref());
    let as_of = p.window.as_of;
    let scores: Vec<Score> = q::rfm(conn, &args)?
        .iter()
        .map(|r| {
            let last = text(&r[3])
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
                .unwrap_or(as_of);
            Score {
                id: int(&r[0]),
                recency_days: (as_of - last).num_days().max(0),
                frequency: int(&r[1]),
                monetary: int(&r[2]),
            }
        })
        .collect();
    Ok(classify(&scores))
}

/// The thresholds and the segment counts as report sections.
pub fn sections(r: &Rfm) -> (Section, Section) {
    let mut t = Section::summary(
        "rfm_thresholds",
        "RFM thresholds (means)",
        "RFM 阈值（均值）",
    );
    t.put("customers_scored", J::from(r.n));
    t.put("recency_days_mean", mean(r.sum_r, r.n));
    t.put("frequency_mean", mean(r.sum_f, r.n));
    let mean_m = if r.n == 0 {
        J::Null
    } else {
        money(i64::try_from(r.sum_m / i128::from(r.n)).unwrap_or(i64::MAX))
    };
    t.put(
        "monetary_mean",
        serde_json::json!({
            "numerator": crate::schema::kinds::format_money(i64::try_from(r.sum_m).unwrap_or(i64::MAX)),
            "denominator": r.n,
            "mean": mean_m,
        }),
    );
    t.put(
        "rule",
        J::from("R high: recency ≤ mean; F high: frequency ≥ mean; M high: amount ≥ mean"),
    );
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
            col("amount", "amount", "消费金额"),
        ],
    )
    .chart("segment", "customers");
    let hl = |b: bool| J::from(if b { "high" } else { "low" });
    for (i, g) in SEGMENTS.iter().enumerate() {
        let members: Vec<usize> = (0..r.assigned.len())
            .filter(|&k| r.assigned[k].1 == i)
            .collect();
        let count = i64::try_from(members.len()).unwrap_or(0);
        let amount: i64 = members.iter().map(|&k| r.monetary[k]).sum();
        s.rows.push(vec![
            J::from(g.zh),
            J::from(g.key),
            hl(g.r),
            hl(g.f),
            hl(g.m),
            J::from(count),
            rate(count, r.n),
            money(amount),
        ]);
    }
    (t, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: i64, r: i64, f: i64, m: i64) -> Score {
        Score {
            id,
            recency_days: r,
            frequency: f,
            monetary: m,
        }
    }

    #[test]
    fn means_split_exactly_including_ties() {
        // means: recency 20, frequency 2, monetary 300
        let scores = [s(1, 10, 3, 500), s(2, 30, 1, 100), s(3, 20, 2, 300)];
        let r = classify(&scores);
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
