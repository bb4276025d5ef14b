//! Generic record storage for every entity of the registry: insert, update, delete and
//! read, each write audited field by field in the caller's transaction.

use rusqlite::{OptionalExtension, params_from_iter};

use crate::db::Store;
use crate::db::audit::{self, Entry};
use crate::error::{Error, Result};
use crate::schema::Value;
use crate::schema::{Default, ENTITIES, Entity, Field, Kind, ident};

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
    Ok(conn
        .sqlite()
        .prepare_cached(&sql)?
        .query_row([id], |r| {
            let values = (0..n)
                .map(|i| r.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Stored {
                id,
                draft: Draft { entity: e, values },
                created_at: r.get(n)?,
                updated_at: r.get(n + 1)?,
            })
        })
        .optional()?)
}

/// Reads one record or fails with `not_found`.
pub fn must_get(conn: &Store, e: &'static Entity, id: i64) -> Result<Stored> {
    get(conn, e, id)?.ok_or_else(|| Error::not_found(format!("no {} with id {id}", e.name)))
}

/// Finds a record id by id text or by the entity's unique key.
pub fn resolve(conn: &Store, e: &'static Entity, text: &str) -> Result<Option<i64>> {
    let text = text.trim();
    if let Some(key) = e.key {
        let sql = format!("SELECT \"id\" FROM {} WHERE {} = ?", e.table(), ident(key));
        if let Some(id) = conn
            .sqlite()
            .prepare_cached(&sql)?
            .query_row([text], |r| r.get(0))
            .optional()?
        {
            return Ok(Some(id));
        }
    }
    if let Ok(id) = text.parse::<i64>() {
        let sql = format!("SELECT \"id\" FROM {} WHERE \"id\" = ?", e.table());
        return Ok(conn
            .sqlite()
            .prepare_cached(&sql)?
            .query_row([id], |r| r.get(0))
            .optional()?);
    }
    Ok(None)
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
            match resolve(conn, target, t).map_err(|e| e.message)? {
                Some(id) => Ok(Value::Integer(id)),
                None => Err(format!("no {} with id or key '{t}'", target.name)),
            }
        }
        (Kind::User, Value::Text(t)) => {
            let found: Option<String> = conn
                .sqlite()
                .query_row("SELECT name FROM users WHERE name = ?", [t], |r| r.get(0))
                .optional()
                .map_err(|e| e.to_string())?;
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

/// The number a generated key starts from: the id the next record gets. It counts from the
/// table's AUTOINCREMENT sequence, not its largest live id, so a deleted record's key (which
/// old exports and documents still name) is never handed to another record.
pub(crate) fn next_key_number(conn: &Store, e: &Entity) -> Result<i64> {
    Ok(conn.sqlite().query_row(
        &format!(
            "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0), \
                        COALESCE((SELECT MAX(\"id\") FROM {}), 0)) + 1",
            e.table()
        ),
        [e.name],
        |r| r.get(0),
    )?)
}

fn next_key(conn: &Store, e: &Entity, field: &str, prefix: &str) -> Result<String> {
    let sql = format!("SELECT 1 FROM {} WHERE {} = ?", e.table(), ident(field));
    let mut stmt = conn.sqlite().prepare_cached(&sql)?;
    let mut n = next_key_number(conn, e)?;
    loop {
        let candidate = format!("{prefix}{n:06}");
        if !stmt.exists([&candidate])? {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// Fills defaults for fields left empty.
pub fn fill_defaults(conn: &Store, d: &mut Draft, user: &str) -> Result<()> {
    for (i, f) in d.entity.fields.iter().enumerate() {
        if d.values[i] != Value::Null {
            continue;
        }
        d.values[i] = match f.default {
            Default::None => Value::Null,
            Default::Value(s) => f.kind.parse(s).map_err(Error::internal)?,
            Default::CurrentUser => Value::Text(user.to_string()),
            Default::Generated(prefix) => Value::Text(next_key(conn, d.entity, f.name, prefix)?),
            Default::Today => Value::Text(crate::clock::today().format("%Y-%m-%d").to_string()),
            Default::Now => Value::Integer(crate::clock::now()),
        };
    }
    Ok(())
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

fn unique_conflict(conn: &Store, d: &Draft, except: Option<i64>) -> Result<()> {
    for (f, v) in d.entity.fields.iter().zip(&d.values) {
        if !f.unique || *v == Value::Null {
            continue;
        }
        let sql = format!(
            "SELECT \"id\" FROM {} WHERE {} = ? AND \"id\" IS NOT ?",
            d.entity.table(),
            ident(f.name)
        );
        let other: Option<i64> = conn
            .sqlite()
            .prepare_cached(&sql)?
            .query_row(rusqlite::params![v, except], |r| r.get(0))
            .optional()?;
        if let Some(other) = other {
            return Err(Error::conflict(format!(
                "{} {} '{}' is already taken by record {other}",
                d.entity.name,
                f.name,
                f.kind.format(v)
            )));
        }
    }
    Ok(())
}

/// Inserts a record (defaults filled, rules applied, required checked) and audits each value.
pub fn insert(conn: &Store, mut d: Draft, user: &str) -> Result<i64> {
    fill_defaults(conn, &mut d, user)?;
    crate::rules::apply(conn, &mut d, None)?;
    check_required(&d)?;
    unique_conflict(conn, &d, None)?;
    let e = d.entity;
    let now = crate::clock::now();
    let marks = vec!["?"; e.fields.len() + 2].join(", ");
    let sql = format!(
        "INSERT INTO {} ({}, \"created_at\", \"updated_at\") VALUES ({marks})",
        e.table(),
        field_list(e)
    );
    let mut args = d.values.clone();
    args.push(Value::Integer(now));
    args.push(Value::Integer(now));
    conn.sqlite()
        .prepare_cached(&sql)?
        .execute(params_from_iter(args))?;
    let id = conn.sqlite().last_insert_rowid();
    let entries: Vec<Entry> = e
        .fields
        .iter()
        .zip(&d.values)
        .filter(|(_, v)| **v != Value::Null)
        .map(|(f, v)| Entry {
            user: Some(user),
            action: "create",
            entity: Some(e.name),
            record_id: Some(id),
            field: Some(f.name),
            new: show_value(f, v),
            ..Entry::default()
        })
        .collect();
    audit::log(conn, &entries)?;
    crate::db::derive::after_write(conn, &d, None, id, user)?;
    Ok(id)
}

/// Applies changes to a stored record; audits each changed field. Returns whether anything changed.
pub fn update(conn: &Store, old: &Stored, mut new: Draft, user: &str) -> Result<bool> {
    check_key_kept(&old.draft, &new)?;
    crate::rules::apply(conn, &mut new, Some(old))?;
    check_required(&new)?;
    let e = old.draft.entity;
    let changed: Vec<usize> = (0..e.fields.len())
        .filter(|&i| old.draft.values[i] != new.values[i])
        .collect();
    if changed.is_empty() {
        return Ok(false);
    }
    unique_conflict(conn, &new, Some(old.id))?;
    let sets: Vec<String> = changed
        .iter()
        .map(|&i| format!("{} = ?", ident(e.fields[i].name)))
        .collect();
    let sql = format!(
        "UPDATE {} SET {}, \"updated_at\" = ? WHERE \"id\" = ?",
        e.table(),
        sets.join(", ")
    );
    let mut args: Vec<Value> = changed.iter().map(|&i| new.values[i].clone()).collect();
    args.push(Value::Integer(crate::clock::now().max(old.updated_at)));
    args.push(Value::Integer(old.id));
    conn.sqlite()
        .prepare_cached(&sql)?
        .execute(params_from_iter(args))?;
    let entries: Vec<Entry> = changed
        .iter()
        .map(|&i| {
            let f = &e.fields[i];
            Entry {
                user: Some(user),
                action: "update",
                entity: Some(e.name),
                record_id: Some(old.id),
                field: Some(f.name),
                old: show_value(f, &old.draft.values[i]),
                new: show_value(f, &new.values[i]),
                ..Entry::default()
            }
        })
        .collect();
    audit::log(conn, &entries)?;
    crate::db::derive::after_write(conn, &new, Some(&old.draft), old.id, user)?;
    Ok(true)
}

/// The records of other entities that reference this one: (entity, field, ids).
pub fn referrers(
    conn: &Store,
    e: &Entity,
    id: i64,
) -> Result<Vec<(&'static Entity, &'static str, Vec<i64>)>> {
    let mut out = Vec::new();
    for other in ENTITIES {
        for f in other.fields {
            if f.kind == Kind::Ref(e.name) {
                let sql = format!(
                    "SELECT \"id\" FROM {} WHERE {} = ? ORDER BY \"id\"",
                    other.table(),
                    ident(f.name)
                );
                let ids: Vec<i64> = conn
                    .sqlite()
                    .prepare_cached(&sql)?
                    .query_map([id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
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

fn referenced_error(
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

/// Deletes a record, auditing every old value. With `cascade`, first deletes what references it.
pub fn delete(conn: &Store, e: &'static Entity, id: i64, user: &str, cascade: bool) -> Result<()> {
    let old = must_get(conn, e, id)?;
    let refs = referrers(conn, e, id)?;
    if !refs.is_empty() {
        if !cascade {
            return Err(referenced_error(e, id, &refs));
        }
        for (other, _, ids) in refs {
            for rid in ids {
                if get(conn, other, rid)?.is_some() {
                    delete(conn, other, rid, user, true)?;
                }
            }
        }
    }
    conn.sqlite()
        .prepare_cached(&format!("DELETE FROM {} WHERE \"id\" = ?", e.table()))?
        .execute([id])?;
    let mut entries: Vec<Entry> = e
        .fields
        .iter()
        .zip(&old.draft.values)
        .filter(|(_, v)| **v != Value::Null)
        .map(|(f, v)| Entry {
            user: Some(user),
            action: "delete",
            entity: Some(e.name),
            record_id: Some(id),
            field: Some(f.name),
            old: show_value(f, v),
            ..Entry::default()
        })
        .collect();
    if entries.is_empty() {
        entries.push(Entry {
            user: Some(user),
            action: "delete",
            entity: Some(e.name),
            record_id: Some(id),
            ..Entry::default()
        });
    }
    audit::log(conn, &entries)?;
    crate::db::derive::after_delete(conn, &old.draft, id, user)?;
    Ok(())
}
