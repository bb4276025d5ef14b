//! Service SQL: the tickets opened in the window (assignee as the owner filter), with the
//! few columns the service report computes everything from in one pass.

use super::{Args, Row, fetch};
use crate::db::Store;
use crate::error::Result;
use crate::schema::ident;

/// Tickets opened in the window: status, type, priority, the column `group` (`assignee`,
/// or a choice field the report groups by), `opened_at`, `resolved_at`, satisfaction. With no window start (`bounded` false) the table is read in
/// storage order: walking the `opened_at` index over every row would fetch each row at
/// random, ten times slower.
pub fn tickets(conn: &Store, args: &Args, bounded: bool, group: &str) -> Result<Vec<Row>> {
    let d = conn.dialect();
    let how = if bounded {
        d.indexed_by("ticket_opened")
    } else {
        d.not_indexed().to_string()
    };
    let sql = format!(
        "SELECT status, type, priority, {g}, opened_at, resolved_at, satisfaction \
         FROM ticket{how} WHERE opened_at >= :from AND opened_at < :end \
           AND (:owner IS NULL OR assignee = :owner)",
        g = ident(group)
    );
    fetch(conn, &sql, args)
}
