//! `crm merge`: folds duplicate records into the one kept, in the caller's write transaction.
//! KEEP's empty fields take the duplicates' values, every record that references a
//! duplicate (found from the registry's reference fields, not a hand list) points to KEEP,
//! and the duplicates are deleted — each change through the one writer, so it is audited
//! with its old values, indexed for search and followed by the rules' derived values. The
//! merge log (`merge_log`) keeps what a revert needs (`revert`).
//!
//! Side tables: a duplicate opportunity's stage history goes with it (its rows are kept in
//! the log and come back on revert; KEEP's history stays its own, so the funnel counts the
//! deal once). Ownership events are append-only history and stay under the duplicate's id,
//! which comes back with it. Search rows follow their records through the writer.

use std::collections::{HashMap, hash_map};

use serde_json::{Map, Value as Json, json};

use crate::db::Store;
use crate::db::audit::{self, Entry};
use crate::db::records::{self, Draft, Stored};
use crate::db::write::{AuditPolicy, Writer};
use crate::error::{Error, Result};
use crate::schema::{ENTITIES, Entity, Kind, Value, ident};

mod fill;
mod log;
pub mod revert;

pub use fill::merged;
pub use log::{Merge, get, history};
pub use revert::revert;

/// The records that reference the duplicates, per referencing record: the fields to point
/// to KEEP and the duplicate each named.
#[derive(Debug, Clone)]
pub struct Referrer {
    pub entity: &'static Entity,
    pub id: i64,
    pub fields: Vec<(&'static str, i64)>,
}

/// What a merge will do, computed before anything is written (what `--dry-run` prints).
#[derive(Debug, Clone)]
pub struct Plan {
    pub entity: &'static Entity,
    pub keep: Stored,
    pub dups: Vec<Stored>,
    /// The fields KEEP takes: (field, new value, the record it comes from).
    pub fills: Vec<(&'static str, Value, i64)>,
    pub refs: Vec<Referrer>,
}

impl Plan {
    /// Every record the merge changes or deletes, as stored now (whose owner a sales user
    /// must be).
    pub fn involved(&self, conn: &Store) -> Result<Vec<Draft>> {
        let mut out = vec![self.keep.draft.clone()];
        out.extend(self.dups.iter().map(|d| d.draft.clone()));
        out.extend(self.referring(conn)?.into_values().map(|s| s.draft));
        Ok(out)
    }

    /// The referencing records as stored now, by (entity, id); each must exist.
    fn referring(&self, conn: &Store) -> Result<HashMap<(&'static str, i64), Stored>> {
        let out = read_all(conn, self.refs.iter().map(|r| (r.entity, r.id)))?;
        for r in &self.refs {
            if !out.contains_key(&(r.entity.name, r.id)) {
                return Err(Error::not_found(format!(
                    "no {} with id {}",
                    r.entity.name, r.id
                )));
            }
        }
        Ok(out)
    }

    /// References to re-point per referencing entity: (entity, count), registry order.
    pub fn ref_counts(&self) -> Vec<(&'static str, usize)> {
        let mut out: Vec<(&'static str, usize)> = Vec::new();
        for r in &self.refs {
            match out.iter_mut().find(|(n, _)| *n == r.entity.name) {
                Some((_, c)) => *c += 1,
                None => out.push((r.entity.name, 1)),
            }
        }
        out
    }
}

/// The records named, as stored now, by (entity, id) (those that exist): read a few
/// statements per entity, not one per record (a merge re-points thousands).
pub(crate) fn read_all(
    conn: &Store,
    records: impl Iterator<Item = (&'static Entity, i64)>,
) -> Result<HashMap<(&'static str, i64), Stored>> {
    let mut ids: Vec<(&'static Entity, Vec<i64>)> = Vec::new();
    for (e, id) in records {
        match ids.iter_mut().find(|(x, _)| x.name == e.name) {
            Some((_, v)) => v.push(id),
            None => ids.push((e, vec![id])),
        }
    }
    let mut out = HashMap::new();
    for (e, v) in ids {
        for s in records::get_many(conn, e, &v)? {
            out.insert((e.name, s.id), s);
        }
    }
    Ok(out)
}

/// Plans the merge of `dups` into `keep`; `prefer` names, per field, the record whose value
/// wins (KEEP or one of the duplicates).
pub fn plan(
    conn: &Store,
    e: &'static Entity,
    keep: i64,
    dups: &[i64],
    prefer: &[(&'static str, i64)],
) -> Result<Plan> {
    let keep = records::must_get(conn, e, keep)?;
    let dups = dups
        .iter()
        .map(|id| records::must_get(conn, e, *id))
        .collect::<Result<Vec<_>>>()?;
    let others: Vec<(i64, &Draft)> = dups.iter().map(|d| (d.id, &d.draft)).collect();
    let (_, fills) = fill::merged(keep.id, &keep.draft, &others, prefer);
    let ids: Vec<i64> = dups.iter().map(|d| d.id).collect();
    let refs = referrers(conn, e, &ids)?;
    Ok(Plan {
        entity: e,
        keep,
        dups,
        fills,
        refs,
    })
}

/// Every record of any entity whose reference field (kind `ref:ENTITY`) names one of `ids`,
/// in registry order (a contact is re-pointed before the activities that name it and its
/// customer). Duplicates themselves are left out: they are deleted.
fn referrers(conn: &Store, e: &'static Entity, ids: &[i64]) -> Result<Vec<Referrer>> {
    let mut out: Vec<Referrer> = Vec::new();
    let marks = vec!["?"; ids.len()].join(", ");
    let params: Vec<Value> = ids.iter().map(|i| Value::Integer(*i)).collect();
    for other in ENTITIES {
        for f in other.fields.iter().filter(|f| f.kind == Kind::Ref(e.name)) {
            let sql = format!(
                "SELECT \"id\", {col} FROM {} WHERE {col} IN ({marks}) ORDER BY \"id\"",
                other.table(),
                col = ident(f.name)
            );
            for r in conn.query(&sql, &params)? {
                let (id, dup): (i64, i64) = (r.get(0)?, r.get(1)?);
                if other.name == e.name && ids.contains(&id) {
                    continue;
                }
                match out
                    .iter_mut()
                    .find(|x| x.entity.name == other.name && x.id == id)
                {
                    Some(x) => x.fields.push((f.name, dup)),
                    None => out.push(Referrer {
                        entity: other,
                        id,
                        fields: vec![(f.name, dup)],
                    }),
                }
            }
        }
    }
    Ok(out)
}

/// A raw value as the log keeps it.
pub(crate) fn to_json(v: &Value) -> Json {
    match v {
        Value::Integer(i) => json!(i),
        Value::Real(r) => json!(r),
        Value::Text(t) => json!(t),
        Value::Null | Value::Blob(_) => Json::Null,
    }
}

/// A raw value back from the log.
pub(crate) fn from_json(v: &Json) -> Value {
    match v {
        Json::Number(n) => n.as_i64().map_or_else(
            || n.as_f64().map_or(Value::Null, Value::Real),
            Value::Integer,
        ),
        Json::String(s) => Value::Text(s.clone()),
        _ => Value::Null,
    }
}

/// A record's values as one JSON object, every field named.
pub(crate) fn values_json(d: &Draft) -> Json {
    let map: Map<String, Json> = d
        .entity
        .fields
        .iter()
        .zip(&d.values)
        .map(|(f, v)| (f.name.to_string(), to_json(v)))
        .collect();
    Json::Object(map)
}

/// A short digest of a record's values: how a revert tells that a re-pointed reference
/// changed since (its time alone may not move within one second), without keeping every
/// value of every reference in the log.
pub(crate) fn values_hash(d: &Draft) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(values_json(d).to_string().as_bytes());
    crate::db::audit::hex(&digest[..16])
}

/// A draft back from [`values_json`].
pub(crate) fn draft_json(e: &'static Entity, v: &Json) -> Draft {
    let mut d = Draft::empty(e);
    for (i, f) in e.fields.iter().enumerate() {
        d.values[i] = v.get(f.name).map_or(Value::Null, from_json);
    }
    d
}

/// The side tables that hang off a record and go with it when it is deleted:
/// (entity, table, record column, the columns kept).
const SIDE: &[(&str, &str, &str, &[&str])] = &[(
    "opportunity",
    "opportunity_stage",
    "opportunity",
    &["stage", "entered_at"],
)];

/// The side rows of record `id`, as the log keeps them.
fn side_rows(conn: &Store, e: &Entity, id: i64) -> Result<Json> {
    let mut out = Map::new();
    for (entity, table, col, cols) in SIDE.iter().filter(|s| s.0 == e.name) {
        let _ = entity;
        let sql = format!(
            "SELECT {} FROM {table} WHERE {} = ? ORDER BY \"id\"",
            cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", "),
            ident(col)
        );
        let rows: Vec<Json> = conn
            .query(&sql, crate::vals![id])?
            .into_iter()
            .map(|r| Json::Array(r.into_values().iter().map(to_json).collect()))
            .collect();
        out.insert((*table).to_string(), Json::Array(rows));
    }
    Ok(Json::Object(out))
}

/// Puts record `id`'s side rows back as the log kept them (after its reinsert, whose rules
/// may have written fresh ones: those go first).
fn restore_side(conn: &Store, e: &Entity, id: i64, kept: &Json) -> Result<()> {
    for (_, table, col, cols) in SIDE.iter().filter(|s| s.0 == e.name) {
        conn.execute(
            &format!("DELETE FROM {table} WHERE {} = ?", ident(col)),
            crate::vals![id],
        )?;
        let sql = format!(
            "INSERT INTO {table} ({}, {}) VALUES (?, {})",
            ident(col),
            cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", "),
            vec!["?"; cols.len()].join(", ")
        );
        for row in kept
            .get(*table)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let mut params = vec![Value::Integer(id)];
            params.extend(row.as_array().into_iter().flatten().map(from_json));
            conn.execute(&sql, &params)?;
        }
    }
    Ok(())
}

/// Carries out a plan in the caller's write transaction; returns the merge's number.
pub fn apply(conn: &Store, plan: &Plan, user: &str) -> Result<i64> {
    let n: i64 = conn.value("SELECT COALESCE(MAX(id), 0) + 1 FROM merge_log", &[])?;
    let why = format!("merge {n}");
    // On PostgreSQL the detail is set once for the whole merge, not around each write.
    audit::with_audit_detail(conn, Some(&why), || apply_writes(conn, plan, user, n, &why))
}

/// The writes of [`apply`]: re-point, delete, fill KEEP, log.
fn apply_writes(conn: &Store, plan: &Plan, user: &str, n: i64, why: &str) -> Result<i64> {
    let e = plan.entity;
    let policy = || AuditPolicy::PerField {
        detail: Some(why.to_string()),
    };
    let before = plan.referring(conn)?;
    let mut writers: HashMap<&'static str, Writer> = HashMap::new();
    for r in &plan.refs {
        let old = &before[&(r.entity.name, r.id)];
        let mut new = old.draft.clone();
        for (f, _) in &r.fields {
            new.set(f, Value::Integer(plan.keep.id));
        }
        let w = match writers.entry(r.entity.name) {
            hash_map::Entry::Occupied(w) => w.into_mut(),
            hash_map::Entry::Vacant(v) => v.insert(
                Writer::new(conn, r.entity, policy(), user)?
                    .owner_event("merge", Some(why.to_string())),
            ),
        };
        w.update(old, new)?.map_err(|x| x.into_error(r.entity))?;
    }
    drop(writers);
    let after = plan.referring(conn)?;
    let mut refs_log = Vec::new();
    for r in &plan.refs {
        let (old, after) = (
            &before[&(r.entity.name, r.id)],
            &after[&(r.entity.name, r.id)],
        );
        let fields: Map<String, Json> = r
            .fields
            .iter()
            .map(|(f, dup)| ((*f).to_string(), json!(dup)))
            .collect();
        refs_log.push(json!({
            "entity": r.entity.name, "id": r.id, "fields": fields,
            "updated_at": old.updated_at, "after_updated_at": after.updated_at,
            "after_hash": values_hash(&after.draft),
        }));
    }
    let mut dups_log = Vec::new();
    let mut w = Writer::new(conn, e, policy(), user)?.owner_event("merge", Some(why.to_string()));
    for d in &plan.dups {
        let side = side_rows(conn, e, d.id)?;
        w.delete(d)?;
        dups_log.push(json!({
            "id": d.id, "values": values_json(&d.draft),
            "created_at": d.created_at, "updated_at": d.updated_at, "side": side,
        }));
    }
    // After the deletes: a unique value KEEP takes from a duplicate is free by then. Only
    // the fields filled are set: the derived ones the re-pointing moved stay as they are now.
    let now_keep = records::must_get(conn, e, plan.keep.id)?;
    let mut new = now_keep.draft.clone();
    for (f, v, _) in &plan.fills {
        new.set(f, v.clone());
    }
    w.update(&now_keep, new)?.map_err(|x| x.into_error(e))?;
    drop(w);
    let keep = &plan.keep;
    let after = records::must_get(conn, e, keep.id)?;
    let log = json!({
        "keep": {
            "id": keep.id, "before": values_json(&keep.draft), "updated_at": keep.updated_at,
            "after": values_json(&after.draft), "after_updated_at": after.updated_at,
        },
        "dups": dups_log,
        "refs": refs_log,
    });
    let ids: Vec<i64> = plan.dups.iter().map(|d| d.id).collect();
    let now = crate::clock::now();
    conn.execute(
        "INSERT INTO merge_log (id, at, \"user\", entity, keep_id, dups, plan) VALUES (?, ?, ?, ?, ?, ?, ?)",
        crate::vals![n, now, user, e.name, keep.id, json!(ids).to_string(), log.to_string()],
    )?;
    audit::log(
        conn,
        &[Entry {
            user: Some(user),
            action: "merge",
            entity: Some(e.name),
            record_id: Some(keep.id),
            old: Some(log.to_string()),
            detail: Some(format!(
                "merge {n}: {} {} into {}; {} references re-pointed",
                e.name,
                ids.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                keep.id,
                plan.refs.len()
            )),
            ..Entry::default()
        }],
    )?;
    Ok(n)
}

/// Fails unless `id` is a record of `e` (the error names it).
pub fn must_exist(conn: &Store, e: &'static Entity, id: i64) -> Result<()> {
    records::get(conn, e, id)?
        .map(|_| ())
        .ok_or_else(|| Error::not_found(format!("no {} with id {id}", e.name)))
}
