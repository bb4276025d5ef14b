//! `credit_code` is unique when given: a unique index (any number of customers may have
//! none: NULLs never collide), made by the migration
//! step [`SQLITE_STEP`] / [`POSTGRES_STEP`] after its SQL. A database that already holds two
//! customers with one credit code cannot take the index: the step then warns (naming them),
//! the upgrade goes on without it, `crm check` lists the duplicates, and once they are
//! resolved (`crm merge`, or an edit) `crm check` makes the index.
//!
//! Until then the write path still refuses a taken credit code (the registry marks the field
//! unique and the writer looks its holder up), so no new duplicate gets in either way.

use crate::db::Store;
use crate::error::Result;

/// The `SQLite` step after which the index is made (`migrate/sqlite/v14.sql`).
pub const SQLITE_STEP: i64 = 14;
/// The `PostgreSQL` step after which the index is made (`migrate/postgres/v9.sql`, which makes it itself when it can).
pub const POSTGRES_STEP: i64 = 9;

/// The index's name (in schema `crm` on `PostgreSQL`).
pub const INDEX: &str = "customer_credit_code_unique";

/// A plain unique index: a customer without a credit code holds NULL (crm stores no empty
/// text), and both engines let any number of rows hold NULL in a unique column, so it is
/// "unique when given" without a partial index (which the registry's unique fields, each
/// checked by `tests/it/schema_drift.rs`, are not).
const CREATE: &str =
    "CREATE UNIQUE INDEX IF NOT EXISTS customer_credit_code_unique ON customer (\"credit_code\")";

const DUPLICATES: &str = "SELECT \"credit_code\", \"id\" FROM customer WHERE \"credit_code\" IN \
     (SELECT \"credit_code\" FROM customer WHERE \"credit_code\" IS NOT NULL AND \"credit_code\" <> '' \
      GROUP BY \"credit_code\" HAVING COUNT(*) > 1) ORDER BY \"credit_code\", \"id\"";

/// A credit code held by several customers, and their ids (ascending).
pub type Duplicate = (String, Vec<i64>);

fn push(out: &mut Vec<Duplicate>, code: String, id: i64) {
    match out.last_mut() {
        Some((c, ids)) if *c == code => ids.push(id),
        _ => out.push((code, vec![id])),
    }
}

/// Every credit code several customers hold.
pub fn duplicates(s: &Store) -> Result<Vec<Duplicate>> {
    let mut out = Vec::new();
    s.each(DUPLICATES, &[], |r| {
        push(&mut out, r.get(0)?, r.get(1)?);
        Ok(())
    })?;
    Ok(out)
}

/// Whether the index exists.
pub fn present(s: &Store) -> Result<bool> {
    let sql = if s.is_sqlite() {
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?"
    } else {
        "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = 'crm' AND indexname = ?"
    };
    Ok(s.value::<i64>(sql, crate::vals![INDEX])? > 0)
}

/// Makes the index unless duplicates stand in its way; returns them (empty: made).
pub fn ensure(s: &Store) -> Result<Vec<Duplicate>> {
    let dups = duplicates(s)?;
    if dups.is_empty() {
        s.batch(CREATE)?;
    }
    Ok(dups)
}

/// [`ensure`] inside `SQLite`'s migration transaction (a bare connection, not a store).
pub(crate) fn ensure_sqlite(c: &rusqlite::Connection) -> Result<Vec<Duplicate>> {
    let mut out = Vec::new();
    let mut stmt = c.prepare(DUPLICATES)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        push(&mut out, r.get(0)?, r.get(1)?);
    }
    if out.is_empty() {
        c.execute_batch(CREATE)?;
    }
    Ok(out)
}

/// The duplicates in one line: `91350100M000100Y43 (customers 3, 7); …`.
pub fn describe(dups: &[Duplicate]) -> String {
    dups.iter()
        .map(|(code, ids)| {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            format!("{code} (customers {})", ids.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Says on stderr that the upgrade left the index out, and why.
pub fn warn(dups: &[Duplicate]) {
    if dups.is_empty() {
        return;
    }
    crate::output::eprint_line(&format!(
        "warning: credit_code is not yet unique: {} credit codes are held by several customers: {}",
        dups.len(),
        describe(dups)
    ));
    crate::output::eprint_line(
        "hint: merge or correct them (`crm dedupe customer --rule credit_code`), then run `crm check`",
    );
}
