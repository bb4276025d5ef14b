//! Activity SQL: follow-ups done and overdue per bucket and owner, the open overdue backlog,
//! and customers with no follow-up done in the last days.

use rusqlite::Connection;

use super::{Args, Row, buckets_cte, fetch};
use crate::error::Result;
use crate::report::period::Bucket;

/// Done per bucket and owner: bucket index, owner, count.
pub fn done(conn: &Connection, b: &[Bucket], args: &Args) -> Result<Vec<Row>> {
    let mut args = args.clone();
    let cte = buckets_cte(b, false, &mut args);
    let sql = format!(
        "{cte} SELECT b.i, COALESCE(a.owner, ''), count(*) FROM b \
         JOIN activity a ON a.done_at >= b.s AND a.done_at < b.e AND a.done_at <= :now \
         WHERE (:owner IS NULL OR a.owner = :owner) GROUP BY 1, 2"
    );
    fetch(conn, &sql, &args)
}

/// Overdue per bucket of the due time and owner: due before "now" and not done by then
/// (never, or later than due). Bucket index, owner, count.
pub fn overdue(conn: &Connection, b: &[Bucket], args: &Args) -> Result<Vec<Row>> {
    let mut args = args.clone();
    let cte = buckets_cte(b, false, &mut args);
    let sql = format!(
        "{cte} SELECT b.i, COALESCE(a.owner, ''), count(*) FROM b \
         JOIN activity a ON a.due_at >= b.s AND a.due_at < b.e AND a.due_at < :now \
         WHERE (a.done_at IS NULL OR a.done_at > a.due_at) \
           AND (:owner IS NULL OR a.owner = :owner) GROUP BY 1, 2"
    );
    fetch(conn, &sql, &args)
}

/// The open overdue backlog at "now" per owner: due before now, not done by now.
pub fn backlog(conn: &Connection, args: &Args) -> Result<Vec<Row>> {
    fetch(
        conn,
        "SELECT COALESCE(owner, ''), count(*) FROM activity \
         WHERE due_at < :now AND (done_at IS NULL OR done_at > :now) \
           AND (:owner IS NULL OR owner = :owner) GROUP BY 1",
        args,
    )
}

const NEGLECTED: &str = "WHERE c.status IS NOT :lost AND c.created_at <= :cut \
       AND (:owner IS NULL OR c.owner = :owner) \
       AND c.id NOT IN (SELECT customer FROM activity \
                        WHERE done_at > :cut AND done_at <= :now AND customer IS NOT NULL)";

/// Customers (not lost, older than the cut) without a follow-up done since `:cut`, per owner.
pub fn neglected_by_owner(conn: &Connection, args: &Args) -> Result<Vec<Row>> {
    // Forced onto the (owner, status, created_at) index: the scan never touches the table.
    let sql = format!(
        "SELECT c.owner, count(*) FROM customer c INDEXED BY customer_owner_status_created \
         {NEGLECTED} GROUP BY c.owner ORDER BY 1"
    );
    fetch(conn, &sql, args)
}

/// The first `:limit` of them: code, name, owner, last follow-up done (or NULL). Read in id
/// order straight off the table, so the scan stops after `:limit` matches.
pub fn neglected(conn: &Connection, args: &Args) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT c.code, c.name, c.owner, \
                (SELECT max(done_at) FROM activity a WHERE a.customer = c.id AND a.done_at <= :now) \
         FROM customer c NOT INDEXED {NEGLECTED} ORDER BY c.id LIMIT :limit"
    );
    fetch(conn, &sql, args)
}
