//! Secondary indexes of a large import's table: set aside at its start and made again at
//! its end, inside its one write transaction.

use rusqlite::OptionalExtension;

use crate::db::Store;
use crate::error::Result;
use crate::schema::{Entity, Kind, ident};

/// Secondary indexes set aside for a large import, as the statements that make them again,
/// and whether the search index is built beside it (`db::search::side_start`).
#[derive(Debug, Default)]
pub struct Deferred(Vec<String>, Option<SideGuard>);

/// A search index built beside the import: dropped with the import unless [`rebuild`]
/// copies it in.
#[derive(Debug)]
struct SideGuard;

impl Drop for SideGuard {
    fn drop(&mut self) {
        crate::db::search::side_abort();
    }
}

/// A file at least this large may be imported with its table's secondary indexes rebuilt
/// at the end instead of kept up row by row.
const DEFER_MIN_BYTES: u64 = 16 << 20;
/// ... when the file holds about as many rows as the table already has (bytes per row, a
/// low guess): rebuilding sorts the whole table, so it pays only for an import of a size
/// comparable to the table (a migration, a first load), not for a small one into a big one.
const DEFER_BYTES_PER_ROW: u64 = 128;

/// `DEFER_MIN_BYTES`; test builds (feature `test-clock`) take `CRM_TEST_DEFER_BYTES`, so a
/// kill test can exercise the rebuild on a small file.
fn defer_min_bytes() -> u64 {
    #[cfg(feature = "test-clock")]
    if let Some(n) = std::env::var("CRM_TEST_DEFER_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    DEFER_MIN_BYTES
}

/// Drops the target table's secondary indexes for a large import, inside the caller's
/// write transaction (so a rollback or a kill brings them back with everything else).
/// Filling a million-row table and sorting each index once at the end costs less than
/// inserting a million keys at scattered places in each index (the v5 report indexes on
/// customer made a million-row import more than twice as slow). Kept: unique indexes (the
/// key checks read them) and indexes led by a reference (the rules read them per row: an
/// activity's customer, a line's order).
pub fn defer_indexes(conn: &Store, e: &'static Entity, file_len: Option<u64>) -> Result<Deferred> {
    let Some(len) = file_len.filter(|n| *n >= defer_min_bytes()) else {
        return Ok(Deferred::default());
    };
    // On PostgreSQL crm's roles do not own the tables (no DROP INDEX), and the set-based
    // insert of each chunk keeps the indexes at a cost the benchmark measures.
    if !matches!(conn, Store::Sqlite(_)) {
        return Ok(Deferred::default());
    }
    let rows: i64 = conn.sqlite()?.query_row(
        &format!("SELECT COALESCE(MAX(\"id\"), 0) FROM {}", e.table()),
        [],
        |r| r.get(0),
    )?;
    if u64::try_from(rows)
        .unwrap_or(u64::MAX)
        .saturating_mul(DEFER_BYTES_PER_ROW)
        > len
    {
        return Ok(Deferred::default());
    }
    // A first load's search index is built on a second thread and copied in at the end.
    let side = crate::db::search::side_start(conn, e)?.then_some(SideGuard);
    let found: Vec<(String, String)> = conn
        .sqlite()?
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? \
             AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' AND sql NOT LIKE '% WHERE %'",
        )?
        .query_map([e.name], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for (name, sql) in found {
        let lead: Option<String> = conn
            .sqlite()?
            .query_row(
                "SELECT name FROM pragma_index_info(?) WHERE seqno = 0",
                [&name],
                |r| r.get(0),
            )
            .optional()?;
        let by_ref = e
            .fields
            .iter()
            .any(|f| Some(f.name) == lead.as_deref() && matches!(f.kind, Kind::Ref(_)));
        if by_ref {
            continue;
        }
        conn.sqlite()?
            .execute_batch(&format!("DROP INDEX {}", ident(&name)))?;
        out.push(sql);
    }
    if !out.is_empty() {
        // Appending rows needs little cache; the sorts at the end size their buffers from
        // it, and together they must fit the import's memory budget.
        conn.sqlite()?.execute_batch("PRAGMA cache_size = -16384")?;
    }
    Ok(Deferred(out, side))
}

/// Copies in the search index built beside the import, then makes the deferred indexes
/// again (each one sort of the table, on two sorter threads).
pub fn rebuild(conn: &Store, mut d: Deferred) -> Result<()> {
    if let Some(guard) = d.1.take() {
        std::mem::forget(guard);
        crate::db::search::side_finish(conn)?;
    }
    if d.0.is_empty() {
        return Ok(());
    }
    conn.sqlite()?.execute_batch("PRAGMA threads = 2")?;
    for sql in d.0 {
        conn.sqlite()?.execute_batch(&sql)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{defer_indexes, rebuild};
    use crate::db::Store;
    use crate::schema::Entity;
    use rusqlite::Connection;

    fn indexes(conn: &Connection, table: &str) -> Vec<(String, Option<String>)> {
        conn.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name",
        )
        .expect("prepare")
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
    }

    fn names(v: &[(String, Option<String>)]) -> Vec<&str> {
        v.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn large_imports_rebuild_secondary_indexes_in_the_transaction() {
        let conn = Connection::open_in_memory().expect("memory db");
        crate::db::migrate::run(&conn).expect("migrate");
        let mut store = Store::Sqlite(conn);
        let customer = Entity::get("customer").expect("customer");
        let before = indexes(store.sqlite().expect("a SQLite store"), "customer");
        assert!(
            names(&before).contains(&"customer_owner_status_created"),
            "{before:?}"
        );

        // A small file keeps every index.
        let tx = store.write().expect("tx");
        let d = defer_indexes(&tx, customer, Some(1 << 20)).expect("defer");
        assert_eq!(
            indexes(tx.sqlite().expect("a SQLite store"), "customer"),
            before
        );
        rebuild(&tx, d).expect("rebuild");
        tx.rollback().expect("rollback");

        // A large one sets the secondary ones aside, keeps the unique ones (code, credit code), and makes them
        // again before the commit; a rollback brings them back too.
        for commit in [false, true] {
            let tx = store.write().expect("tx");
            let d = defer_indexes(&tx, customer, Some(64 << 20)).expect("defer");
            assert_eq!(
                names(&indexes(tx.sqlite().expect("a SQLite store"), "customer")),
                ["customer_credit_code_unique", "sqlite_autoindex_customer_1"]
            );
            if commit {
                rebuild(&tx, d).expect("rebuild");
                tx.commit().expect("commit");
            } else {
                tx.rollback().expect("rollback");
            }
            assert_eq!(
                indexes(store.sqlite().expect("a SQLite store"), "customer"),
                before
            );
        }

        // Indexes the rules read per row (led by a reference) stay.
        let activity = Entity::get("activity").expect("activity");
        let tx = store.write().expect("tx");
        let _ = defer_indexes(&tx, activity, Some(64 << 20)).expect("defer");
        let left = indexes(tx.sqlite().expect("a SQLite store"), "activity");
        assert!(names(&left).contains(&"activity_customer"), "{left:?}");
        assert!(!names(&left).contains(&"activity_owner_done"), "{left:?}");
    }
}
