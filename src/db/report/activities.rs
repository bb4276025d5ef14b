//! Activity SQL: follow-ups done and overdue per bucket and owner, the open overdue backlog,
//! and customers with no follow-up done in the last days.

use super::{Args, Row, buckets_cte, fetch};
use crate::db::Store;
use crate::error::Result;
use crate::report::period::Bucket;

/// The owners (one row each) and buckets as tables; each (bucket, owner) cell is then
/// counted by a range over an (owner, time) index, with no sorting of the activities.
fn cells(b: &[Bucket], args: &Args, count: &str) -> (String, Args) {
    let mut args = args.clone();
    let cte = buckets_cte(b, false, &mut args);
    let sql = format!(
        "{cte}, o(owner) AS (SELECT DISTINCT owner FROM activity \
                           WHERE (:owner IS NULL OR owner = :owner)) \
         SELECT b.i, COALESCE(o.owner, ''), ({count}) AS n FROM b, o WHERE n > 0"
    );
    (sql, args)
}

/// Done per bucket and owner: bucket index, owner, count.
pub fn done(conn: &Store, b: &[Bucket], args: &Args) -> Result<Vec<Row>> {
    let (sql, args) = cells(
        b,
        args,
        "SELECT count(*) FROM activity a INDEXED BY activity_owner_done \
         WHERE a.owner IS o.owner AND a.done_at >= b.s AND a.done_at < b.e AND a.done_at <= :now",
    );
    fetch(conn, &sql, &args)
}

/// Overdue per bucket of the due time and owner: due before "now" and not done by then
/// (never, or later than due). Bucket index, owner, count.
pub fn overdue(conn: &Store, b: &[Bucket], args: &Args) -> Result<Vec<Row>> {
    let (sql, args) = cells(
        b,
        args,
        "SELECT count(*) FROM activity a INDEXED BY activity_owner_due \
         WHERE a.owner IS o.owner AND a.due_at >= b.s AND a.due_at < b.e AND a.due_at < :now \
           AND (a.done_at IS NULL OR a.done_at > a.due_at)",
    );
    fetch(conn, &sql, &args)
}

/// The open overdue backlog at "now" per owner: due before now, not done by now.
pub fn backlog(conn: &Store, args: &Args) -> Result<Vec<Row>> {
    fetch(
        conn,
        "SELECT COALESCE(owner, ''), count(*) FROM activity INDEXED BY activity_owner_due \
         WHERE due_at < :now AND (done_at IS NULL OR done_at > :now) \
           AND (:owner IS NULL OR owner = :owner) GROUP BY owner",
        args,
    )
}

const NEGLECTED: &str = "WHERE c.status IS NOT :lost AND c.created_at <= :cut \
       AND (:owner IS NULL OR c.owner = :owner) \
       AND c.id NOT IN (SELECT customer FROM activity \
                        WHERE done_at > :cut AND done_at <= :now AND customer IS NOT NULL)";

/// Customers (not lost, older than the cut) without a follow-up done since `:cut`, per
/// owner: those eligible (counted off the `(owner, status, created_at)` index) less those
/// among the few followed up recently (found from the activities' done-time index), so no
/// per-customer probe runs over a million rows. Owner, eligible, followed up.
pub fn neglected_by_owner(conn: &Store, args: &Args) -> Result<Vec<Row>> {
    fetch(
        conn,
        "SELECT e.owner, e.n, COALESCE(f.n, 0) FROM ( \
           SELECT owner, count(*) AS n FROM customer INDEXED BY customer_owner_status_created \
           WHERE status IS NOT :lost AND created_at <= :cut \
             AND (:owner IS NULL OR owner = :owner) GROUP BY owner) e \
         LEFT JOIN ( \
           SELECT c.owner, count(*) AS n FROM customer c \
           WHERE c.id IN (SELECT customer FROM activity WHERE done_at > :cut AND done_at <= :now) \
             AND c.status IS NOT :lost AND c.created_at <= :cut \
             AND (:owner IS NULL OR c.owner = :owner) GROUP BY c.owner) f \
         ON f.owner IS e.owner ORDER BY 1",
        args,
    )
}

/// The first `:limit` of them: code, name, owner, last follow-up done (or NULL). Read in id
/// order straight off the table, so the scan stops after `:limit` matches.
pub fn neglected(conn: &Store, args: &Args) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT c.code, c.name, c.owner, \
                (SELECT max(done_at) FROM activity a WHERE a.customer = c.id AND a.done_at <= :now) \
         FROM customer c NOT INDEXED {NEGLECTED} ORDER BY c.id LIMIT :limit"
    );
    fetch(conn, &sql, args)
}
