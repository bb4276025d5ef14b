//! Import batches after the fact: `crm import history` and `crm import revert`, which deletes
//! what a batch inserted and restores what it updated, refusing (and naming the records)
//! when any of them changed since.

use crate::db::Store;
use crate::db::audit::{self, Entry};
use crate::db::records::{self, Draft};
use crate::db::row::Row;
use crate::db::write::{AuditPolicy, Writer};
use crate::error::{Error, Result};
use crate::schema::Value;
use crate::schema::{Entity, Kind, ident};

pub mod digest;

pub use digest::{MARK, trail_digest};

/// One recorded import.
#[derive(Debug, Clone)]
pub struct Batch {
    pub id: i64,
    pub at: i64,
    pub user: String,
    pub entity: String,
    pub file: String,
    pub mode: String,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub reverted_at: Option<i64>,
    pub encoding: Option<String>,
    audit_id: Option<i64>,
    /// A historical import (`--keep-times`): its rows gave their own times.
    pub keep_times: bool,
}

const COLS: &str = "id, at, \"user\", entity, file, mode, inserted, updated, unchanged, rejected, reverted_at, encoding, audit_id, keep_times";

fn read(r: &Row) -> Result<Batch> {
    Ok(Batch {
        id: r.get(0)?,
        at: r.get(1)?,
        user: r.get(2)?,
        entity: r.get(3)?,
        file: r.get(4)?,
        mode: r.get(5)?,
        inserted: r.get(6)?,
        updated: r.get(7)?,
        unchanged: r.get(8)?,
        rejected: r.get(9)?,
        reverted_at: r.get(10)?,
        encoding: r.get(11)?,
        audit_id: r.get(12)?,
        keep_times: r.get::<i64>(13)? != 0,
    })
}

/// Batches, newest first.
pub fn history(conn: &Store, entity: Option<&str>, limit: i64) -> Result<Vec<Batch>> {
    let sql = format!(
        "SELECT {COLS} FROM import_batch WHERE CAST(?1 AS TEXT) IS NULL OR entity = ?1 ORDER BY id DESC LIMIT ?2"
    );
    conn.query(&sql, crate::vals![entity, limit])?
        .iter()
        .map(read)
        .collect()
}

/// One batch, or `not_found`.
pub fn get(conn: &Store, id: i64) -> Result<Batch> {
    conn.query_opt(
        &format!("SELECT {COLS} FROM import_batch WHERE id = ?"),
        crate::vals![id],
    )?
    .as_ref()
    .map(read)
    .transpose()?
    .ok_or_else(|| {
        Error::not_found(format!("no import batch {id}")).hint("see `crm import history`")
    })
}

/// The first column of every row, as ids.
fn ids(conn: &Store, sql: &str, params: &[Value]) -> Result<Vec<i64>> {
    conn.query(sql, params)?.iter().map(|r| r.get(0)).collect()
}

/// What a revert did.
pub struct Reverted {
    pub deleted: i64,
    pub restored: i64,
}

/// Ids of this batch's records that changed after it: audited writes, later batches, or
/// (for updated records) a different `updated_at`. A derived value kept up by another
/// record's write (a customer's last contact after a follow-up is logged) is not a change
/// of the record: revert leaves derived fields alone, so it does not stand in the way. Nor is
/// the revert of a later batch (its rows say `revert of import batch N`): it put back what
/// this batch left, and a later batch not reverted blocks by itself.
fn changed_since(conn: &Store, b: &Batch, e: &Entity) -> Result<Vec<i64>> {
    let after = b.audit_id.unwrap_or(i64::MAX);
    let mut out: Vec<i64> = Vec::new();
    let ranges = ranges(conn, b.id)?;
    // On PostgreSQL through a function of the database's: one who may import may not read
    // the log (`migrate::postgres::security::revert_reads`, the same query).
    let by_audit = if conn.is_sqlite() {
        "SELECT DISTINCT record_id FROM audit WHERE entity = ? AND record_id BETWEEN ? AND ? AND id > ?
         AND (detail IS NULL OR (detail NOT LIKE 'derived: %' AND detail NOT LIKE 'revert of import batch %')) LIMIT 20"
    } else {
        "SELECT * FROM crm.revert_changed(?, ?, ?, ?)"
    };
    let by_batch = "SELECT DISTINCT c.record_id FROM import_change c JOIN import_batch b ON b.id = c.batch
         WHERE b.entity = ? AND b.id > ? AND b.reverted_at IS NULL AND c.record_id BETWEEN ? AND ? LIMIT 20";
    let check = |first: i64, last: i64, out: &mut Vec<i64>| -> Result<()> {
        out.extend(ids(
            conn,
            by_audit,
            crate::vals![e.name, first, last, after],
        )?);
        out.extend(ids(
            conn,
            by_batch,
            crate::vals![e.name, b.id, first, last],
        )?);
        Ok(())
    };
    for (first, last) in &ranges {
        check(*first, *last, &mut out)?;
    }
    let sql = format!(
        "SELECT c.record_id FROM import_change c LEFT JOIN {} t ON t.\"id\" = c.record_id
         WHERE c.batch = ? AND (t.\"id\" IS NULL OR t.\"updated_at\" IS DISTINCT FROM c.after_updated_at)",
        e.table()
    );
    out.extend(ids(conn, &sql, crate::vals![b.id])?);
    let updated = ids(
        conn,
        "SELECT record_id FROM import_change WHERE batch = ?",
        crate::vals![b.id],
    )?;
    for id in updated {
        if out.len() >= 20 {
            break;
        }
        check(id, id, &mut out)?;
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The orders whose amount this batch of order lines derived, with the amount each had
/// before it (the first derived change's `old`): an order that had a plain amount and no
/// lines gets it back when the revert leaves it without lines again (the sum of no lines
/// would be 0). Read from the audit rows the batch wrote, newest first from its own entry
/// back to its start (the batch holds the write lock, so nothing else is in between).
fn plain_amounts(conn: &Store, b: &Batch, ranges: &[(i64, i64)]) -> Result<Vec<(i64, Value)>> {
    let (Some(audit_id), "order_line") = (b.audit_id, b.entity.as_str()) else {
        return Ok(Vec::new());
    };
    let updated: std::collections::HashSet<i64> = ids(
        conn,
        "SELECT record_id FROM import_change WHERE batch = ?",
        crate::vals![b.id],
    )?
    .into_iter()
    .collect();
    let ours = |line: i64| {
        updated.contains(&line) || ranges.iter().any(|(f, l)| (*f..=*l).contains(&line))
    };
    let amount = Entity::get("order")?.field("amount")?;
    let mut first: std::collections::BTreeMap<i64, Value> = std::collections::BTreeMap::new();
    // Walking back from the batch's own entry to its start: the batch held the write lock.
    // On PostgreSQL through a function of the database's (one who may import may not read
    // the log), which finds the start by the server's time of the batch's transaction.
    let rows = if conn.is_sqlite() {
        conn.query(
            "SELECT at, entity, record_id, field, old, detail FROM audit WHERE id < ? AND at >= ? ORDER BY id DESC",
            crate::vals![audit_id, b.at],
        )?
    } else {
        conn.query(
            "SELECT 0, entity, record_id, field, old, detail FROM crm.revert_derived(?)",
            crate::vals![b.id],
        )?
    };
    for r in rows {
        let (entity, field): (Option<String>, Option<String>) = (r.get(1)?, r.get(3)?);
        let detail: Option<String> = r.get(5)?;
        let cause = detail
            .as_deref()
            .and_then(|d| d.strip_prefix("derived: follows order_line "))
            .and_then(|n| n.parse::<i64>().ok());
        let (Some(line), Some("order"), Some("amount"), Some(order)) = (
            cause,
            entity.as_deref(),
            field.as_deref(),
            r.get::<Option<i64>>(2)?,
        ) else {
            continue;
        };
        if ours(line) {
            let old: Option<String> = r.get(4)?;
            let v = match old {
                Some(t) => amount.kind.parse(&t).map_err(Error::internal)?,
                None => Value::Null,
            };
            first.insert(order, v); // walking back: the last one kept is the earliest
        }
    }
    Ok(first.into_iter().collect())
}

fn ranges(conn: &Store, batch: i64) -> Result<Vec<(i64, i64)>> {
    conn.query(
        "SELECT first_id, last_id FROM import_insert WHERE batch = ? ORDER BY first_id",
        crate::vals![batch],
    )?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

/// Records of other entities that point at the batch's inserted records.
fn referenced(conn: &Store, e: &Entity, ranges: &[(i64, i64)]) -> Result<Option<String>> {
    for other in crate::schema::all() {
        for f in other.fields.iter().filter(|f| f.kind == Kind::Ref(e.name)) {
            let sql = format!(
                "SELECT \"id\" FROM {} WHERE {} BETWEEN ? AND ? LIMIT 1",
                other.table(),
                ident(f.name)
            );
            for (first, last) in ranges {
                let hit: Option<i64> = conn
                    .query_opt(&sql, crate::vals![*first, *last])?
                    .map(|r| r.get(0))
                    .transpose()?;
                if let Some(id) = hit {
                    return Ok(Some(format!("{} {id} ({})", other.name, f.name)));
                }
            }
        }
    }
    Ok(None)
}

/// A record as messages name it: `12 (C000012)` where the entity has a key.
fn name_of(conn: &Store, e: &Entity, id: i64) -> Result<String> {
    let Some(key) = e.key else {
        return Ok(id.to_string());
    };
    let sql = format!("SELECT {} FROM {} WHERE \"id\" = ?", ident(key), e.table());
    let k: Option<Option<String>> = conn
        .query_opt(&sql, crate::vals![id])?
        .map(|r| r.get(0))
        .transpose()?;
    Ok(match k.flatten() {
        Some(k) => format!("{id} ({k})"),
        None => format!("{id} (deleted)"),
    })
}

/// Runs `f`, a revert's delete of inserted records, so the log keeps one row per record
/// with all its values (`Writer::delete_range`): on `PostgreSQL` the row trigger writes
/// that row itself while `crm.audit_whole` is on (`migrate::postgres::security`).
fn whole_records<T>(conn: &Store, f: impl FnOnce() -> Result<T>) -> Result<T> {
    if conn.is_sqlite() {
        return f();
    }
    conn.execute(
        "SELECT pg_catalog.set_config('crm.audit_whole', 'on', true)",
        &[],
    )?;
    let r = f()?;
    conn.execute(
        "SELECT pg_catalog.set_config('crm.audit_whole', '', true)",
        &[],
    )?;
    Ok(r)
}

/// Undoes a batch inside the caller's write transaction, auditing each field it restores
/// and each record it deletes (`revert of import batch N (FILE)`).
pub fn revert(conn: &Store, id: i64, user: &str) -> Result<Reverted> {
    let b = get(conn, id)?;
    if let Some(at) = b.reverted_at {
        return Err(Error::conflict(format!(
            "import batch {id} was already reverted ({})",
            crate::schema::kinds::format_datetime(at)
        )));
    }
    let e = Entity::get(&b.entity)?;
    let changed = changed_since(conn, &b, e)?;
    if !changed.is_empty() {
        let list = changed
            .iter()
            .take(20)
            .map(|rid| name_of(conn, e, *rid))
            .collect::<Result<Vec<_>>>()?;
        return Err(Error::conflict(format!(
            "import batch {id} cannot be reverted: {} records changed since: {}",
            e.name,
            list.join(", ")
        ))
        .hint("revert later batches first, or fix those records by hand"));
    }
    let ranges = ranges(conn, id)?;
    if let Some(who) = referenced(conn, e, &ranges)? {
        return Err(Error::conflict(format!(
            "import batch {id} cannot be reverted: its {} records are referenced by {who}",
            e.name
        ))
        .hint("revert or delete the records that refer to them first"));
    }
    let plain = plain_amounts(conn, &b, &ranges)?;
    let why = format!("revert of import batch {id} ({})", b.file);
    let now = crate::clock::now();
    let mut restored = 0;
    let updates: Vec<(i64, String)> = conn
        .query(
            "SELECT record_id, before FROM import_change WHERE batch = ? AND before IS NOT NULL ORDER BY record_id",
            crate::vals![id],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect::<Result<_>>()?;
    let mut w = Writer::new(conn, e, AuditPolicy::PerField { detail: Some(why) }, user)?;
    for (rid, before) in updates {
        let old = records::must_get(conn, e, rid)?;
        let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&before)
            .map_err(|err| Error::internal(format!("batch {id} record {rid}: {err}")))?;
        let mut new = old.draft.clone();
        for (i, f) in e.fields.iter().enumerate().filter(|(_, f)| !f.read_only) {
            new.values[i] = match json.get(f.name) {
                Some(serde_json::Value::Number(n)) => {
                    n.as_i64().map_or(Value::Null, Value::Integer)
                }
                Some(serde_json::Value::String(s)) => Value::Text(s.clone()),
                _ => Value::Null,
            };
        }
        w.restore(&old, new)?;
        restored += 1;
    }
    let mut deleted = 0;
    for (first, last) in ranges {
        let mut lo = first;
        while lo <= last {
            let hi = (lo + 999).min(last);
            let drafts: Vec<(i64, Draft)> = (lo..=hi)
                .map(|rid| records::get(conn, e, rid).map(|s| s.map(|s| (rid, s.draft))))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect();
            deleted += whole_records(conn, || w.delete_range(lo, hi, &drafts))?;
            lo = hi + 1;
        }
    }
    drop(w);
    for (order, amount) in plain {
        crate::db::derive::restore_plain_amount(conn, order, &amount, id, user)?;
    }
    conn.execute(
        "UPDATE import_batch SET reverted_at = ? WHERE id = ?",
        crate::vals![now, id],
    )?;
    audit::log(
        conn,
        &[Entry {
            user: Some(user),
            action: "revert",
            entity: Some(e.name),
            detail: Some(format!(
                "import batch {id} ({}): {deleted} records deleted, {restored} restored",
                b.file
            )),
            ..Entry::default()
        }],
    )?;
    Ok(Reverted { deleted, restored })
}
