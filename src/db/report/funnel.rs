//! Funnel SQL: the cohort is the opportunities created in the window (and owned by the
//! owner filter); stage history comes from `opportunity_stage`, read in index order so the
//! report can walk both in one merge, without per-row lookups.

use super::{Args, Row, fetch, scan};
use crate::db::Store;
use crate::error::{Error, Result};
use crate::schema::{ValueRef, ident};

/// The cohort, by id: id, group (the column `group`: `owner`, or a choice field of the
/// opportunity), stage, amount, probability, currency.
pub fn cohort(conn: &Store, args: &Args, group: &str) -> Result<Vec<Row>> {
    fetch(
        conn,
        &format!(
            "SELECT id, {}, stage, amount, probability, currency FROM opportunity \
             WHERE created_at >= :from AND created_at < :end \
               AND (:owner IS NULL OR owner = :owner) ORDER BY id",
            ident(group)
        ),
        args,
    )
}

/// Every stage entry before `:now`, by opportunity and time: opportunity, stage, `entered_at`.
/// (A row without an opportunity or time, which the schema never stores, is an error.)
pub fn history(conn: &Store, now: i64, mut each: impl FnMut(i64, &str, i64)) -> Result<()> {
    scan(
        conn,
        "SELECT opportunity, stage, entered_at FROM opportunity_stage \
         WHERE entered_at < :now ORDER BY opportunity, entered_at, id",
        &Args::new().set("now", now),
        |r| {
            let (ValueRef::Integer(opp), ValueRef::Integer(at)) = (r[0], r[2]) else {
                return Err(Error::internal("a stage entry without opportunity or time"));
            };
            let stage = match r[1] {
                ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or_default(),
                _ => "",
            };
            each(opp, stage, at);
            Ok(())
        },
    )
}
