//! Reading an opportunity's stage history (table `opportunity_stage`, written by the
//! opportunity rules on every stage change) for `crm show opportunity`.

use crate::db::Store;
use crate::error::Result;

/// One stage the opportunity entered, and when (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub stage: String,
    pub entered_at: i64,
}

/// The stages of one opportunity in the order it entered them.
pub fn history(conn: &Store, opportunity: i64) -> Result<Vec<Stage>> {
    let mut stmt = conn.sqlite().prepare_cached(
        "SELECT stage, entered_at FROM opportunity_stage WHERE opportunity = ? ORDER BY entered_at, id",
    )?;
    let rows = stmt.query_map([opportunity], |r| {
        Ok(Stage {
            stage: r.get(0)?,
            entered_at: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The stage the opportunity entered last, if any.
pub fn last(conn: &Store, opportunity: i64) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .sqlite()
        .prepare_cached(
            "SELECT stage FROM opportunity_stage WHERE opportunity = ? ORDER BY id DESC LIMIT 1",
        )?
        .query_row([opportunity], |r| r.get(0))
        .optional()?)
}

/// Records that the opportunity entered a stage at `at` (unix seconds).
pub fn enter(conn: &Store, opportunity: i64, stage: &str, at: i64) -> Result<()> {
    conn.sqlite()
        .prepare_cached(
            "INSERT INTO opportunity_stage (opportunity, stage, entered_at) VALUES (?, ?, ?)",
        )?
        .execute(rusqlite::params![opportunity, stage, at])?;
    Ok(())
}
