//! The SQL behind `crm report`: aggregate queries over the registry's tables, one file per
//! report, written once for every engine (the spellings that differ come from
//! [`Dialect`]). Values are always bound (named parameters, numbered for the engine by
//! [`bind`]); the report modules shape the rows.

pub mod activities;
pub mod contracts;
pub mod customers;
pub mod customers_pass;
pub mod funnel;
pub mod sales;
pub mod service;

use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::schema::{Value, ValueRef};

use crate::error::Result;
use crate::period::Bucket;

/// Reports scan large indexes once: on `SQLite`, reading them through a memory map saves a
/// system call per page. Best effort; the connection's other settings are untouched. On
/// `PostgreSQL` the server manages its own buffers, but its JIT compiler is turned off for
/// the session: a report's statements run once each, over a million rows at most, where
/// compiling a plan cost up to 90 ms a statement and saved less.
pub fn prepare_scans(store: &Store) {
    match store {
        Store::Sqlite(c) => {
            let _ = c.pragma_update(None, "mmap_size", 1_i64 << 30);
        }
        Store::Postgres(pg) => {
            let _ = pg.batch("SET jit = off");
        }
    }
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
    /// The value bound to `name` (without its colon), the last one set; NULL when none is.
    pub fn get(&self, name: &str) -> Value {
        self.0
            .iter()
            .rfind(|(k, _)| k.strip_prefix(':') == Some(name))
            .map_or(Value::Null, |(_, v)| v.clone())
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

/// The statement with each named parameter (`:name`, outside quotes) as `?N`, and the
/// values to bind in that order: a name used twice is one parameter; one the statement
/// names but `args` lacks is NULL, one `args` has but the statement never names is left
/// out. Each `?N` is typed by its value where the engine needs it ([`Dialect::typed`]).
pub fn bind(d: Dialect, sql: &str, args: &Args) -> (String, Vec<Value>) {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut names: Vec<&str> = Vec::new();
    let mut vals: Vec<Value> = Vec::new();
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' || c == b'"' {
            // A literal or quoted identifier, copied whole (a doubled quote reopens it).
            let end = sql[i + 1..]
                .find(char::from(c))
                .map_or(sql.len(), |k| i + 2 + k);
            out.push_str(&sql[i..end]);
            i = end;
            continue;
        }
        if c == b':' && bytes.get(i + 1) == Some(&b':') {
            out.push_str("::"); // a cast, not a parameter
            i += 2;
            continue;
        }
        let name_len = if c == b':' {
            sql[i + 1..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(sql.len() - i - 1)
        } else {
            0
        };
        if name_len == 0 || !(bytes[i + 1].is_ascii_alphabetic() || bytes[i + 1] == b'_') {
            // Not a parameter (a `::` cast, a lone colon): copied as is.
            let len = sql[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&sql[i..i + len]);
            i += len;
            continue;
        }
        let name = &sql[i + 1..=i + name_len];
        let n = if let Some(n) = names.iter().position(|k| *k == name) {
            n
        } else {
            names.push(name);
            vals.push(args.get(name));
            names.len() - 1
        };
        out.push_str(&d.typed(&format!("?{}", n + 1), &vals[n]));
        i += 1 + name_len;
    }
    (out, vals)
}

/// Runs a query and collects its rows.
pub fn fetch(conn: &Store, sql: &str, args: &Args) -> Result<Vec<Row>> {
    let (sql, vals) = bind(conn.dialect(), sql, args);
    Ok(conn
        .query(&sql, &vals)?
        .into_iter()
        .map(crate::db::row::Row::into_values)
        .collect())
}

/// Calls `f` with each row's cells, borrowed: the reports' scans over every row of a big
/// table (a million customers) copy no cell on `SQLite`, where `f` reads them straight off
/// the statement. On `PostgreSQL` the rows stream in and `f` borrows each one's cells
/// where they arrived (no copy).
pub fn scan(
    conn: &Store,
    sql: &str,
    args: &Args,
    mut f: impl FnMut(&[ValueRef<'_>]) -> Result<()>,
) -> Result<()> {
    /// The most cells a scan reads a row.
    const MAX: usize = 8;
    let (sql, vals) = bind(conn.dialect(), sql, args);
    match conn {
        Store::Sqlite(c) => {
            let mut stmt = c.prepare_cached(&sql)?;
            let n = stmt.column_count().min(MAX);
            let mut rows = stmt.query(rusqlite::params_from_iter(&vals))?;
            while let Some(r) = rows.next()? {
                let mut cells = [ValueRef::Null; MAX];
                for (i, cell) in cells.iter_mut().enumerate().take(n) {
                    *cell = crate::db::sqlite::value::value_ref(r.get_ref(i)?);
                }
                f(&cells[..n])?;
            }
            Ok(())
        }
        Store::Postgres(pg) => pg.scan_refs::<MAX>(&sql, &vals, f),
    }
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

#[cfg(test)]
mod tests {
    use super::{Args, bind};
    use crate::db::dialect::Dialect;
    use crate::schema::Value;

    #[test]
    fn named_parameters_are_numbered_once_each_in_order_of_use() {
        let args = Args::new()
            .set("unused", 9)
            .set("owner", None::<String>)
            .set("now", 5)
            .set("now", 7);
        let (sql, vals) = bind(
            Dialect::Sqlite,
            "SELECT ':now', \"a:b\" FROM t WHERE at < :now AND (:owner IS NULL OR o = :owner) \
             AND x = :missing AND at::text <> :now",
            &args,
        );
        assert_eq!(
            sql,
            "SELECT ':now', \"a:b\" FROM t WHERE at < ?1 AND (?2 IS NULL OR o = ?2) \
             AND x = ?3 AND at::text <> ?1"
        );
        // The last value set for a name wins; a name never set is NULL.
        assert_eq!(vals, vec![Value::Integer(7), Value::Null, Value::Null]);
    }

    #[test]
    fn on_postgresql_each_parameter_is_typed_by_its_value() {
        let args = Args::new()
            .set("n", 1)
            .set("s", "x")
            .set("o", None::<String>);
        let (sql, _) = bind(Dialect::Postgres, "VALUES (:n, :s), (:n, :o)", &args);
        assert_eq!(
            sql,
            "VALUES (CAST(?1 AS bigint), CAST(?2 AS text)), (CAST(?1 AS bigint), CAST(?3 AS text))"
        );
    }
}
