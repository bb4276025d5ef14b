//! The engine-neutral query API of the store: SQL written once with `?` placeholders, bound
//! to crm [`Value`]s, and rows read back as [`Row`]s of values. Each engine runs it at its
//! edge (`SQLite`: prepared and cached statements; `PostgreSQL`: `$N` placeholders and typed
//! parameters), so a query in `db/` is the same text for both.

use crate::db::Store;
use crate::error::{Error, Result};
use crate::schema::Value;

/// Binds a list of values: `vals![name, id]` is `&[Value::from(name), Value::from(id)]`.
#[macro_export]
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::schema::Value::from($v)),*][..] };
}

/// One row of a result, its cells in select order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Cell `i` as a Rust value; a cell of the wrong type is an internal error (a query
    /// and its reader disagree), never a silent default.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let v = self
            .0
            .get(i)
            .ok_or_else(|| Error::internal(format!("a query has no column {i}")))?;
        T::from_value(v).ok_or_else(|| {
            Error::internal(format!(
                "column {i} holds {v:?}, not a {}",
                std::any::type_name::<T>()
            ))
        })
    }

    /// The cells, moved out.
    pub fn into_values(self) -> Vec<Value> {
        self.0
    }
}

/// A Rust type a cell converts to.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for Value {
    fn from_value(v: &Value) -> Option<Self> {
        Some(v.clone())
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Real(r) => Some(*r),
            #[allow(clippy::cast_precision_loss)] // as SQLite reads an integer as a real
            Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Integer(i) => Some(*i != 0),
            _ => None,
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl Store {
    /// Runs a statement; returns how many rows it changed.
    pub(in crate::db) fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        match self {
            Store::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(params))? as u64)
            }
            Store::Postgres(pg) => pg.execute(sql, params),
        }
    }

    /// Runs statements without parameters (DDL, several at once).
    pub(in crate::db) fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Store::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Store::Postgres(pg) => pg.batch(sql),
        }
    }

    /// Every row of a query.
    pub(in crate::db) fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Store::Sqlite(_) => {
                let mut rows = Vec::new();
                self.each(sql, params, |r| {
                    rows.push(r);
                    Ok(())
                })?;
                Ok(rows)
            }
            Store::Postgres(pg) => pg.rows(sql, params),
        }
    }

    /// The first row of a query, if any.
    pub(in crate::db) fn query_opt(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        match self {
            Store::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let n = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                match rows.next()? {
                    Some(r) => Ok(Some(sqlite_row(r, n)?)),
                    None => Ok(None),
                }
            }
            Store::Postgres(pg) => Ok(pg.rows(sql, params)?.into_iter().next()),
        }
    }

    /// The one row a query must return (an aggregate, a `RETURNING`).
    pub(in crate::db) fn query_one(&self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| Error::internal(format!("no row from: {sql}")))
    }

    /// The first cell of the one row a query returns.
    pub(in crate::db) fn value<T: FromValue>(&self, sql: &str, params: &[Value]) -> Result<T> {
        self.query_one(sql, params)?.get(0)
    }

    /// Calls `f` with each row in turn, without holding them all (export, reports). On
    /// `PostgreSQL` `f` must not use the store while the rows stream.
    pub(in crate::db) fn each(
        &self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        match self {
            Store::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let n = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                while let Some(r) = rows.next()? {
                    f(sqlite_row(r, n)?)?;
                }
                Ok(())
            }
            Store::Postgres(pg) => pg.stream(sql, params, f),
        }
    }

    /// Inserts one row with a statement ending in `RETURNING id`; returns the id.
    pub(in crate::db) fn insert_returning_id(&self, sql: &str, params: &[Value]) -> Result<i64> {
        self.value(sql, params)
    }
}

/// A whole `SQLite` result row as a [`Row`] (through the engine's `FromSql` for [`Value`]).
fn sqlite_row(r: &rusqlite::Row<'_>, columns: usize) -> rusqlite::Result<Row> {
    (0..columns)
        .map(|i| r.get::<_, Value>(i))
        .collect::<rusqlite::Result<Vec<_>>>()
        .map(Row)
}
