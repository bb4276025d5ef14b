//! Keys in a bulk import: which records this batch already touched (a key repeated in the
//! file), generated keys from one counter per batch, and what a UNIQUE failure means.

use rusqlite::OptionalExtension;

use super::{Bulk, Mode, show};
use crate::db::records::Draft;
use crate::error::Result;
use crate::schema::Value;

impl Bulk<'_> {
    pub(super) fn touched(&self, id: i64) -> bool {
        let Ok(i) = usize::try_from(id) else {
            return false;
        };
        self.touched
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    pub(super) fn touch(&mut self, id: i64) {
        let Ok(i) = usize::try_from(id) else { return };
        if self.touched.len() <= i / 64 {
            self.touched.resize(i / 64 + 1, 0);
        }
        self.touched[i / 64] |= 1 << (i % 64);
    }

    pub(super) fn generated(&mut self, i: usize, prefix: &str) -> Result<Value> {
        let e = self.e;
        let mut n = match self.next_key {
            Some(n) => n,
            None => crate::db::records::next_key_number(self.conn, e)?,
        };
        let sql = self.sql_exists[i]
            .as_deref()
            .expect("generated keys are unique");
        let mut stmt = self.conn.sqlite().prepare_cached(sql)?;
        loop {
            let candidate = format!("{prefix}{n:06}");
            n += 1;
            if !stmt.exists([&candidate])? {
                self.next_key = Some(n);
                return Ok(Value::Text(candidate));
            }
        }
    }

    /// Explains a UNIQUE failure: a value repeated in this file, or one already stored.
    pub(super) fn unique_error(&self, d: &Draft, except: Option<i64>) -> Result<String> {
        for (i, f) in self.e.fields.iter().enumerate() {
            let Some(sql) = &self.sql_exists[i] else {
                continue;
            };
            let v = &d.values[i];
            if *v == Value::Null {
                continue;
            }
            let other: Option<i64> = self
                .conn
                .sqlite()
                .prepare_cached(sql)?
                .query_row([v], |r| r.get(0))
                .optional()?;
            if let Some(o) = other.filter(|o| Some(*o) != except) {
                return Ok(if self.touched(o) {
                    format!(
                        "{}: '{}' repeats an earlier row of this file",
                        f.name,
                        show(v)
                    )
                } else if self.mode == Mode::Insert && self.key.is_some_and(|k| k.name() == f.name)
                {
                    format!(
                        "{}: '{}' already exists (record {o}); use --mode upsert to update it",
                        f.name,
                        show(v)
                    )
                } else {
                    format!("{}: '{}' is already taken by record {o}", f.name, show(v))
                });
            }
        }
        Ok("a unique value is already taken".into())
    }
}
