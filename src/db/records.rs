//! Generic record reads for every entity of the registry (get, resolve, referrers) and
//! the pure checks of a record; writes go through `db::write`.

use crate::db::Store;
use crate::error::{Error, Result};
use crate::schema::Value;
use crate::schema::{Entity, Field, Kind, ident};
use crate::vals;

pub use crate::schema::record::{Draft, Stored};

/// The entity's field columns, quoted, comma-separated (the order of `Draft::values`).
pub fn field_list(e: &Entity) -> String {
    e.fields
        .iter()
        .map(|f| ident(f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads one record's raw values.
pub fn get(conn: &Store, e: &'static Entity, id: i64) -> Result<Option<Stored>> {
    let sql = format!(
        "SELECT {}, \"created_at\", \"updated_at\" FROM {} WHERE \"id\" = ?",
        field_list(e),
        e.table()
    );
    let n = e.fields.len();
    let Some(row) = conn.query_opt(&sql, vals![id])? else {
        return Ok(None);
    };
    let (created_at, updated_at) = (row.get(n)?, row.get(n + 1)?);
    let mut values = row.into_values();
    values.truncate(n);
    Ok(Some(Stored {
        id,
        draft: Draft { entity: e, values },
        created_at,
        updated_at,
    }))
}

/// Reads the records `ids` that exist, in id order: a statement per 500 ids, not one per
/// record (a merge re-points thousands).
pub fn get_many(conn: &Store, e: &'static Entity, ids: &[i64]) -> Result<Vec<Stored>> {
    let n = e.fields.len();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT {}, \"created_at\", \"updated_at\", \"id\" FROM {} WHERE \"id\" IN ({})",
            field_list(e),
            e.table(),
            vec!["?"; chunk.len()].join(", ")
        );
        let params: Vec<Value> = chunk.iter().map(|i| Value::Integer(*i)).collect();
        for row in conn.query(&sql, &params)? {
            let (created_at, updated_at, id) = (row.get(n)?, row.get(n + 1)?, row.get(n + 2)?);
            let mut values = row.into_values();
            values.truncate(n);
            out.push(Stored {
                id,
                draft: Draft { entity: e, values },
                created_at,
                updated_at,
            });
        }
    }
    out.sort_unstable_by_key(|s| s.id);
    Ok(out)
}

/// Reads one record or fails with `not_found`.
pub fn must_get(conn: &Store, e: &'static Entity, id: i64) -> Result<Stored> {
    get(conn, e, id)?.ok_or_else(|| Error::not_found(format!("no {} with id {id}", e.name)))
}

/// How a reference field's target is found: by its unique key, then by its id.
#[derive(Debug)]
pub struct RefSql {
    pub target: &'static Entity,
    by_key: Option<String>,
    by_id: String,
}

impl RefSql {
    pub fn new(target: &'static Entity) -> RefSql {
        RefSql {
            target,
            by_key: target.key.map(|k| {
                format!(
                    "SELECT \"id\" FROM {} WHERE {} = ?",
                    target.table(),
                    ident(k)
                )
            }),
            by_id: format!("SELECT \"id\" FROM {} WHERE \"id\" = ?", target.table()),
        }
    }

    /// The id of the record `text` names: its key first (a key may look like a number),
    /// then its id.
    pub fn find(&self, conn: &Store, text: &str) -> Result<Option<i64>> {
        if let Some(sql) = &self.by_key {
            // On PostgreSQL a key column is text: a number must not be bound to it.
            if let Some(r) = conn.query_opt(sql, vals![text])? {
                return Ok(Some(r.get(0)?));
            }
        }
        let Ok(n) = text.trim().parse::<i64>() else {
            return Ok(None);
        };
        conn.query_opt(&self.by_id, vals![n])?
            .map(|r| r.get(0))
            .transpose()
    }
}

/// Finds a record id by id text or by the entity's unique key.
pub fn resolve(conn: &Store, e: &'static Entity, text: &str) -> Result<Option<i64>> {
    RefSql::new(e).find(conn, text.trim())
}

/// The id of a record named by `crm show customer C000001` or `… 12`.
pub fn resolve_target(conn: &Store, e: &'static Entity, text: &str) -> Result<i64> {
    resolve(conn, e, text)?
        .ok_or_else(|| Error::not_found(format!("no {} with id or key '{text}'", e.name)))
}

/// Parses one user-supplied value for a field: kind rules, then references and users.
pub fn parse_value(conn: &Store, f: &Field, text: &str) -> Result<Value, String> {
    let v = f.kind.parse(text)?;
    match (f.kind, &v) {
        (Kind::Ref(target), Value::Text(t)) => {
            let target = crate::schema::Entity::get(target).map_err(|e| e.message)?;
            match RefSql::new(target)
                .find(conn, t.trim())
                .map_err(|e| e.message)?
            {
                Some(id) => Ok(Value::Integer(id)),
                None => Err(format!("no {} with id or key '{t}'", target.name)),
            }
        }
        (Kind::User, Value::Text(t)) => {
            let found = conn
                .query_opt("SELECT name FROM users WHERE name = ?", vals![t.as_str()])
                .map_err(|e| e.message)?;
            found.ok_or_else(|| format!("no user named '{t}'"))?;
            Ok(v)
        }
        _ => Ok(v),
    }
}

/// Formats a raw value for the audit log and messages.
pub fn show_value(f: &Field, v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        _ => Some(f.kind.format(v)),
    }
}

/// Fails naming the first required field that is empty.
pub fn check_required(d: &Draft) -> Result<()> {
    for (f, v) in d.entity.fields.iter().zip(&d.values) {
        if f.required && *v == Value::Null {
            return Err(
                Error::invalid(format!("{} {} is required", d.entity.name, f.name))
                    .hint(format!("pass --{}", f.flag())),
            );
        }
    }
    Ok(())
}

/// Fails when an update would clear the entity's unique key: a key can be changed but never
/// cleared, or references to the record could no longer be written as its key (an export
/// would fall back to the bare id, which re-imports onto another record).
pub fn check_key_kept(old: &Draft, new: &Draft) -> Result<()> {
    // A currency is never cleared either: its money would silently become the default's.
    for (f, v) in old.entity.fields.iter().zip(&new.values) {
        if f.kind == crate::schema::Kind::Currency
            && *v == Value::Null
            && *old.get(f.name) != Value::Null
        {
            return Err(Error::invalid(format!(
                "{} {} can be changed but not cleared",
                old.entity.name, f.name
            ))
            .hint(format!("give it another value with --{}", f.flag())));
        }
    }
    let Some(key) = old.entity.key else {
        return Ok(());
    };
    if *old.get(key) != Value::Null && *new.get(key) == Value::Null {
        return Err(Error::invalid(format!(
            "{} {key} can be changed but not cleared",
            old.entity.name
        ))
        .hint(format!(
            "give it another value with --{}",
            key.replace('_', "-")
        )));
    }
    Ok(())
}

/// The records of other entities that reference this one: (entity, field, ids).
pub fn referrers(
    conn: &Store,
    e: &Entity,
    id: i64,
) -> Result<Vec<(&'static Entity, &'static str, Vec<i64>)>> {
    let mut out = Vec::new();
    for other in crate::schema::all() {
        for f in other.fields {
            if f.kind == Kind::Ref(e.name) {
                let sql = format!(
                    "SELECT \"id\" FROM {} WHERE {} = ? ORDER BY \"id\"",
                    other.table(),
                    ident(f.name)
                );
                let ids: Vec<i64> = conn
                    .query(&sql, vals![id])?
                    .iter()
                    .map(|r| r.get(0))
                    .collect::<Result<_>>()?;
                if !ids.is_empty() {
                    out.push((other, f.name, ids));
                }
            }
        }
    }
    Ok(out)
}

/// The records a `--cascade` delete of this one would also delete, depth first.
pub fn cascade_closure(
    conn: &Store,
    e: &'static Entity,
    id: i64,
) -> Result<Vec<(&'static Entity, i64)>> {
    let mut out: Vec<(&'static Entity, i64)> = Vec::new();
    let mut todo = vec![(e, id)];
    while let Some((ent, rid)) = todo.pop() {
        for (other, _, ids) in referrers(conn, ent, rid)? {
            for oid in ids {
                if !out.iter().any(|(o, i)| o.name == other.name && *i == oid) {
                    out.push((other, oid));
                    todo.push((other, oid));
                }
            }
        }
    }
    Ok(out)
}

/// Fails when other records refer to this one (what a delete without `--cascade` refuses),
/// so `delete` can say so before it asks for confirmation. Referrers among `deleting` (records
/// of `e` deleted in the same command) do not count.
pub fn refuse_if_referenced(
    conn: &Store,
    e: &'static Entity,
    id: i64,
    deleting: &[i64],
) -> Result<()> {
    let mut refs = referrers(conn, e, id)?;
    for (other, _, ids) in &mut refs {
        if other.name == e.name {
            ids.retain(|i| !deleting.contains(i));
        }
    }
    refs.retain(|(_, _, ids)| !ids.is_empty());
    if refs.is_empty() {
        Ok(())
    } else {
        Err(referenced_error(e, id, &refs))
    }
}

pub(crate) fn referenced_error(
    e: &Entity,
    id: i64,
    refs: &[(&'static Entity, &'static str, Vec<i64>)],
) -> Error {
    let list: Vec<String> = refs
        .iter()
        .map(|(o, f, ids)| {
            // "2 contact (ids 3, 4) by customer": how many, which, and through which field.
            let shown: Vec<String> = ids.iter().take(10).map(i64::to_string).collect();
            let more = if ids.len() > 10 { ", …" } else { "" };
            format!(
                "{} {} (ids {}{more}) by {f}",
                ids.len(),
                o.name,
                shown.join(", ")
            )
        })
        .collect();
    Error::conflict(format!(
        "{} {id} is referenced by {}",
        e.name,
        list.join("; ")
    ))
    .hint("delete those first, or pass --cascade to delete them too")
}
