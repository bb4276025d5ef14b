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

use crate::db::Store;
use crate::error::{Error, Result};
use crate::schema::{Entity, Field, Kind};

/// Every report, in `crm report --help` order: the one place a report is registered. The
/// command line, its help, completions and man pages, and the read check all come from
/// here; adding a report is its module (with its `DEF`, and its SQL in `db::report`) plus
/// one entry.
pub const REPORTS: &[ReportDef] = &[
    funnel::DEF,
    sales::DEF,
    customers::DEF,
    service::DEF,
    contracts::DEF,
    activities::DEF,
];

/// A report: what `crm report NAME` shows, reads and runs.
pub struct ReportDef {
    pub name: &'static str,
    /// The short help (one line; `crm report --help`).
    pub about: &'static str,
    /// The long help after the short one: what each figure means.
    pub help: &'static str,
    /// The groupings `--by` takes, as its help lists them; empty: no `--by`.
    pub by: &'static str,
    /// The entity whose choice fields (built-in or custom) `--by` also takes, their values
    /// as the groups; empty: none.
    pub by_choice: &'static str,
    /// The entities it reads: a role gets the report only when it may read every one of them
    /// (SPEC "Roles (additions)").
    pub reads: &'static [&'static str],
    /// Builds the report in one read snapshot.
    pub run: fn(&Store, &Params) -> Result<Report>,
    /// A `--save` that writes what the report computed, if it has one.
    pub save: Option<Save>,
}

/// A report's `--save`: its help, the entity it writes (the roles that may import it may
/// save), and the run that also writes, in a write transaction, as the user named; it
/// returns the report and the message saying what changed.
pub struct Save {
    pub help: &'static str,
    pub writes: &'static str,
    pub run: fn(&Store, &Params, &str) -> Result<(Report, String)>,
}

impl ReportDef {
    /// The report called `name` (clap only accepts those listed).
    #[must_use]
    pub fn get(name: &str) -> Option<&'static ReportDef> {
        REPORTS.iter().find(|r| r.name == name)
    }
}

/// The choice fields (built-in and custom) of `entity` that `--by` takes.
pub fn choice_fields(entity: &str) -> Result<Vec<&'static Field>> {
    Ok(Entity::get(entity)?
        .fields
        .iter()
        .filter(|f| matches!(f.kind, Kind::Choice(_)))
        .collect())
}

/// The choice field of `entity` that `by` names, if it names one.
pub fn choice_by(entity: &str, by: &str) -> Result<Option<&'static Field>> {
    let norm = by.trim().replace('-', "_");
    Ok(choice_fields(entity)?.into_iter().find(|f| f.name == norm))
}

/// The usage error (exit 2) of a `--by` the report does not take, naming what it takes:
/// its fixed groupings, then the choice fields of `entity`.
pub fn bad_by(report: &str, by: &str, fixed: &str, entity: &str) -> Error {
    let fields: Vec<&str> = choice_fields(entity)
        .unwrap_or_default()
        .iter()
        .map(|f| f.name)
        .collect();
    Error::usage(format!("{report} cannot be grouped by '{by}'")).hint(format!(
        "use --by {fixed}, or a choice field of {entity}: {}",
        fields.join(", ")
    ))
}

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
    fn every_report_is_registered_once_with_real_entities() {
        let mut names: Vec<&str> = REPORTS.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REPORTS.len(), "report names are unique");
        for r in REPORTS {
            assert!(!r.reads.is_empty(), "{} declares what it reads", r.name);
            for e in r.reads.iter().chain(r.save.as_ref().map(|s| &s.writes)) {
                assert!(
                    crate::schema::Entity::get(e).is_ok(),
                    "{} names no entity {e}",
                    r.name
                );
            }
            assert!(!r.about.ends_with('.') && !r.help.is_empty(), "{}", r.name);
            assert_eq!(ReportDef::get(r.name).map(|d| d.about), Some(r.about));
        }
        assert!(ReportDef::get("nope").is_none());
    }

    #[test]
    fn rates_keep_their_parts() {
        assert_eq!(
            rate(2, 3),
            serde_json::json!({"numerator": 2, "denominator": 3, "rate": 0.6667})
        );
        assert_eq!(rate(0, 0)["rate"], J::Null);
    }
}
