//! Funnel SQL: the cohort is the opportunities created in the window (and owned by the
//! owner filter); stage history comes from `opportunity_stage`.

use rusqlite::Connection;

use super::{Args, Row, fetch};
use crate::error::Result;

const COHORT: &str = "o.created_at >= :from AND o.created_at < :end \
     AND (:owner IS NULL OR o.owner = :owner)";

/// Per current stage and owner: count, Σ amount, Σ amount × probability (percent).
pub fn current(conn: &Connection, args: &Args) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT o.stage, o.owner, count(*), COALESCE(sum(o.amount), 0), \
                COALESCE(sum(o.amount * COALESCE(o.probability, 0)), 0) \
         FROM opportunity o WHERE {COHORT} GROUP BY o.stage, o.owner"
    );
    fetch(conn, &sql, args)
}

/// Per owner and furthest stage reached: how many opportunities. `:order` is the
/// comma-wrapped pipeline (`,prospecting,…,won,`); the furthest stage is the largest
/// position of any stage the opportunity ever entered (history or current stage) in it,
/// so an opportunity that skipped a stage still passed through it.
pub fn reach(conn: &Connection, args: &Args) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT owner, m, count(*) FROM ( \
           SELECT o.owner, max(instr(:order, ',' || o.stage || ','), \
                  COALESCE((SELECT max(instr(:order, ',' || h.stage || ',')) \
                            FROM opportunity_stage h WHERE h.opportunity = o.id), 0)) AS m \
           FROM opportunity o WHERE {COHORT}) \
         GROUP BY owner, m"
    );
    fetch(conn, &sql, args)
}

/// Per stage: stays that ended (the opportunity moved on before `:now`) and their Σ seconds.
pub fn stays(conn: &Connection, args: &Args) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT stage, count(*), sum(left_at - entered_at) FROM ( \
           SELECT h.stage, h.entered_at, \
                  lead(h.entered_at) OVER (PARTITION BY h.opportunity ORDER BY h.entered_at, h.id) AS left_at \
           FROM opportunity_stage h JOIN opportunity o ON o.id = h.opportunity \
           WHERE {COHORT} AND h.entered_at < :now) \
         WHERE left_at IS NOT NULL AND left_at <= :now GROUP BY stage"
    );
    fetch(conn, &sql, args)
}
