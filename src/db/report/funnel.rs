//! Funnel SQL: the cohort is the opportunities created in the window (and owned by the
//! owner filter); stage history comes from `opportunity_stage`, read in index order so the
//! report can walk both in one merge, without per-row lookups.

use super::{Args, Row, fetch};
use crate::db::Store;
use crate::error::Result;

/// The cohort, by id: id, owner, stage, amount, probability, currency.
pub fn cohort(conn: &Store, args: &Args) -> Result<Vec<Row>> {
    fetch(
        conn,
        "SELECT id, owner, stage, amount, probability, currency FROM opportunity \
         WHERE created_at >= :from AND created_at < :end \
           AND (:owner IS NULL OR owner = :owner) ORDER BY id",
        args,
    )
}

/// Every stage entry before `:now`, by opportunity and time: opportunity, stage, `entered_at`.
pub fn history(conn: &Store, now: i64, mut each: impl FnMut(i64, &str, i64)) -> Result<()> {
    let mut stmt = conn.sqlite().prepare(
        "SELECT opportunity, stage, entered_at FROM opportunity_stage \
         WHERE entered_at < ?1 ORDER BY opportunity, entered_at, id",
    )?;
    let mut rows = stmt.query([now])?;
    while let Some(r) = rows.next()? {
        let stage = r.get_ref(1)?.as_str().unwrap_or_default();
        each(r.get(0)?, stage, r.get(2)?);
    }
    Ok(())
}
