//! `crm merge revert N`: the duplicates back with their ids, keys, values and times, their
//! references pointing to them again, KEEP as it was — unless any of those records changed
//! since the merge (refused, naming them: a revert must not undo someone's later work).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde_json::Value as Json;

use super::{Merge, draft_json, get, read_all, restore_side, values_hash};
use crate::db::Store;
use crate::db::audit;
use crate::db::records::{self, Draft, Stored};
use crate::db::write::{AuditPolicy, Writer};
use crate::error::{Error, Result};
use crate::schema::{Entity, Value, ident};

/// A referencing record as the log kept it.
struct Ref {
    entity: &'static Entity,
    id: i64,
    fields: Vec<(String, i64)>,
    updated_at: i64,
    after_updated_at: i64,
    after_hash: String,
}

fn int(v: &Json, key: &str) -> Result<i64> {
    v.get(key)
        .and_then(Json::as_i64)
        .ok_or_else(|| Error::internal(format!("merge log: no {key}")))
}

fn refs(m: &Merge) -> Result<Vec<Ref>> {
    let mut out = Vec::new();
    for r in m.plan["refs"].as_array().into_iter().flatten() {
        let entity = Entity::get(r["entity"].as_str().unwrap_or_default())?;
        let fields = r["fields"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(f, v)| (f.clone(), v.as_i64().unwrap_or_default()))
            .collect();
        out.push(Ref {
            entity,
            id: int(r, "id")?,
            fields,
            updated_at: int(r, "updated_at")?,
            after_updated_at: int(r, "after_updated_at")?,
            after_hash: r["after_hash"].as_str().unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}

/// The duplicates as the log kept them, with their side rows.
fn dups(m: &Merge, e: &'static Entity) -> Result<Vec<(Stored, Json)>> {
    m.plan["dups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            Ok((
                Stored {
                    id: int(d, "id")?,
                    draft: draft_json(e, &d["values"]),
                    created_at: int(d, "created_at")?,
                    updated_at: int(d, "updated_at")?,
                },
                d["side"].clone(),
            ))
        })
        .collect()
}

/// Every record a merge involved, as drafts (the duplicates as they were): whose owner a
/// sales user must be to revert it.
pub fn involved(conn: &Store, m: &Merge) -> Result<Vec<Draft>> {
    let e = Entity::get(&m.entity)?;
    let mut out: Vec<Draft> = dups(m, e)?.into_iter().map(|(s, _)| s.draft).collect();
    if let Some(k) = records::get(conn, e, m.keep)? {
        out.push(k.draft);
    }
    let refs = refs(m)?;
    out.extend(
        read_all(conn, refs.iter().map(|r| (r.entity, r.id)))?
            .into_values()
            .map(|s| s.draft),
    );
    Ok(out)
}

/// `customer 3 (C000003)`: a record as the refusal names it.
fn name(conn: &Store, e: &'static Entity, id: i64) -> Result<String> {
    let Some(key) = e.key else {
        return Ok(format!("{} {id}", e.name));
    };
    let sql = format!("SELECT {} FROM {} WHERE \"id\" = ?", ident(key), e.table());
    let k: Option<Option<String>> = conn
        .query_opt(&sql, crate::vals![id])?
        .map(|r| r.get(0))
        .transpose()?;
    Ok(match k.flatten() {
        Some(k) => format!("{} {id} ({k})", e.name),
        None => format!("{} {id}", e.name),
    })
}

/// The records changed since the merge: KEEP (any value or its time), a reference no
/// longer pointing to KEEP or edited since, a duplicate's id taken again.
fn changed(conn: &Store, m: &Merge, e: &'static Entity, refs: &[Ref]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let keep = &m.plan["keep"];
    let same = records::get(conn, e, m.keep)?.is_some_and(|k| {
        k.draft == draft_json(e, &keep["after"])
            && Some(k.updated_at) == keep["after_updated_at"].as_i64()
    });
    if !same {
        out.push(name(conn, e, m.keep)?);
    }
    let now = read_all(conn, refs.iter().map(|r| (r.entity, r.id)))?;
    for r in refs {
        let same = now.get(&(r.entity.name, r.id)).is_some_and(|s| {
            s.updated_at == r.after_updated_at
                && values_hash(&s.draft) == r.after_hash
                && r.fields.iter().all(|(f, _)| s.draft.int(f) == Some(m.keep))
        });
        if !same {
            out.push(name(conn, r.entity, r.id)?);
        }
    }
    for d in &m.dups {
        if records::get(conn, e, *d)?.is_some() {
            out.push(name(conn, e, *d)?);
        }
    }
    Ok(out)
}

/// The writes of a revert: KEEP as it was, the duplicates back, references pointed back.
fn restore(
    conn: &Store,
    m: &Merge,
    e: &'static Entity,
    refs: &[Ref],
    user: &str,
    why: &str,
) -> Result<()> {
    let policy = || AuditPolicy::PerField {
        detail: Some(why.to_string()),
    };
    let mut w = Writer::new(conn, e, policy(), user)?.owner_event("merge", Some(why.to_string()));
    // KEEP first: a unique value it took from a duplicate is free again for the duplicate.
    let keep = records::must_get(conn, e, m.keep)?;
    let before = draft_json(e, &m.plan["keep"]["before"]);
    let stamp = int(&m.plan["keep"], "updated_at")?;
    w.restore_stamped(&keep, before.clone(), stamp)?;
    for (d, side) in dups(m, e)? {
        w.reinsert(&d)?;
        restore_side(conn, e, d.id, &side)?;
    }
    drop(w);
    let current = read_all(conn, refs.iter().map(|r| (r.entity, r.id)))?;
    let mut writers: HashMap<&'static str, Writer> = HashMap::new();
    for r in refs {
        let old = current
            .get(&(r.entity.name, r.id))
            .ok_or_else(|| Error::not_found(format!("no {} with id {}", r.entity.name, r.id)))?;
        let mut new = old.draft.clone();
        for (f, dup) in &r.fields {
            new.set(f, Value::Integer(*dup));
        }
        let w = match writers.entry(r.entity.name) {
            Entry::Occupied(w) => w.into_mut(),
            Entry::Vacant(v) => v.insert(Writer::new(conn, r.entity, policy(), user)?),
        };
        w.restore_stamped(old, new, r.updated_at)?;
    }
    drop(writers);
    // The duplicates' derived values moved back with their references; KEEP's follow the
    // rules again, so its own kept values are set once more, exactly.
    let keep = records::must_get(conn, e, m.keep)?;
    if keep.draft != before || keep.updated_at != stamp {
        Writer::new(conn, e, policy(), user)?.restore_stamped(&keep, before, stamp)?;
    }
    Ok(())
}

/// Undoes merge `n` in the caller's write transaction; returns how many references were
/// pointed back.
pub fn revert(conn: &Store, n: i64, user: &str) -> Result<usize> {
    let m = get(conn, n)?;
    if let Some(at) = m.reverted_at {
        return Err(Error::conflict(format!(
            "merge {n} was already reverted ({})",
            crate::schema::kinds::format_datetime(at)
        )));
    }
    let e = Entity::get(&m.entity)?;
    let refs = refs(&m)?;
    let changed = changed(conn, &m, e, &refs)?;
    if !changed.is_empty() {
        return Err(Error::conflict(format!(
            "merge {n} cannot be reverted: changed since the merge: {}",
            changed.join(", ")
        ))
        .hint("undo those changes first, or fix the records by hand"));
    }
    let why = format!("revert of merge {n}");
    // On PostgreSQL the detail is set once for the whole revert, not around each write.
    audit::with_audit_detail(conn, Some(&why), || restore(conn, &m, e, &refs, user, &why))?;
    let now = crate::clock::now();
    conn.execute(
        "UPDATE merge_log SET reverted_at = ?, reverted_by = ? WHERE id = ?",
        crate::vals![now, user, n],
    )?;
    audit::log(
        conn,
        &[audit::Entry {
            user: Some(user),
            action: "revert",
            entity: Some(e.name),
            record_id: Some(m.keep),
            detail: Some(format!(
                "merge {n}: {} {} restored, {} references pointed back",
                e.name,
                m.dups
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                refs.len()
            )),
            ..audit::Entry::default()
        }],
    )?;
    Ok(refs.len())
}
