//! Unique values in the write path: generated keys (`C000123`) from one counter per
//! writer, and what a unique conflict means, in a command's words or an import row's.

use super::Writer;
use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::db::records::Draft;
use crate::error::{Error, Result};
use crate::schema::{Entity, Field, Value};
use crate::vals;

/// A unique value another record already holds.
#[derive(Debug)]
pub struct Taken {
    pub field: &'static Field,
    pub value: Value,
    pub holder: i64,
}

impl Taken {
    /// As `crm add`/`edit` say it.
    pub fn error(&self, e: &Entity) -> Error {
        Error::conflict(format!(
            "{} {} '{}' is already taken by record {}",
            e.name,
            self.field.name,
            self.field.kind.format(&self.value),
            self.holder
        ))
    }

    /// As an import row's reason says it: `repeats` when the holder is a record this batch
    /// wrote, `upsert` when the field is the `--key` of an insert-only import.
    pub fn reason(&self, repeats: bool, upsert: bool) -> String {
        let (f, v, o) = (self.field.name, show(&self.value), self.holder);
        if repeats {
            format!("{f}: '{v}' repeats an earlier row of this file")
        } else if upsert {
            format!("{f}: '{v}' already exists (record {o}); use --mode upsert to update it")
        } else {
            format!("{f}: '{v}' is already taken by record {o}")
        }
    }
}

/// A cell's value as an import row's reason quotes it.
pub fn show(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Integer(i) => i.to_string(),
        _ => String::new(),
    }
}

/// The number a generated key starts from: the id the next record gets. It counts from the
/// largest id the table ever held (`SQLite`'s AUTOINCREMENT sequence; on `PostgreSQL`
/// `crm.next_record_id`, the same number counted in the transaction), not its largest
/// live id, so a deleted record's key (which old exports and documents still name) is
/// never handed to another record.
pub(super) fn next_key_number(conn: &Store, e: &Entity) -> Result<i64> {
    match conn.dialect() {
        Dialect::Sqlite => conn.value(
            &format!(
                "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0), \
                            COALESCE((SELECT MAX(\"id\") FROM {}), 0)) + 1",
                e.table()
            ),
            vals![e.name],
        ),
        Dialect::Postgres => conn.value("SELECT crm.next_record_id(?)", vals![e.name]),
    }
}

impl Writer<'_> {
    /// The record holding `v` in field `i` (a unique or generated field), if any.
    fn holder(&self, i: usize, v: &Value) -> Result<Option<i64>> {
        let sql = self.sql.holder[i]
            .as_deref()
            .expect("holders are looked up for unique and generated fields");
        self.conn
            .query_opt(sql, std::slice::from_ref(v))?
            .map(|r| r.get(0))
            .transpose()
    }

    /// The next free generated key of field `i`; the counter is taken once per writer and
    /// given back by [`Writer::insert`] when the record does not land (codes never skip).
    pub(super) fn generated(&mut self, i: usize, prefix: &str) -> Result<Value> {
        let mut n = match self.next_key {
            Some(n) => n,
            None => next_key_number(self.conn, self.e)?,
        };
        loop {
            let candidate = Value::Text(format!("{prefix}{n:06}"));
            n += 1;
            if self.holder(i, &candidate)?.is_none() {
                self.next_key = Some(n);
                return Ok(candidate);
            }
        }
    }

    /// The first unique field (registry order) whose value in `d` another record holds;
    /// `only_changed` limits the search to fields that differ from it (an update: the
    /// others are the record's own).
    pub(super) fn taken(
        &self,
        d: &Draft,
        except: Option<i64>,
        only_changed: Option<&Draft>,
    ) -> Result<Option<Taken>> {
        for (i, f) in self.e.fields.iter().enumerate() {
            let v = &d.values[i];
            if !f.unique || *v == Value::Null || only_changed.is_some_and(|o| o.values[i] == *v) {
                continue;
            }
            if let Some(holder) = self.holder(i, v)?.filter(|h| Some(*h) != except) {
                return Ok(Some(Taken {
                    field: f,
                    value: v.clone(),
                    holder,
                }));
            }
        }
        Ok(None)
    }
}
