//! The append-only audit log: written in the same transaction as the change it records,
//! each row chained to the previous one by a SHA-256 hash so tampering shows (see `verify`
//! for what that does and does not catch). Imports add no row per record; `read` shows their
//! trail on a record from the batch tables (`trail`).
//!
//! On `PostgreSQL` the database writes the log itself: the triggers of `security.rs` audit
//! every change to a record, and every other row goes through `crm.audit_append`, which
//! chains it by the same rule (`crm.row_hash`) in the name of the session's login. Reading
//! and verifying are the same SQL on both engines.

use sha2::{Digest, Sha256};

use crate::db::Store;
use crate::db::row::Row as DbRow;
use crate::error::Result;
use crate::schema::{Entity, Value};
use crate::vals;

mod trail;
mod verify;

pub use verify::{
    Head, anchor_problem, chain_break, head, import_history, missing_triggers, parse_anchor,
    problems, truncation,
};

/// The id of the first row whose hash does not match (the chain alone; `problems` says all).
pub fn verify(conn: &Store) -> Result<Option<i64>> {
    chain_break(conn)
}

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

/// The token for automation this process acts by: its owner's name and the name the log
/// gives it (`token:NAME`). Set once, when the command's token is checked.
static TOKEN_ACTOR: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// Makes this process's audit rows written in `owner`'s name name the token instead, as
/// `PostgreSQL`'s `crm.actor()` does from the session's login role. A command acts by one
/// token at most (one process, one command), and it acts as its owner everywhere else
/// (defaults, own-record rules), so the log is the one place the two differ.
pub fn act_by_token(owner: &str, token: &str) {
    let _ = TOKEN_ACTOR.set((owner.to_string(), format!("token:{token}")));
}

/// Who the log names for an entry's user.
fn actor(user: Option<&str>) -> Option<&str> {
    match (user, TOKEN_ACTOR.get()) {
        (Some(u), Some((owner, token))) if u == owner => Some(token.as_str()),
        _ => user,
    }
}

/// Appends entries in a write transaction of their own (an action that changed nothing
/// else in this database: a copy made, a backup taken).
pub fn log_alone(store: &mut Store, entries: &[Entry]) -> Result<()> {
    let tx = store.write()?;
    log(&tx, entries)?;
    tx.commit()
}

/// Appends entries; call inside the write transaction of the change they describe.
///
/// On `PostgreSQL` the row's user and time are the database's (`crm.me()` or `pg:ROLE`,
/// `crm.now()`), not the entry's, so nobody can write a row in another's name; the rows that
/// record a change to a record are left out, as the table's trigger has written them
/// already ([`written_by_triggers`]).
pub fn log(conn: &Store, entries: &[Entry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let c = match conn {
        Store::Sqlite(c) => c,
        Store::Postgres(_) => return append_pg(conn, entries),
    };
    // Reading the last hash and appending must be one locked step, or two writers would
    // chain to the same row and the log would look tampered with. Outside a transaction
    // (a caller's slip), take the write lock here.
    if c.is_autocommit() {
        conn.batch("BEGIN IMMEDIATE")?;
        let r = append(conn, entries);
        if r.is_ok() {
            conn.batch("COMMIT")?;
        } else {
            let _ = conn.batch("ROLLBACK");
        }
        return r;
    }
    append(conn, entries)
}

/// Runs `f`, whose record changes `detail` explains (a derived value, a revert), in the
/// audit. On `PostgreSQL` the row triggers write those audit rows and take the detail from
/// the transaction-local setting `crm.audit_detail`; on `SQLite` the writer logs it itself.
pub fn with_audit_detail<T>(
    conn: &Store,
    detail: Option<&str>,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let (Some(detail), Store::Postgres(pg)) = (detail, conn) else {
        return f();
    };
    // Already the detail of an enclosing operation: one round trip saved per write.
    if pg.audit_detail.borrow().as_deref() == Some(detail) {
        return f();
    }
    conn.execute(
        "SELECT pg_catalog.set_config('crm.audit_detail', ?, true)",
        vals![detail],
    )?;
    let before = pg.audit_detail.replace(Some(detail.to_string()));
    let r = f();
    pg.audit_detail.replace(before.clone());
    if r.is_ok() {
        conn.execute(
            "SELECT pg_catalog.set_config('crm.audit_detail', ?, true)",
            vals![before.unwrap_or_default()],
        )?;
    }
    r
}

/// Whether `PostgreSQL`'s triggers write this entry's row: a create, update or delete of a
/// registered entity's record (the trigger audits each INSERT, UPDATE and DELETE on its
/// table, whoever makes it). Such an entry passed to [`log`] there would be a second row.
pub fn written_by_triggers(e: &Entry) -> bool {
    matches!(e.action, "create" | "update" | "delete")
        && e.record_id.is_some()
        && e.entity.and_then(Entity::lookup).is_some()
}

fn append(conn: &Store, entries: &[Entry]) -> Result<()> {
    let at = crate::clock::now();
    let mut prev: String = conn
        .query_opt("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", vals![])?
        .map(|r| r.get(0))
        .transpose()?
        .unwrap_or_default();
    for e in entries {
        let e = &Entry {
            user: actor(e.user),
            ..e.clone()
        };
        let hash = row_hash(&prev, at, e);
        conn.execute(
            "INSERT INTO audit (at, \"user\", action, entity, record_id, field, old, new, detail, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            vals![
                at,
                e.user,
                e.action,
                e.entity,
                e.record_id,
                e.field,
                e.old.as_deref(),
                e.new.as_deref(),
                e.detail.as_deref(),
                hash.as_str()
            ],
        )?;
        prev = hash;
    }
    Ok(())
}

/// `PostgreSQL`: each entry through `crm.audit_append`, which takes the log's lock, reads
/// the last hash and chains the row, so it is one locked step inside any transaction.
fn append_pg(conn: &Store, entries: &[Entry]) -> Result<()> {
    for e in entries.iter().filter(|e| !written_by_triggers(e)) {
        conn.execute(
            "SELECT crm.audit_append(?, ?, ?, ?, ?, ?, ?)",
            vals![
                e.action,
                e.entity,
                e.record_id,
                e.field,
                e.old.as_deref(),
                e.new.as_deref(),
                e.detail.as_deref()
            ],
        )?;
    }
    Ok(())
}

/// A stored audit row.
#[derive(Debug, Clone)]
pub struct Row {
    /// The row's id; for an import's trail, the batch's own audit row (none before v4).
    pub id: Option<i64>,
    pub at: i64,
    pub user: Option<String>,
    pub action: String,
    pub entity: Option<String>,
    pub record_id: Option<i64>,
    pub field: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub detail: Option<String>,
    /// Empty for a row of an import's trail, which has no audit row of its own.
    pub hash: String,
    /// The import batch the row belongs to: its import, its revert, or its trail on a record.
    pub batch: Option<i64>,
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

/// Reads audit rows, oldest first. For one record (`id`), with what imports did to it.
pub fn read(conn: &Store, f: &Filter) -> Result<Vec<Row>> {
    let trail = match (f.id, f.entity.as_deref()) {
        (Some(_), Some("user")) | (None, _) => None,
        (Some(id), _) => Some(id),
    };
    let Some(id) = trail else {
        return stored(conn, f, f.limit);
    };
    let mut all: Vec<(i64, Row)> = stored(conn, f, None)?
        .into_iter()
        .map(|r| (r.id.unwrap_or_default(), r))
        .collect();
    all.extend(trail::rows(conn, f, id)?);
    // Stable: a batch's rows keep their field order; ties with stored rows cannot happen
    // (a batch's own audit row names no record).
    all.sort_by_key(|(pos, _)| *pos);
    let skip = f
        .limit
        .and_then(|l| usize::try_from(l).ok())
        .map_or(0, |l| all.len().saturating_sub(l));
    Ok(all.into_iter().skip(skip).map(|(_, r)| r).collect())
}

/// The batch an import's or a revert's own audit row names, from the detail crm wrote.
fn batch_of(action: &str, detail: Option<&str>) -> Option<i64> {
    let d = detail?;
    let rest = match action {
        "import" => d.strip_prefix("batch ")?,
        "revert" => d.strip_prefix("import batch ")?,
        _ => d.strip_prefix("revert of import batch ")?,
    };
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn stored(conn: &Store, f: &Filter, limit: Option<i64>) -> Result<Vec<Row>> {
    let mut sql = String::from(
        "SELECT id, at, \"user\", action, entity, record_id, field, old, new, detail, hash FROM audit WHERE 1=1",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(e) = &f.entity {
        sql.push_str(" AND entity = ?");
        args.push(e.clone().into());
    }
    if let Some(i) = f.id {
        sql.push_str(" AND record_id = ?");
        args.push(i.into());
    }
    if let Some(u) = &f.user {
        sql.push_str(" AND \"user\" = ?");
        args.push(u.clone().into());
    }
    if let Some(s) = f.since {
        sql.push_str(" AND at >= ?");
        args.push(s.into());
    }
    sql.push_str(" ORDER BY id");
    if let Some(l) = limit {
        // PostgreSQL wants the derived table named.
        sql = format!("SELECT * FROM ({sql} DESC LIMIT {l}) AS newest ORDER BY id");
    }
    conn.query(&sql, &args)?.iter().map(stored_row).collect()
}

fn stored_row(r: &DbRow) -> Result<Row> {
    let action: String = r.get(3)?;
    let detail: Option<String> = r.get(9)?;
    Ok(Row {
        id: Some(r.get(0)?),
        at: r.get(1)?,
        user: r.get(2)?,
        batch: batch_of(&action, detail.as_deref()),
        action,
        entity: r.get(4)?,
        record_id: r.get(5)?,
        field: r.get(6)?,
        old: r.get(7)?,
        new: r.get(8)?,
        detail,
        hash: r.get(10)?,
    })
}

/// How many entries the audit log holds.
pub fn count(conn: &Store) -> Result<i64> {
    conn.value("SELECT count(*) FROM audit", vals![])
}

#[cfg(test)]
mod tests {
    use super::batch_of;

    #[test]
    fn batch_numbers_come_from_the_details_crm_writes() {
        assert_eq!(
            batch_of("import", Some("batch 12: a.csv, mode insert")),
            Some(12)
        );
        assert_eq!(
            batch_of("revert", Some("import batch 3 (a.csv): 1 records deleted")),
            Some(3)
        );
        assert_eq!(
            batch_of("update", Some("revert of import batch 7 (a.csv)")),
            Some(7)
        );
        assert_eq!(
            batch_of("update", Some("derived: follows order_line 7")),
            None
        );
        assert_eq!(batch_of("update", None), None);
        assert_eq!(batch_of("import", Some("batch x")), None);
    }
}
