//! The merge log: one row per `crm merge`, read by `crm merge history` and `revert`.

use crate::db::Store;
use crate::db::row::Row;
use crate::error::{Error, Result};

/// One recorded merge.
#[derive(Debug, Clone)]
pub struct Merge {
    pub id: i64,
    pub at: i64,
    pub user: String,
    pub entity: String,
    pub keep: i64,
    pub dups: Vec<i64>,
    /// What a revert needs (`db::merge::apply` writes it).
    pub plan: serde_json::Value,
    pub reverted_at: Option<i64>,
    pub reverted_by: Option<String>,
}

const COLS: &str = "id, at, \"user\", entity, keep_id, dups, plan, reverted_at, reverted_by";

fn read(r: &Row) -> Result<Merge> {
    let dups: String = r.get(5)?;
    let plan: String = r.get(6)?;
    let id: i64 = r.get(0)?;
    let bad = |err: serde_json::Error| Error::internal(format!("merge {id}: {err}"));
    Ok(Merge {
        id,
        at: r.get(1)?,
        user: r.get(2)?,
        entity: r.get(3)?,
        keep: r.get(4)?,
        dups: serde_json::from_str(&dups).map_err(bad)?,
        plan: serde_json::from_str(&plan).map_err(bad)?,
        reverted_at: r.get(7)?,
        reverted_by: r.get(8)?,
    })
}

/// Merges, newest first (of one entity when given).
pub fn history(conn: &Store, entity: Option<&str>, limit: i64) -> Result<Vec<Merge>> {
    let sql = format!(
        "SELECT {COLS} FROM merge_log WHERE CAST(?1 AS TEXT) IS NULL OR entity = ?1 ORDER BY id DESC LIMIT ?2"
    );
    conn.query(&sql, crate::vals![entity, limit])?
        .iter()
        .map(read)
        .collect()
}

/// One merge, or `not_found`.
pub fn get(conn: &Store, id: i64) -> Result<Merge> {
    conn.query_opt(
        &format!("SELECT {COLS} FROM merge_log WHERE id = ?"),
        crate::vals![id],
    )?
    .as_ref()
    .map(read)
    .transpose()?
    .ok_or_else(|| Error::not_found(format!("no merge {id}")).hint("see `crm merge history`"))
}
