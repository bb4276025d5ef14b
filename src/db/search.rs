//! The search index kept beside the records: per entity with searchable fields, one row
//! per record holding the tokens of its searchable values and the pinyin keys of its name
//! (`search::tokens`, `search::pinyin`: cut by crm, so both engines hold the same).
//! `SQLite` keeps them in a contentless FTS5 table (`<entity>_search`, rowid = id; v11),
//! `PostgreSQL` in a GIN-indexed tsvector table (`crm.<entity>_search`, v5; `pg`).
//!
//! Every write path keeps the index in the transaction of its change: the writer
//! (`db::write`: add, edit, delete, import, revert) calls [`put`] and [`remove`]; a
//! database filled another way (an older file, `crm copy`) is indexed by [`build`].
//! `crm check` compares the index with what the records say ([`stale`]).

use crate::db::Store;
use crate::error::Result;
use crate::schema::{Entity, Field, Kind, Value, ident};
use crate::search::{pinyin, tokens};
use crate::vals;

mod pg;
mod side;
pub use pg::{stage as pg_stage, stage_begin as pg_stage_begin, stage_write as pg_stage_write};

/// The entities the index covers: those with a searchable field (`SQLite`'s v11 made a table
/// for each; a new one needs a step of its own).
pub fn entities() -> impl Iterator<Item = &'static Entity> {
    crate::schema::all()
        .iter()
        .filter(|e| e.search_fields().next().is_some())
}

/// What the index holds for one record: its tokens and its name's pinyin keys (marked
/// with [`pinyin::MARK`]), separated by spaces (a token may repeat: the index keeps one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc(pub String);

/// Builds index rows with buffers kept from one record to the next: a large import builds
/// a million, and allocating per token cost more than the index's own insert.
#[derive(Debug, Default)]
pub struct Docs {
    cut: tokens::Cutter,
    keys: pinyin::Keys,
    out: String,
}

impl Docs {
    /// The index row of a record, from its values (in the registry's field order).
    pub fn doc(&mut self, e: &Entity, values: &[Value]) -> &str {
        self.of(
            e,
            e.fields
                .iter()
                .zip(values)
                .filter_map(|(f, v)| Some((f, shown(f, v)?))),
        )
    }

    /// The index row of a record from its non-empty searchable values, in field order.
    pub fn of<'v>(
        &mut self,
        e: &Entity,
        texts: impl Iterator<Item = (&'v Field, &'v str)>,
    ) -> &str {
        let Docs { cut, keys, out } = self;
        out.clear();
        let mut title = None;
        {
            let mut emit = |t: &str| {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(t);
            };
            for (f, text) in texts {
                if f.kind == Kind::Phone {
                    cut.phone(text, &mut emit);
                } else {
                    cut.text(text, &mut emit);
                }
                if f.name == e.title {
                    title = Some(text);
                }
            }
        }
        if let Some(name) = title {
            keys.each(name, &mut |k| {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push(pinyin::MARK);
                out.push_str(k);
            });
        }
        out
    }
}

thread_local! {
    /// The writer's builder (one per thread: the writer runs on one).
    static DOCS: std::cell::RefCell<Docs> = std::cell::RefCell::new(Docs::default());
}

/// The index row of a record, from its values (in the registry's field order).
pub fn doc(e: &Entity, values: &[Value]) -> Doc {
    DOCS.with_borrow_mut(|d| Doc(d.doc(e, values).to_string()))
}

/// A searchable field's value as its text (searchable fields are text kinds).
fn shown<'v>(f: &Field, v: &'v Value) -> Option<&'v str> {
    if !f.search {
        return None;
    }
    match v {
        Value::Text(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

thread_local! {
    /// The index a large first import builds on a second thread (`side`), when one is.
    static SIDE: std::cell::RefCell<Option<side::Side>> = const { std::cell::RefCell::new(None) };
}

/// Starts building `e`'s index on a second thread for a large import into an empty table
/// (`SQLite`; the writer's [`add`] then hands it the records); whether it did.
pub fn side_start(s: &Store, e: &'static Entity) -> Result<bool> {
    let Store::Sqlite(c) = s else {
        return Ok(false);
    };
    if e.search_fields().next().is_none() || SIDE.with_borrow(Option::is_some) {
        return Ok(false);
    }
    let started = side::Side::start(c, e)?;
    let on = started.is_some();
    SIDE.with_borrow_mut(|x| *x = started);
    Ok(on)
}

/// Ends the index built beside an import: copied into the database's, in the caller's
/// transaction.
pub fn side_finish(s: &Store) -> Result<()> {
    match (SIDE.with_borrow_mut(Option::take), s) {
        (Some(side), Store::Sqlite(c)) => side.finish(c),
        _ => Ok(()),
    }
}

/// Drops the index built beside an import that is not written (its thread ends, its
/// temporary file goes).
pub fn side_abort() {
    drop(SIDE.with_borrow_mut(Option::take));
}

/// Ends `e`'s side build before a change the thread cannot make (a record's row replaced
/// or removed): from then on the writer indexes in place.
fn side_settle(s: &Store, e: &Entity) -> Result<()> {
    if SIDE.with_borrow(|x| x.as_ref().is_some_and(|x| x.entity == e.name)) {
        side_finish(s)?;
    }
    Ok(())
}

/// Writes the index row of a new record `id`.
pub fn add(s: &Store, e: &Entity, id: i64, values: &[Value]) -> Result<()> {
    if e.search_fields().next().is_none() {
        return Ok(());
    }
    let handed = SIDE.with_borrow_mut(|x| match x {
        Some(side) if side.entity == e.name => {
            side.push(e, id, values);
            true
        }
        _ => false,
    });
    if handed {
        return Ok(());
    }
    match s {
        Store::Sqlite(c) => {
            let sql = format!(
                "INSERT INTO {} (rowid, t) VALUES (?1, ?2)",
                e.search_table()
            );
            let mut insert = c.prepare_cached(&sql)?;
            DOCS.with_borrow_mut(|d| insert.execute(rusqlite::params![id, d.doc(e, values)]))?;
        }
        Store::Postgres(_) => pg::add(s, e, id, &doc(e, values))?,
    }
    Ok(())
}

/// Replaces the index row of record `id` when a searchable value changed.
pub fn replace(s: &Store, e: &Entity, id: i64, old: &[Value], new: &[Value]) -> Result<()> {
    let changed = e
        .fields
        .iter()
        .zip(old.iter().zip(new))
        .any(|(f, (o, n))| f.search && o != n);
    if !changed {
        return Ok(());
    }
    remove(s, e, id, id)?;
    add(s, e, id, new)
}

/// Removes the index rows of records `lo..=hi`.
pub fn remove(s: &Store, e: &Entity, lo: i64, hi: i64) -> Result<()> {
    if e.search_fields().next().is_none() {
        return Ok(());
    }
    side_settle(s, e)?;
    match s {
        Store::Sqlite(_) => {
            s.execute(
                &format!(
                    "DELETE FROM {} WHERE rowid BETWEEN ? AND ?",
                    e.search_table()
                ),
                vals![lo, hi],
            )?;
        }
        Store::Postgres(_) => pg::remove(s, e, lo, hi)?,
    }
    Ok(())
}

/// Indexes record `id` anew from what it holds now (a field set outside the writer).
pub fn reindex(s: &Store, e: &Entity, id: i64) -> Result<()> {
    if e.search_fields().next().is_none() {
        return Ok(());
    }
    let row = s.query_opt(&format!("{} WHERE \"id\" = ?", select(e)), vals![id])?;
    remove(s, e, id, id)?;
    if let Some(r) = row {
        let values: Vec<Value> = r.into_values().into_iter().skip(1).collect();
        add(s, e, id, &values)?;
    }
    Ok(())
}

/// The searchable columns of an entity, as a SELECT list (with the id first).
fn select(e: &Entity) -> String {
    let cols: Vec<String> = e
        .fields
        .iter()
        .map(|f| {
            if f.search {
                ident(f.name)
            } else {
                "NULL".to_string()
            }
        })
        .collect();
    format!("SELECT \"id\", {} FROM {}", cols.join(", "), e.table())
}

/// Indexes every record of every entity anew (an upgraded file, a copied database), a
/// record at a time as the rows stream by.
pub fn build(s: &Store) -> Result<()> {
    if !s.is_sqlite() {
        return pg::build(s);
    }
    for e in entities() {
        if let Store::Sqlite(_) = s {
            s.execute(&format!("DELETE FROM {}", e.search_table()), vals![])?;
        }
        // On PostgreSQL the rows cannot stream while the index is written: ranges of ids.
        let mut from = 0_i64;
        loop {
            let mut rows: Vec<(i64, Vec<Value>)> = Vec::new();
            let sql = format!("{} WHERE \"id\" > ? ORDER BY \"id\" LIMIT 10000", select(e));
            s.each(&sql, vals![from], |r| {
                let mut v = r.into_values().into_iter();
                let Some(Value::Integer(id)) = v.next() else {
                    return Err(crate::error::Error::internal("a record without an id"));
                };
                rows.push((id, v.collect()));
                Ok(())
            })?;
            let Some((last, _)) = rows.last() else { break };
            from = *last;
            for (id, values) in &rows {
                add(s, e, *id, values)?;
            }
        }
    }
    Ok(())
}

/// Indexes one entity's records anew, from the fields `e` lists (a custom field just added
/// with values, or just dropped: `db::fields`).
pub fn rebuild(s: &Store, e: &Entity) -> Result<()> {
    if e.search_fields().next().is_none() {
        return Ok(());
    }
    remove(s, e, i64::MIN, i64::MAX)?;
    let mut from = i64::MIN;
    loop {
        let mut rows: Vec<(i64, Vec<Value>)> = Vec::new();
        let sql = format!("{} WHERE \"id\" > ? ORDER BY \"id\" LIMIT 10000", select(e));
        s.each(&sql, vals![from], |r| {
            let mut v = r.into_values().into_iter();
            let Some(Value::Integer(id)) = v.next() else {
                return Err(crate::error::Error::internal("a record without an id"));
            };
            rows.push((id, v.collect()));
            Ok(())
        })?;
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        from = *last;
        for (id, values) in &rows {
            add(s, e, *id, values)?;
        }
    }
}

/// [`build`] on a `SQLite` connection inside the migration that makes the index (v11), so
/// an upgraded file has its index from the same transaction that creates it.
pub(crate) fn build_sqlite(c: &rusqlite::Connection) -> Result<()> {
    for e in entities() {
        let table = e.search_table();
        c.execute(&format!("DELETE FROM {table}"), [])?;
        let mut insert = c.prepare(&format!("INSERT INTO {table} (rowid, t) VALUES (?1, ?2)"))?;
        let mut docs = Docs::default();
        let mut stmt = c.prepare(&select(e))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let values = (1..=e.fields.len())
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Text(t) => {
                            Value::Text(String::from_utf8_lossy(t).into_owned())
                        }
                        _ => Value::Null,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            insert.execute(rusqlite::params![id, docs.doc(e, &values)])?;
        }
    }
    Ok(())
}

/// How many records of each entity `crm check` compares token by token with the index (all
/// of a small database, an even spread of a big one); every record's presence is checked.
const CHECK_SAMPLE: i64 = 500;

/// What `crm check` finds wrong with the index: records it lacks or holds no more, and
/// records whose tokens it does not hold. Empty when it agrees with the records.
pub fn stale(s: &Store) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for e in entities() {
        if !s.is_sqlite() {
            pg::stale(s, e, CHECK_SAMPLE, &mut out)?;
            continue;
        }
        let (t, st) = (e.table(), e.search_table());
        let missing: i64 = s.value(
            &format!("SELECT COUNT(*) FROM {t} WHERE \"id\" NOT IN (SELECT rowid FROM {st})"),
            vals![],
        )?;
        let extra: i64 = s.value(
            &format!("SELECT COUNT(*) FROM {st} WHERE rowid NOT IN (SELECT \"id\" FROM {t})"),
            vals![],
        )?;
        if missing > 0 || extra > 0 {
            out.push(format!(
                "{}: {missing} records not indexed, {extra} index rows without a record",
                e.name
            ));
            continue;
        }
        let n: i64 = s.value(&format!("SELECT COUNT(*) FROM {t}"), vals![])?;
        let step = (n / CHECK_SAMPLE).max(1);
        let rows = s.query(
            &format!(
                "{} WHERE (\"id\" % ?) = 0 ORDER BY \"id\" LIMIT ?",
                select(e)
            ),
            vals![step, CHECK_SAMPLE],
        )?;
        let probe = format!("SELECT COUNT(*) FROM {st} WHERE {st} MATCH ? AND rowid = ?");
        let mut wrong = 0;
        for r in rows {
            let mut v = r.into_values().into_iter();
            let Some(Value::Integer(id)) = v.next() else {
                continue;
            };
            let d = DOCS.with_borrow_mut(|d| d.doc(e, &v.collect::<Vec<_>>()).to_string());
            for token in d.split(' ').filter(|w| !w.is_empty()) {
                let q = format!("\"{}\"", token.replace('"', "\"\""));
                if s.value::<i64>(&probe, vals![q, id])? == 0 {
                    wrong += 1;
                    break;
                }
            }
        }
        if wrong > 0 {
            out.push(format!(
                "{}: {wrong} records whose values the index does not hold",
                e.name
            ));
        }
    }
    Ok(out)
}
