//! The queries that judge one chunk of an import on `PostgreSQL`: its references, the
//! records its keys find, and the holders of its unique values, one query apiece.

use std::collections::{HashMap, HashSet};

use super::{Found, PgBulk, json_list, map_key, unique_key, value_hash};
use crate::db::Store;
use crate::db::bulk::{Key, Mode, Row};
use crate::db::records::{Draft, Stored, field_list};
use crate::error::Result;
use crate::schema::{Default, Entity, Kind, Value, ident};

impl PgBulk {
    /// One query per reference field, one for the existing records by key, one for the
    /// holders of the chunk's unique values (given, or generated candidates).
    pub(super) fn find(&mut self, conn: &Store, rows: &[Row]) -> Result<Found> {
        let mut found = Found::default();
        for (i, f) in self.e.fields.iter().enumerate() {
            let mut m = HashMap::new();
            if let Kind::Ref(target) = f.kind {
                let target = Entity::get(target)?;
                let texts: HashSet<&str> = rows
                    .iter()
                    .filter(|r| r.is_given(i))
                    .filter_map(|r| match &r.values[i] {
                        Value::Text(t) => Some(t.as_str()),
                        _ => None,
                    })
                    .collect();
                if !texts.is_empty() {
                    if std::ptr::eq(target, self.e) {
                        // A reference to the entity itself may name a row still staged.
                        self.drain(conn)?;
                    }
                    let list = json_list(texts.iter().copied());
                    // By key first, then by id, as `RefSql::find`.
                    if let Some(k) = target.key {
                        for r in conn.query(
                            &format!("SELECT {k}::text, \"id\" FROM {} WHERE {k} IN (SELECT jsonb_array_elements_text((?::text)::jsonb))", target.table(), k = ident(k)),
                            std::slice::from_ref(&list),
                        )? {
                            m.insert(r.get::<String>(0)?, r.get::<i64>(1)?);
                        }
                    }
                    let ids: Vec<String> = texts
                        .iter()
                        .filter(|t| !m.contains_key(**t))
                        .filter_map(|t| t.trim().parse::<i64>().ok().map(|n| n.to_string()))
                        .collect();
                    if !ids.is_empty() {
                        let mut by_id = HashMap::new();
                        for r in conn.query(
                            &format!("SELECT \"id\" FROM {} WHERE \"id\" IN (SELECT (jsonb_array_elements_text((?::text)::jsonb))::bigint)", target.table()),
                            &[json_list(ids.iter().map(String::as_str))],
                        )? {
                            let id: i64 = r.get(0)?;
                            by_id.insert(id, id);
                        }
                        for t in &texts {
                            if let Some(id) =
                                t.trim().parse::<i64>().ok().and_then(|n| by_id.get(&n))
                            {
                                m.entry((*t).to_string()).or_insert(*id);
                            }
                        }
                    }
                }
            }
            found.refs.push(m);
        }
        if let (Mode::Upsert | Mode::Update, Some(key)) = (self.mode, self.key) {
            let keys: Vec<String> = rows
                .iter()
                .filter_map(|r| self.key_value(key, r))
                .filter_map(|v| map_key(&v))
                .collect();
            if !keys.is_empty() {
                let (col, cast) = match key {
                    Key::Id => ("\"id\"".to_string(), "::bigint"),
                    Key::Field(f) => (ident(f.name), ""),
                };
                let n = self.e.fields.len();
                for r in conn.query(
                    &format!(
                        "SELECT \"id\", {}, \"created_at\", \"updated_at\", {col}::text FROM {} WHERE {col} IN (SELECT (jsonb_array_elements_text((?::text)::jsonb)){cast})",
                        field_list(self.e),
                        self.e.table()
                    ),
                    &[json_list(keys.iter().map(String::as_str))],
                )? {
                    let mut v = r.into_values();
                    let Some(Value::Text(k)) = v.pop() else {
                        continue;
                    };
                    let updated_at = match v.pop() { Some(Value::Integer(i)) => i, _ => 0 };
                    let created_at = match v.pop() { Some(Value::Integer(i)) => i, _ => 0 };
                    let id = match v.first() { Some(Value::Integer(i)) => *i, _ => 0 };
                    let values = v.into_iter().skip(1).take(n).collect();
                    found.existing.insert(k, Stored {
                        id,
                        draft: Draft { entity: self.e, values },
                        created_at,
                        updated_at,
                    });
                }
            }
        }
        for u in self.uniques.clone() {
            let f = &self.e.fields[u];
            let mut vals: Vec<String> = rows
                .iter()
                .filter(|r| r.is_given(u))
                .filter_map(|r| map_key(&r.values[u]))
                .collect();
            if let Default::Generated(prefix) = f.default {
                // Candidates for the codes this chunk may generate: none when every row
                // gives its code; else from the counter (or where it will start: past
                // the ids this chunk's rows may use first) on.
                let missing = rows
                    .iter()
                    .filter(|r| !r.is_given(u) || r.values[u] == Value::Null)
                    .count();
                if missing > 0 {
                    let base = self.next_key.unwrap_or(self.seq0 + self.consumed + 1);
                    let n = i64::try_from(rows.len() + missing).unwrap_or(i64::MAX);
                    for n in base..=base + n {
                        vals.push(format!("{prefix}{n:06}"));
                    }
                }
            }
            if self.was_empty {
                // A table empty when the import began holds only what it wrote: only a
                // value it claimed may be taken (a hash hit, confirmed by the query).
                vals.retain(|v| self.claimed_all.contains(&value_hash(&unique_key(u, v))));
            }
            if vals.is_empty() {
                continue;
            }
            // The holders may be rows still staged (a repeated value, a streamed load).
            self.drain(conn)?;
            for r in conn.query(
                &format!("SELECT {c}::text, \"id\" FROM {} WHERE {c} IN (SELECT jsonb_array_elements_text((?::text)::jsonb))", self.e.table(), c = ident(f.name)),
                &[json_list(vals.iter().map(String::as_str))],
            )? {
                found.holders.insert(unique_key(u, &r.get::<String>(0)?), r.get(1)?);
            }
        }
        Ok(found)
    }

    pub(super) fn key_value(&self, key: Key, row: &Row) -> Option<Value> {
        let v = match key {
            Key::Id => row.id.map_or(Value::Null, Value::Integer),
            Key::Field(f) => {
                let i = self.e.fields.iter().position(|g| std::ptr::eq(g, f))?;
                if row.is_given(i) {
                    row.values[i].clone()
                } else {
                    Value::Null
                }
            }
        };
        (v != Value::Null).then_some(v)
    }
}
