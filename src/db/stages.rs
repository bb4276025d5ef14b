//! Reading an opportunity's stage history (table `opportunity_stage`, written by the
//! opportunity rules on every stage change) for `crm show opportunity`. The SQL is the same
//! on both engines.

use crate::db::Store;
use crate::error::Result;
use crate::vals;

/// One stage the opportunity entered, and when (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub stage: String,
    pub entered_at: i64,
}

/// The stages of one opportunity in the order it entered them.
pub fn history(conn: &Store, opportunity: i64) -> Result<Vec<Stage>> {
    conn.query(
        "SELECT stage, entered_at FROM opportunity_stage WHERE opportunity = ? ORDER BY entered_at, id",
        vals![opportunity],
    )?
    .iter()
    .map(|r| {
        Ok(Stage {
            stage: r.get(0)?,
            entered_at: r.get(1)?,
        })
    })
    .collect()
}

/// The stage the opportunity entered last, if any.
pub fn last(conn: &Store, opportunity: i64) -> Result<Option<String>> {
    conn.query_opt(
        "SELECT stage FROM opportunity_stage WHERE opportunity = ? ORDER BY id DESC LIMIT 1",
        vals![opportunity],
    )?
    .map(|r| r.get(0))
    .transpose()
}

/// Records that the opportunity entered a stage at `at` (unix seconds).
pub fn enter(conn: &Store, opportunity: i64, stage: &str, at: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO opportunity_stage (opportunity, stage, entered_at) VALUES (?, ?, ?)",
        vals![opportunity, stage, at],
    )?;
    Ok(())
}
