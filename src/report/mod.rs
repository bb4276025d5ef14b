//! Named reports (`crm report NAME`): each report module turns a few aggregate queries
//! (in `db::report`) into sections of rows; `show` prints them as tables with bar charts
//! on a terminal, as one JSON object, or as CSV.

pub mod activities;
pub mod chart;
pub mod contracts;
pub mod customers;
pub mod funnel;
pub mod money;
pub mod rfm;
pub mod sales;
pub mod service;
pub mod show;

use serde_json::Value as J;

pub use crate::period::{Period, Window};
pub use money::{CURRENCY, Purse, Total, money, percent_of};

/// What every report is asked: the window, an owner filter, a grouping, a row limit.
#[derive(Debug, Clone)]
pub struct Params {
    pub window: Window,
    pub owner: Option<String>,
    pub by: Option<String>,
    /// Longest list where a report lists records (top customers, neglected customers).
    pub limit: i64,
}

/// A column of a section: its JSON/CSV key and its English and Chinese headers.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub key: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
}

/// Shorthand for a column.
pub const fn col(key: &'static str, en: &'static str, zh: &'static str) -> Col {
    Col { key, en, zh }
}

/// Which column a bar chart draws: labels from one, lengths from another.
#[derive(Debug, Clone, Copy)]
pub struct ChartSpec {
    pub label: usize,
    pub value: usize,
}

/// One part of a report: a list of rows (JSON: an array of objects) or a summary of
/// metric/value pairs (JSON: one object).
#[derive(Debug, Clone)]
pub struct Section {
    pub name: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
    pub cols: Vec<Col>,
    pub rows: Vec<Vec<J>>,
    pub summary: bool,
    pub chart: Option<ChartSpec>,
}

impl Section {
    pub fn table(name: &'static str, en: &'static str, zh: &'static str, cols: Vec<Col>) -> Self {
        Section {
            name,
            en,
            zh,
            cols,
            rows: Vec::new(),
            summary: false,
            chart: None,
        }
    }

    /// A metric/value section; add pairs with `put`.
    pub fn summary(name: &'static str, en: &'static str, zh: &'static str) -> Self {
        let mut s = Self::table(
            name,
            en,
            zh,
            vec![col("metric", "metric", "指标"), col("value", "value", "值")],
        );
        s.summary = true;
        s
    }

    /// Adds a metric to a summary section.
    pub fn put(&mut self, metric: &str, value: J) {
        self.rows.push(vec![J::from(metric), value]);
    }

    /// Draws a bar chart of `value` by `label` (both column keys) on a terminal.
    #[must_use]
    pub fn chart(mut self, label: &str, value: &str) -> Self {
        let find = |k: &str| {
            self.cols
                .iter()
                .position(|c| c.key == k)
                .expect("a chart names columns of its section")
        };
        self.chart = Some(ChartSpec {
            label: find(label),
            value: find(value),
        });
        self
    }
}

/// A finished report.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: &'static str,
    pub params: Params,
    pub sections: Vec<Section>,
}

/// A rate with its parts: `{"numerator":2,"denominator":3,"rate":0.6667}`; rate is null
/// when there is nothing to divide by.
pub fn rate(numerator: i64, denominator: i64) -> J {
    #[allow(clippy::cast_precision_loss)]
    let r = if denominator == 0 {
        J::Null
    } else {
        let x = numerator as f64 / denominator as f64;
        J::from((x * 10_000.0).round() / 10_000.0)
    };
    serde_json::json!({"numerator": numerator, "denominator": denominator, "rate": r})
}

/// A mean with its exact parts: `{"numerator":sum,"denominator":n,"mean":3.2}` (two
/// decimals; null when there is nothing to average).
pub fn mean(sum: i64, n: i64) -> J {
    #[allow(clippy::cast_precision_loss)]
    let m = if n == 0 {
        J::Null
    } else {
        J::from(((sum as f64 / n as f64) * 100.0).round() / 100.0)
    };
    serde_json::json!({"numerator": sum, "denominator": n, "mean": m})
}

/// An optional text as JSON (null when absent).
pub fn opt_text(s: Option<String>) -> J {
    s.map_or(J::Null, J::from)
}

/// Days as a number with one decimal from a span in seconds.
pub fn days(seconds: f64) -> J {
    J::from((seconds / 86_400.0 * 10.0).round() / 10.0)
}

/// Hours with one decimal from seconds.
pub fn hours(seconds: f64) -> J {
    J::from((seconds / 3_600.0 * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_keep_their_parts() {
        assert_eq!(
            rate(2, 3),
            serde_json::json!({"numerator": 2, "denominator": 3, "rate": 0.6667})
        );
        assert_eq!(rate(0, 0)["rate"], J::Null);
    }
}
