//! Dates and date-times as people type them: ISO, `/` and `.` separated, Chinese
//! `2026年11月25日`, and day/month/year in either order when only one reading is a real date.
//! A date-time is any of those followed by ` HH:MM[:SS]` (local time), or RFC 3339.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

/// How to read a date whose day and month could be swapped (`08/07/2023`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DateOrder {
    /// Read it only when one reading alone is a real date (`13/02/2026`).
    #[default]
    Auto,
    Dmy,
    Mdy,
    /// A chrono/strftime pattern such as `%d.%m.%Y`, tried when the usual forms fail.
    Pattern(String),
}

/// Dates in every accepted form; day-first or month-first only when unambiguous.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    parse_date_in(s, &DateOrder::Auto)
}

/// Dates with `order` deciding day-first or month-first forms.
pub fn parse_date_in(s: &str, order: &DateOrder) -> Result<NaiveDate, String> {
    let s = s.trim();
    let read = read_date(s, order);
    match (read, order) {
        (Err(_), DateOrder::Pattern(p)) => NaiveDate::parse_from_str(s, p)
            .map_err(|_| format!("'{s}' does not match --date-format {p}")),
        (r, _) => r,
    }
}

fn read_date(s: &str, order: &DateOrder) -> Result<NaiveDate, String> {
    let bad = || format!("'{s}' is not a date (use YYYY-MM-DD)");
    let chinese = s.contains(['年', '月', '日']);
    if chinese && !(s.contains('年') && s.contains('月') && s.ends_with('日')) {
        return Err(bad());
    }
    let norm: String = s
        .trim_end_matches('日')
        .chars()
        .map(|c| {
            if matches!(c, '/' | '.' | '年' | '月') {
                '-'
            } else {
                c
            }
        })
        .collect();
    let parts: Vec<&str> = norm.split('-').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let n = |p: &str| p.parse::<u32>().map_err(|_| bad());
    let real = |y: u32, m: u32, d: u32| {
        i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
    };
    if parts[0].len() == 4 && parts[1].len() <= 2 && parts[2].len() <= 2 {
        return real(n(parts[0])?, n(parts[1])?, n(parts[2])?)
            .ok_or_else(|| format!("'{s}' is not a real date"));
    }
    if chinese || parts[2].len() != 4 || parts[0].len() > 2 || parts[1].len() > 2 {
        return Err(bad());
    }
    let (a, b, y) = (n(parts[0])?, n(parts[1])?, n(parts[2])?);
    let dmy = real(y, b, a);
    let mdy = real(y, a, b);
    let pick = match order {
        DateOrder::Dmy => dmy,
        DateOrder::Mdy => mdy,
        DateOrder::Auto | DateOrder::Pattern(_) => match (dmy, mdy) {
            (Some(x), Some(y)) if x != y => {
                return Err(format!(
                    "'{s}': day and month are ambiguous; write YYYY-MM-DD (import: pass --date-format dmy or mdy)"
                ));
            }
            (x, y) => x.or(y),
        },
    };
    pick.ok_or_else(|| format!("'{s}' is not a real date"))
}

/// Date-times: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` / a bare date in local time.
pub fn parse_datetime(s: &str) -> Result<i64, String> {
    parse_datetime_in(s, &DateOrder::Auto)
}

/// Date-times with `order` deciding the date part as [`parse_date_in`] does.
pub fn parse_datetime_in(s: &str, order: &DateOrder) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    let bad =
        || format!("'{s}' is not a date-time (use 2026-11-25T09:30:00+08:00 or 2026-11-25 09:30)");
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (s, None),
    };
    // Keep the date's own reason when it names one (ambiguous, not a real day, not the
    // --date-format pattern); otherwise say what a date-time looks like.
    let date = parse_date_in(date, order).map_err(|why| {
        if ["ambiguous", "real date", "--date-format"]
            .iter()
            .any(|w| why.contains(w))
        {
            why
        } else {
            bad()
        }
    })?;
    let time = match time {
        Some(t) => parse_time(t).ok_or_else(bad)?,
        None => NaiveTime::MIN,
    };
    Local
        .from_local_datetime(&NaiveDateTime::new(date, time))
        .earliest()
        .map(|t| t.timestamp())
        .ok_or_else(|| format!("'{s}' does not exist in the local time zone"))
}

/// `H:MM`, `HH:MM` or `HH:MM:SS`.
fn parse_time(t: &str) -> Option<NaiveTime> {
    let p: Vec<&str> = t.split(':').collect();
    let ok = |x: &&str, min: usize| {
        (min..=2).contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit())
    };
    if !(2..=3).contains(&p.len()) || !ok(&p[0], 1) || !p[1..].iter().all(|x| ok(x, 2)) {
        return None;
    }
    let n = |i: usize| p.get(i).map_or(Some(0), |x| x.parse::<u32>().ok());
    NaiveTime::from_hms_opt(n(0)?, n(1)?, n(2)?)
}

/// RFC 3339 in the local offset, whole seconds.
pub fn format_datetime(t: i64) -> String {
    match Local.timestamp_opt(t, 0).single() {
        Some(d) => d.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        None => t.to_string(),
    }
}
