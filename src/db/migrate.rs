//! Versioned migrations over `PRAGMA user_version`: each step runs in one IMMEDIATE
//! transaction with its version bump, so a database is at the old or the new version,
//! never between, and a file made by an older build opens in a newer one.
//!
//! Each step's SQL is frozen as it shipped, per engine (`migrate/sqlite/vN.sql`; a
//! `postgres/` directory sits beside it when that engine comes), and never generated from
//! today's registry: a field added to the registry needs a new step, or new databases and
//! upgraded ones would differ. `tests/it/schema_drift.rs` checks that they never do.

pub mod postgres;
mod sqlite;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Error, Result};

/// Every trigger crm creates, exactly as `sqlite_master` stores it. Opening refuses a file
/// with any other trigger: a trigger runs with crm's rights on every write (it could add an
/// admin), and `trusted_schema=OFF` only stops it from calling risky functions.
/// The frozen v1 creates both (a unit test holds them to it).
pub const TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

/// The step that makes the search index (`db::search`).
pub const SEARCH_INDEX_STEP: i64 = 11;

/// The step that makes the merge log (`db::merge`).
pub const MERGE_LOG_STEP: i64 = 12;

/// The step that makes the custom fields' table (`db::fields`).
pub const CUSTOM_FIELD_STEP: i64 = 15;

/// The version this build writes.
pub fn latest() -> i64 {
    i64::try_from(sqlite::STEPS.len()).expect("few steps")
}

/// Runs every pending step.
pub fn run(conn: &Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest() {
        return Err(Error::storage(format!(
            "the database is at schema version {current}, newer than this crm ({})",
            latest()
        ))
        .hint("upgrade crm"));
    }
    run_to(conn, latest())
}

/// Runs the pending steps up to `version` (at most [`latest`]), each exactly as the build
/// that shipped it did: what the upgrade tests use to make a file of any earlier version.
pub fn run_to(conn: &Connection, version: i64) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let done = usize::try_from(current).unwrap_or(0);
    let upto = usize::try_from(version.min(latest())).unwrap_or(0);
    for (i, sql) in (0_i64..).zip(sqlite::STEPS.iter()).take(upto).skip(done) {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i {
            continue; // another process ran this step while we waited for the lock
        }
        apply(&tx, sql)?;
        if i + 1 == SEARCH_INDEX_STEP {
            // The index's tokens are cut by crm, not SQL: the records already there are
            // indexed here, in the step's transaction.
            crate::db::search::build_sqlite(&tx)?;
        }
        if i + 1 == crate::db::credit_unique::SQLITE_STEP {
            crate::db::credit_unique::warn(&crate::db::credit_unique::ensure_sqlite(&tx)?);
        }
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}

/// Runs one step's SQL. A line `ALTER TABLE t ADD COLUMN IF NOT EXISTS c TYPE;` (what
/// `PostgreSQL` says natively) adds the column only when `t` lacks it, as `SQLite` cannot say
/// so itself; everything else runs as written, in order.
fn apply(tx: &Transaction, sql: &str) -> Result<()> {
    let mut batch = String::new();
    for line in sql.lines() {
        if let Some((table, column, decl)) = add_column_if_missing(line) {
            tx.execute_batch(&batch)?;
            batch.clear();
            let has: bool = tx.query_row(
                "SELECT COUNT(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
                [unquote(table), unquote(column)],
                |r| r.get(0),
            )?;
            if !has {
                tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl};"))?;
            }
        } else {
            batch.push_str(line);
            batch.push('\n');
        }
    }
    tx.execute_batch(&batch)?;
    Ok(())
}

/// `(table, column, declaration)` of an `ALTER TABLE t ADD COLUMN IF NOT EXISTS c …;` line.
fn add_column_if_missing(line: &str) -> Option<(&str, &str, &str)> {
    let rest = line.trim().strip_prefix("ALTER TABLE ")?;
    let (table, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix("ADD COLUMN IF NOT EXISTS ")?;
    let (column, decl) = rest.split_once(' ')?;
    Some((table, column, decl.trim_end().strip_suffix(';')?))
}

/// A name as `pragma_table_info` wants it: without the double quotes SQL may put around it.
fn unquote(name: &str) -> &str {
    name.strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests;
