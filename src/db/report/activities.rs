//! Activity SQL: follow-ups done and overdue per bucket and owner, the open overdue backlog,
//! and customers with no follow-up done in the last days.

use super::{Args, Row, buckets_cte, fetch};
use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::error::Result;
use crate::period::Bucket;

/// The owners (one row each) and buckets as tables; each (bucket, owner) cell is then
/// counted by a range over an (owner, time) index, with no sorting of the activities.
/// `count` spells a cell's count given its owner condition on `a.owner`.
///
/// `PostgreSQL` differs in four ways, each worth seconds on a million activities: its WHERE
/// cannot name a result column, and a filter on a subquery's column would count each cell
/// twice (`OFFSET 0` keeps the subquery whole); the owners come from a loose index scan
/// (one probe per owner, not a pass over the index); and a null-safe owner test (`IS NOT
/// DISTINCT FROM`, or `=` OR both NULL) reads the table row by row, where a plain `=`, or
/// `IS NULL` for the owner that is none, counts off the index alone.
fn cells(d: Dialect, b: &[Bucket], args: &Args, count: impl Fn(&str) -> String) -> (String, Args) {
    let mut args = args.clone();
    let cte = buckets_cte(b, false, &mut args);
    let sql = match d {
        Dialect::Sqlite => {
            let o = "o(owner) AS (SELECT DISTINCT owner FROM activity \
                     WHERE (:owner IS NULL OR owner = :owner))";
            format!(
                "{cte}, {o} SELECT b.i, COALESCE(o.owner, ''), ({}) AS n FROM b, o WHERE n > 0",
                count(&d.same_as("a.owner", "o.owner"))
            )
        }
        Dialect::Postgres => {
            let o = "o(owner) AS ( \
                       WITH RECURSIVE r(owner) AS ( \
                         SELECT min(owner) FROM activity WHERE (:owner IS NULL OR owner = :owner) \
                         UNION ALL \
                         SELECT (SELECT min(owner) FROM activity \
                                 WHERE owner > r.owner AND (:owner IS NULL OR owner = :owner)) \
                         FROM r WHERE r.owner IS NOT NULL) \
                       SELECT owner FROM r WHERE owner IS NOT NULL \
                       UNION ALL \
                       SELECT NULL WHERE :owner IS NULL \
                         AND EXISTS (SELECT 1 FROM activity WHERE owner IS NULL))";
            format!(
                "{cte}, {o} SELECT * FROM ( \
                   SELECT b.i, COALESCE(o.owner, ''), \
                          CASE WHEN o.owner IS NULL THEN ({}) ELSE ({}) END AS n \
                   FROM b, o OFFSET 0) c WHERE n > 0",
                count("a.owner IS NULL"),
                count("a.owner = o.owner")
            )
        }
    };
    (sql, args)
}

/// Done per bucket and owner: bucket index, owner, count.
pub fn done(conn: &Store, b: &[Bucket], args: &Args) -> Result<Vec<Row>> {
    let d = conn.dialect();
    let (sql, args) = cells(d, b, args, |same_owner| {
        format!(
            "SELECT count(*) FROM activity a{} \
             WHERE {same_owner} AND a.done_at >= b.s AND a.done_at < b.e AND a.done_at <= :now",
            d.indexed_by("activity_owner_done"),
        )
    });
    fetch(conn, &sql, &args)
}

/// Overdue per bucket of the due time and owner: due before "now" and not done by then
/// (never, or later than due). Bucket index, owner, count.
pub fn overdue(conn: &Store, b: &[Bucket], args: &Args) -> Result<Vec<Row>> {
    let d = conn.dialect();
    let (sql, args) = cells(d, b, args, |same_owner| {
        format!(
            "SELECT count(*) FROM activity a{} \
             WHERE {same_owner} AND a.due_at >= b.s AND a.due_at < b.e AND a.due_at < :now \
               AND (a.done_at IS NULL OR a.done_at > a.due_at)",
            d.indexed_by("activity_owner_due"),
        )
    });
    fetch(conn, &sql, &args)
}

/// The open overdue backlog at "now" per owner: due before now, not done by now.
pub fn backlog(conn: &Store, args: &Args) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT COALESCE(owner, ''), count(*) FROM activity{} \
         WHERE due_at < :now AND (done_at IS NULL OR done_at > :now) \
           AND (:owner IS NULL OR owner = :owner) GROUP BY owner",
        conn.dialect().indexed_by("activity_owner_due")
    );
    fetch(conn, &sql, args)
}

/// A customer quiet since before `:cut` (not lost): its last follow-up (`last_contacted_at`,
/// which `done` and `log` keep, read only when not after `:now`) was before the cut, or it
/// has none and was added before the cut. The same definition as `crm agenda`'s customers
/// without a follow-up, so the two never disagree (a customer imported today with a
/// follow-up 100 days ago is neglected; one added yesterday and never followed up is not).
fn quiet(d: Dialect, c: &str) -> String {
    format!(
        "{c}status {} :lost AND (:owner IS NULL OR {c}owner = :owner) \
         AND CASE WHEN {c}last_contacted_at IS NOT NULL AND {c}last_contacted_at <= :now \
                  THEN {c}last_contacted_at <= :cut ELSE {c}created_at <= :cut END",
        d.distinct()
    )
}

/// Quiet customers with no follow-up done since `:cut` either.
fn neglected_where(d: Dialect) -> String {
    format!(
        "WHERE {} AND c.id NOT IN (SELECT customer FROM activity \
                        WHERE done_at > :cut AND done_at <= :now AND customer IS NOT NULL)",
        quiet(d, "c.")
    )
}

/// Neglected customers per owner: those quiet by their own fields less those among the few
/// followed up recently (found from the activities' done-time index), so no per-customer
/// probe runs over a million rows. Owner, quiet, followed up. The quiet count reads
/// `last_contacted_at`, which no index holds: one straight scan of the table (`NOT INDEXED`)
/// is five times faster than the owner index with a row lookup per customer (0.28 s vs
/// 1.5 s on a million customers). `PostgreSQL` counts both in that one scan (the recent
/// customers as a hashed set), where the join of two counts read the table twice.
pub fn neglected_by_owner(conn: &Store, args: &Args) -> Result<Vec<Row>> {
    let d = conn.dialect();
    let sql = match d {
        Dialect::Sqlite => format!(
            "SELECT e.owner, e.n, COALESCE(f.n, 0) FROM ( \
               SELECT owner, count(*) AS n FROM customer{} WHERE {} GROUP BY owner) e \
             LEFT JOIN ( \
               SELECT c.owner, count(*) AS n FROM customer c \
               WHERE c.id IN (SELECT customer FROM activity WHERE done_at > :cut AND done_at <= :now) \
                 AND {} GROUP BY c.owner) f \
             ON f.owner {} e.owner ORDER BY {}",
            d.not_indexed(),
            quiet(d, ""),
            quiet(d, "c."),
            d.same(),
            d.order("e.owner", false, true)
        ),
        Dialect::Postgres => format!(
            "SELECT c.owner, count(*), count(*) FILTER (WHERE c.id IN ( \
                 SELECT customer FROM activity WHERE done_at > :cut AND done_at <= :now)) \
             FROM customer c WHERE {} GROUP BY c.owner ORDER BY {}",
            quiet(d, "c."),
            d.order("c.owner", false, true)
        ),
    };
    fetch(conn, &sql, args)
}

/// The first `:limit` of them: code, name, owner, last follow-up done (or NULL). Read in id
/// order straight off the table, so the scan stops after `:limit` matches.
pub fn neglected(conn: &Store, args: &Args) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT c.code, c.name, c.owner, \
                (SELECT max(done_at) FROM activity a WHERE a.customer = c.id AND a.done_at <= :now) \
         FROM customer c{} {} ORDER BY c.id LIMIT :limit",
        conn.dialect().not_indexed(),
        neglected_where(conn.dialect())
    );
    fetch(conn, &sql, args)
}
