//! The append-only audit log: written in the same transaction as the change it records,
//! each row chained to the previous one by a SHA-256 hash so tampering shows.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::error::Result;

/// One audit row.
#[derive(Debug, Default, Clone)]
pub struct Entry<'a> {
    pub user: Option<&'a str>,
    pub action: &'a str,
    pub entity: Option<&'a str>,
    pub record_id: Option<i64>,
    pub field: Option<&'a str>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub detail: Option<String>,
}

fn row_hash(prev: &str, at: i64, e: &Entry) -> String {
    let mut h = Sha256::new();
    let parts = [
        prev.to_string(),
        at.to_string(),
        e.user.unwrap_or("").to_string(),
        e.action.to_string(),
        e.entity.unwrap_or("").to_string(),
        e.record_id.map(|i| i.to_string()).unwrap_or_default(),
        e.field.unwrap_or("").to_string(),
        e.old.clone().unwrap_or_default(),
        e.new.clone().unwrap_or_default(),
        e.detail.clone().unwrap_or_default(),
    ];
    for p in parts {
        h.update(p.len().to_le_bytes());
        h.update(p.as_bytes());
    }
    hex(&h.finalize())
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Appends entries; call inside the write transaction of the change they describe.
pub fn log(conn: &Connection, entries: &[Entry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    // Reading the last hash and appending must be one locked step, or two writers would
    // chain to the same row and the log would look tampered with. Outside a transaction
    // (a caller's slip), take the write lock here.
    if conn.is_autocommit() {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let r = append(conn, entries);
        if r.is_ok() {
            conn.execute_batch("COMMIT")?;
        } else {
            let _ = conn.execute_batch("ROLLBACK");
        }
        return r;
    }
    append(conn, entries)
}

fn append(conn: &Connection, entries: &[Entry]) -> Result<()> {
    let at = crate::clock::now();
    let mut prev: String = conn
        .query_row("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or_default();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO audit (at, user, action, entity, record_id, field, old, new, detail, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
    )?;
    for e in entries {
        let hash = row_hash(&prev, at, e);
        stmt.execute(params![
            at,
            e.user,
            e.action,
            e.entity,
            e.record_id,
            e.field,
            e.old,
            e.new,
            e.detail,
            hash
        ])?;
        prev = hash;
    }
    Ok(())
}

/// A stored audit row.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub at: i64,
    pub user: Option<String>,
    pub action: String,
    pub entity: Option<String>,
    pub record_id: Option<i64>,
    pub field: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub detail: Option<String>,
    pub hash: String,
}

/// Filters for `crm audit`.
#[derive(Debug, Default)]
pub struct Filter {
    pub entity: Option<String>,
    pub id: Option<i64>,
    pub user: Option<String>,
    pub since: Option<i64>,
    pub limit: Option<i64>,
}

/// Reads audit rows, oldest first.
pub fn read(conn: &Connection, f: &Filter) -> Result<Vec<Row>> {
    let mut sql = String::from(
        "SELECT id, at, user, action, entity, record_id, field, old, new, detail, hash FROM audit WHERE 1=1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(e) = &f.entity {
        sql.push_str(" AND entity = ?");
        args.push(e.clone().into());
    }
    if let Some(i) = f.id {
        sql.push_str(" AND record_id = ?");
        args.push(i.into());
    }
    if let Some(u) = &f.user {
        sql.push_str(" AND user = ?");
        args.push(u.clone().into());
    }
    if let Some(s) = f.since {
        sql.push_str(" AND at >= ?");
        args.push(s.into());
    }
    sql.push_str(" ORDER BY id");
    if let Some(l) = f.limit {
        sql = format!("SELECT * FROM ({sql} DESC LIMIT {l}) ORDER BY id");
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok(Row {
                id: r.get(0)?,
                at: r.get(1)?,
                user: r.get(2)?,
                action: r.get(3)?,
                entity: r.get(4)?,
                record_id: r.get(5)?,
                field: r.get(6)?,
                old: r.get(7)?,
                new: r.get(8)?,
                detail: r.get(9)?,
                hash: r.get(10)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Recomputes the hash chain row by row (never the whole log in memory); returns the id of
/// the first row that does not match.
pub fn verify(conn: &Connection) -> Result<Option<i64>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, user, action, entity, record_id, field, old, new, detail, hash FROM audit ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut prev = String::new();
    while let Some(r) = rows.next()? {
        let (user, action, entity, field): (
            Option<String>,
            String,
            Option<String>,
            Option<String>,
        ) = (r.get(2)?, r.get(3)?, r.get(4)?, r.get(6)?);
        let e = Entry {
            user: user.as_deref(),
            action: &action,
            entity: entity.as_deref(),
            record_id: r.get(5)?,
            field: field.as_deref(),
            old: r.get(7)?,
            new: r.get(8)?,
            detail: r.get(9)?,
        };
        let hash: String = r.get(10)?;
        if row_hash(&prev, r.get(1)?, &e) != hash {
            return Ok(Some(r.get(0)?));
        }
        prev = hash;
    }
    Ok(None)
}
