//! Report windows and periods: `--from`/`--to`/`--as-of` turned into local-time boundaries,
//! and a window cut into day/week/month/quarter/year buckets whose edges are computed here
//! once (in the local time zone), so SQL only compares integers and date strings. Pure
//! calendar arithmetic, kept below both `report` and `db::report`, which both use it.

use chrono::{Datelike, Duration, Local, NaiveDate, TimeZone};

use crate::error::{Error, Result};

/// The most buckets one report may ask for (a guard against `--by day` over decades).
const MAX_BUCKETS: usize = 1000;

/// A calendar period for grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        Some(match s {
            "day" => Period::Day,
            "week" => Period::Week,
            "month" => Period::Month,
            "quarter" => Period::Quarter,
            "year" => Period::Year,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    /// The first day of the period holding `d` (weeks start on Monday, ISO 8601).
    pub fn start_of(self, d: NaiveDate) -> NaiveDate {
        let ymd = |y, m| NaiveDate::from_ymd_opt(y, m, 1).expect("first of month exists");
        match self {
            Period::Day => d,
            Period::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            Period::Month => ymd(d.year(), d.month()),
            Period::Quarter => ymd(d.year(), (d.month() - 1) / 3 * 3 + 1),
            Period::Year => ymd(d.year(), 1),
        }
    }

    /// The first day of the next period after the one starting at `start`.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start + Duration::days(1),
            Period::Week => start + Duration::days(7),
            Period::Month => add_months(start, 1),
            Period::Quarter => add_months(start, 3),
            Period::Year => add_months(start, 12),
        }
    }

    /// `n` periods before the one holding `d`, at its start.
    pub fn back(self, d: NaiveDate, n: u32) -> NaiveDate {
        let s = self.start_of(d);
        match self {
            Period::Day => s - Duration::days(i64::from(n)),
            Period::Week => s - Duration::days(7 * i64::from(n)),
            Period::Month => sub_months(s, n),
            Period::Quarter => sub_months(s, 3 * n),
            Period::Year => sub_months(s, 12 * n),
        }
    }

    /// The label of the period holding `d`: `2026-11-25`, `2026-W48`, `2026-11`, `2026-Q4`, `2026`.
    pub fn label(self, d: NaiveDate) -> String {
        match self {
            Period::Day => d.format("%Y-%m-%d").to_string(),
            Period::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Period::Month => d.format("%Y-%m").to_string(),
            Period::Quarter => format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1),
            Period::Year => d.year().to_string(),
        }
    }
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(n))
        .expect("dates stay within chrono's range")
}

fn sub_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(chrono::Months::new(n))
        .expect("dates stay within chrono's range")
}

/// Unix seconds of local midnight starting `d`.
pub fn midnight(d: NaiveDate) -> i64 {
    let naive = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    Local
        .from_local_datetime(&naive)
        .earliest()
        // A zone whose midnight falls in a DST gap: an hour later always exists.
        .or_else(|| {
            Local
                .from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| naive.and_utc().timestamp(), |t| t.timestamp())
}

/// `YYYY-MM-DD`.
pub fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The window a report covers: inclusive dates, and the moment "now" stands for.
#[derive(Debug, Clone)]
pub struct Window {
    /// First day, or None for "since the beginning".
    pub from: Option<NaiveDate>,
    /// Last day (inclusive): `--to`, else the as-of day.
    pub to: NaiveDate,
    /// Whether `--to` was given (forecasts look past today only then).
    pub to_given: bool,
    /// The day treated as today.
    pub as_of: NaiveDate,
    /// The moment treated as now: the end of the `--as-of` day, else the clock.
    pub now: i64,
}

impl Window {
    /// Builds the window from the flags' parsed values.
    pub fn new(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        as_of: Option<NaiveDate>,
    ) -> Result<Window> {
        let (day, now) = match as_of {
            Some(d) => (d, midnight(d + Duration::days(1)) - 1),
            None => (crate::clock::today(), crate::clock::now()),
        };
        let w = Window {
            from,
            to: to.unwrap_or(day),
            to_given: to.is_some(),
            as_of: day,
            now,
        };
        if let Some(f) = w.from.filter(|f| *f > w.to) {
            return Err(Error::usage(format!(
                "--from {} is after the end of the window {}",
                ymd(f),
                ymd(w.to)
            ))
            .hint("--to defaults to --as-of (today); pass a later --to"));
        }
        Ok(w)
    }

    /// Unix seconds of the window's start (None: unbounded).
    pub fn from_ts(&self) -> Option<i64> {
        self.from.map(midnight)
    }

    /// Unix seconds just past the window's last day.
    pub fn end_ts(&self) -> i64 {
        midnight(self.to + Duration::days(1))
    }

    /// The first day as text, or None.
    pub fn from_text(&self) -> Option<String> {
        self.from.map(ymd)
    }

    pub fn to_text(&self) -> String {
        ymd(self.to)
    }

    /// The window with a default start of `n` periods back (the current one included) when
    /// `--from` was not given: period breakdowns show a year of months, not all history.
    #[must_use]
    pub fn with_default_from(&self, p: Period, n: u32) -> Window {
        let mut w = self.clone();
        if w.from.is_none() {
            w.from = Some(p.back(w.to, n.saturating_sub(1)));
        }
        w
    }
}

/// One bucket of a period breakdown, clipped to the window.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub label: String,
    /// First day (inclusive) and the day after the last (exclusive).
    pub first: NaiveDate,
    pub after: NaiveDate,
    pub start_ts: i64,
    pub end_ts: i64,
}

/// The buckets covering the window (which must have a start).
pub fn buckets(p: Period, w: &Window) -> Result<Vec<Bucket>> {
    let from = w.from.expect("a bucketed window has a start");
    let end = w.to + Duration::days(1);
    let mut out = Vec::new();
    let mut s = p.start_of(from);
    while s < end {
        let n = p.next(s);
        let first = s.max(from);
        let after = n.min(end);
        out.push(Bucket {
            label: p.label(s),
            first,
            after,
            start_ts: midnight(first),
            end_ts: midnight(after),
        });
        if out.len() > MAX_BUCKETS {
            return Err(Error::usage(format!(
                "the window holds more than {MAX_BUCKETS} {}s",
                p.name()
            ))
            .hint("narrow --from/--to or group by a longer period"));
        }
        s = n;
    }
    Ok(out)
}

/// The whole window (which must have a start) as one bucket.
pub fn whole(w: &Window) -> Bucket {
    let first = w.from.expect("a bucketed window has a start");
    let after = w.to + Duration::days(1);
    Bucket {
        label: String::new(),
        first,
        after,
        start_ts: midnight(first),
        end_ts: midnight(after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn periods_start_and_label() {
        assert_eq!(Period::Quarter.start_of(d("2026-11-25")), d("2026-10-01"));
        assert_eq!(Period::Quarter.label(d("2026-11-25")), "2026-Q4");
        assert_eq!(Period::Week.start_of(d("2026-11-25")), d("2026-11-23"));
        assert_eq!(Period::Week.label(d("2026-11-25")), "2026-W48");
        assert_eq!(Period::Month.back(d("2026-01-15"), 2), d("2025-11-01"));
    }

    #[test]
    fn buckets_are_clipped_to_the_window() {
        let w = Window {
            from: Some(d("2026-01-15")),
            to: d("2026-03-10"),
            to_given: true,
            as_of: d("2026-03-10"),
            now: 0,
        };
        let b = buckets(Period::Month, &w).expect("buckets");
        let labels: Vec<&str> = b.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(b[0].first, d("2026-01-15"));
        assert_eq!(b[2].after, d("2026-03-11"));
        assert_eq!(b[1].end_ts, b[2].start_ts);
    }
}
