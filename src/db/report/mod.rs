//! The SQL behind `crm report`: aggregate queries over the registry's tables, one file per
//! report. Values are always bound (named parameters); the report modules shape the rows.

pub mod activities;
pub mod contracts;
pub mod customers;
pub mod funnel;
pub mod sales;
pub mod service;

use crate::db::Store;
use crate::schema::Value;

use crate::error::Result;
use crate::period::Bucket;

/// Reports scan large indexes once: reading them through a memory map saves a system
/// call per page. Best effort; the connection's other settings are untouched.
pub fn prepare_scans(store: &Store) {
    let _ = store.sqlite().pragma_update(None, "mmap_size", 1_i64 << 30);
}

/// A result row.
pub type Row = Vec<Value>;

/// Named parameters; a statement binds those it mentions and ignores the rest.
#[derive(Debug, Clone, Default)]
pub struct Args(Vec<(String, Value)>);

impl Args {
    pub fn new() -> Args {
        Args::default()
    }
    #[must_use]
    pub fn set(mut self, name: &str, v: impl Into<Value>) -> Args {
        self.0.push((format!(":{name}"), v.into()));
        self
    }
    pub fn push(&mut self, name: String, v: Value) {
        self.0.push((name, v));
    }
    /// The common ones: window start (unix seconds and date), end, "now" and owner.
    pub fn window(w: &crate::period::Window, owner: Option<&str>) -> Args {
        Args::new()
            .set("from", w.from_ts().unwrap_or(i64::MIN))
            .set("end", w.end_ts())
            .set("from_date", w.from_text().unwrap_or_default())
            .set("to_date", w.to_text())
            .set("now", w.now)
            .set("owner", owner.map(str::to_string))
    }
}

/// Runs a query and collects its rows.
pub fn fetch(conn: &Store, sql: &str, args: &Args) -> Result<Vec<Row>> {
    let mut stmt = conn.sqlite().prepare(sql)?;
    for (k, v) in &args.0 {
        if let Some(i) = stmt.parameter_index(k)? {
            stmt.raw_bind_parameter(i, v)?;
        }
    }
    let n = stmt.column_count();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(
            (0..n)
                .map(|i| r.get::<_, Value>(i))
                .collect::<rusqlite::Result<Row>>()?,
        );
    }
    Ok(out)
}

/// `WITH b(i, s, e) AS (VALUES …)`: the buckets as a table to join on, by unix seconds
/// (`dates` false) or by `YYYY-MM-DD` text (`dates` true); `i` is the bucket's index.
pub fn buckets_cte(buckets: &[Bucket], dates: bool, args: &mut Args) -> String {
    let mut values = Vec::with_capacity(buckets.len());
    for (i, b) in buckets.iter().enumerate() {
        let (s, e) = if dates {
            (
                Value::Text(crate::period::ymd(b.first)),
                Value::Text(crate::period::ymd(b.after)),
            )
        } else {
            (Value::Integer(b.start_ts), Value::Integer(b.end_ts))
        };
        args.push(
            format!(":b{i}i"),
            Value::Integer(i64::try_from(i).unwrap_or(0)),
        );
        args.push(format!(":b{i}s"), s);
        args.push(format!(":b{i}e"), e);
        values.push(format!("(:b{i}i, :b{i}s, :b{i}e)"));
    }
    format!("WITH b(i, s, e) AS (VALUES {})", values.join(", "))
}

/// An integer cell (NULL as 0).
pub fn int(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        #[allow(clippy::cast_possible_truncation)]
        Value::Real(r) => *r as i64,
        _ => 0,
    }
}

/// A text cell (NULL as None; numbers as their text).
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t.clone()),
        Value::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// An optional integer cell.
pub fn opt_int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        _ => None,
    }
}

/// A bucket index cell.
pub fn index(v: &Value) -> usize {
    usize::try_from(int(v)).unwrap_or(0)
}

/// Exact SQL sum of an integer money expression, as two result columns: the sums of its
/// high part (÷ 10⁹) and its low part (mod 10⁹). Neither can overflow `SQLite`'s 64-bit
/// integers below a billion rows, where a plain `sum()` fails at twice the largest amount;
/// `split_total` recombines them in 128 bits.
pub fn split_sum(expr: &str) -> String {
    format!("COALESCE(sum(({expr}) / 1000000000), 0), COALESCE(sum(({expr}) % 1000000000), 0)")
}

/// The exact total of a `split_sum` whose first column is `i`.
pub fn split_total(r: &Row, i: usize) -> i128 {
    i128::from(int(&r[i])) * 1_000_000_000 + i128::from(int(&r[i + 1]))
}
