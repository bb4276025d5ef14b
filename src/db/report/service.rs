//! Service SQL: the tickets opened in the window (assignee as the owner filter), with the
//! few columns the service report computes everything from in one pass.

use rusqlite::Connection;

use super::{Args, Row, fetch};
use crate::error::Result;

/// Tickets opened in the window: status, type, priority, assignee, `opened_at`,
/// `resolved_at`, satisfaction.
pub fn tickets(conn: &Connection, args: &Args) -> Result<Vec<Row>> {
    fetch(
        conn,
        "SELECT status, type, priority, assignee, opened_at, resolved_at, satisfaction \
         FROM ticket WHERE opened_at >= :from AND opened_at < :end \
           AND (:owner IS NULL OR assignee = :owner)",
        args,
    )
}
