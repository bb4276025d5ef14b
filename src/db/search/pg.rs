//! The search index on `PostgreSQL` (v5): `crm.<entity>_search(id, t tsvector)` with a GIN
//! index. A row's tsvector is made from crm's own tokens with `array_to_tsvector` (no
//! parser, no dictionary), so it holds exactly what `SQLite`'s FTS5 row holds. Many rows
//! at once (an import, a copy, an upgrade) go through a temporary table filled with `COPY`
//! and moved with one statement.

use super::{Doc, doc, entities, select};
use crate::db::Store;
use crate::error::{Error, Result};
use crate::schema::{Entity, Value};
use crate::vals;

/// The tsvector of a bound [`Doc`] (tokens separated by single spaces).
pub const TSVECTOR: &str = "array_to_tsvector(string_to_array(?, ' '))";

/// The temporary table many rows pass through (dropped with the transaction).
const STAGE: &str = "crm_search_stage";

/// Writes the index row of a new record.
pub fn add(s: &Store, e: &Entity, id: i64, d: &Doc) -> Result<()> {
    s.execute(
        &format!(
            "INSERT INTO {} (\"id\", \"t\") VALUES (?, {TSVECTOR})",
            e.search_table()
        ),
        vals![id, d.0.clone()],
    )?;
    Ok(())
}

/// Removes the index rows of records `lo..=hi`.
pub fn remove(s: &Store, e: &Entity, lo: i64, hi: i64) -> Result<()> {
    s.execute(
        &format!(
            "DELETE FROM {} WHERE \"id\" BETWEEN ? AND ?",
            e.search_table()
        ),
        vals![lo, hi],
    )?;
    Ok(())
}

/// Makes the (empty) temporary table that [`stage`] fills.
pub fn stage_begin(s: &Store) -> Result<()> {
    s.batch(&format!(
        "DROP TABLE IF EXISTS pg_temp.{STAGE}; CREATE TEMP TABLE {STAGE} (\"id\" bigint, \"t\" text) ON COMMIT DROP"
    ))
}

/// Sends index rows (id, doc) to the temporary table.
pub fn stage(s: &Store, rows: Vec<(i64, Doc)>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let Some(pg) = s.postgres() else {
        return Err(Error::internal("the PostgreSQL index on another engine"));
    };
    pg.copy_in(STAGE, "\"id\", \"t\"", |put| {
        rows.into_iter()
            .try_for_each(|(id, d)| put(vec![Value::Integer(id), Value::Text(d.0)]))
    })?;
    Ok(())
}

/// Moves the staged rows into the index of `e` (replacing those of records indexed
/// already when `replace`), and empties the stage. The records must be written first.
pub fn stage_write(s: &Store, e: &Entity, replace: bool) -> Result<()> {
    let st = e.search_table();
    let delete = if replace {
        format!("DELETE FROM {st} x USING {STAGE} g WHERE x.\"id\" = g.\"id\"; ")
    } else {
        String::new()
    };
    s.batch(&format!(
        "{delete}INSERT INTO {st} (\"id\", \"t\") SELECT \"id\", array_to_tsvector(string_to_array(\"t\", ' ')) FROM {STAGE}; TRUNCATE {STAGE}"
    ))
}

/// Indexes every record anew, ten thousand at a time (the rows cannot stream while the
/// index is written on the same connection).
pub fn build(s: &Store) -> Result<()> {
    stage_begin(s)?;
    for e in entities() {
        s.execute(&format!("DELETE FROM {}", e.search_table()), vals![])?;
        let mut from = 0_i64;
        loop {
            let mut rows: Vec<(i64, Doc)> = Vec::new();
            let sql = format!("{} WHERE \"id\" > ? ORDER BY \"id\" LIMIT 10000", select(e));
            s.each(&sql, vals![from], |r| {
                let mut v = r.into_values().into_iter();
                let Some(Value::Integer(id)) = v.next() else {
                    return Err(Error::internal("a record without an id"));
                };
                rows.push((id, doc(e, &v.collect::<Vec<_>>())));
                Ok(())
            })?;
            let Some((last, _)) = rows.last() else { break };
            from = *last;
            stage(s, rows)?;
            stage_write(s, e, false)?;
        }
    }
    s.batch(&format!("DROP TABLE IF EXISTS pg_temp.{STAGE}"))
}

/// What `crm check` finds wrong with the index of `e` (see `search::stale`): records
/// missing from it, and sampled records whose row is not exactly their tokens.
pub fn stale(s: &Store, e: &Entity, sample: i64, out: &mut Vec<String>) -> Result<()> {
    let (t, st) = (e.table(), e.search_table());
    let missing: i64 = s.value(
        &format!(
            "SELECT COUNT(*) FROM {t} r WHERE NOT EXISTS (SELECT 1 FROM {st} x WHERE x.\"id\" = r.\"id\")"
        ),
        vals![],
    )?;
    if missing > 0 {
        out.push(format!(
            "{}: {missing} records not indexed, 0 index rows without a record",
            e.name
        ));
        return Ok(());
    }
    let n: i64 = s.value(&format!("SELECT COUNT(*) FROM {t}"), vals![])?;
    let step = (n / sample).max(1);
    let rows = s.query(
        &format!(
            "{} WHERE (\"id\" % ?) = 0 ORDER BY \"id\" LIMIT ?",
            select(e)
        ),
        vals![step, sample],
    )?;
    let probe = format!("SELECT COUNT(*) FROM {st} WHERE \"id\" = ? AND \"t\" = {TSVECTOR}");
    let mut wrong = 0;
    for row in rows {
        let mut values = row.into_values().into_iter();
        let Some(Value::Integer(id)) = values.next() else {
            continue;
        };
        let want = doc(e, &values.collect::<Vec<_>>());
        if s.value::<i64>(&probe, vals![id, want.0])? == 0 {
            wrong += 1;
        }
    }
    if wrong > 0 {
        out.push(format!(
            "{}: {wrong} records whose values the index does not hold",
            e.name
        ));
    }
    Ok(())
}
