//! The bulk write path of `crm import`: one transaction, statements prepared once and
//! reused, generated keys from a counter taken once per batch, no per-row audit (the batch
//! is recorded instead, with what revert needs), and the same rules, required and unique
//! checks as `crm add`.

use std::collections::{HashMap, HashSet};

use crate::db::Store;
use crate::schema::Value;
use rusqlite::{ErrorCode, OptionalExtension, params, params_from_iter};

use crate::db::audit::{self, Entry};
use crate::db::records::{Draft, Stored, check_required, field_list};
use crate::error::{Error, ErrorKind, Result};
use crate::schema::{Default, Entity, Field, Kind, ident};

mod export;
mod indexes;
mod keys;

pub use export::export_rows;
pub use indexes::{Deferred, defer_indexes, rebuild};

/// A page cache big enough that index pages stay in memory through a large import
/// (64 MiB, inside the import's 128 MiB memory budget).
pub fn tune(conn: &Store) -> Result<()> {
    conn.sqlite().execute_batch("PRAGMA cache_size = -65536")?;
    Ok(())
}

/// Folds the WAL back into the database and truncates it, after a large import; a reader
/// still holding an old snapshot only makes this partial (it is retried by later writes).
pub fn checkpoint(conn: &Store) {
    let _ = conn
        .sqlite()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Insert,
    Upsert,
    Update,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Insert => "insert",
            Mode::Upsert => "upsert",
            Mode::Update => "update",
        }
    }
}

/// The field that finds existing records (`--key`): a unique field, or the id.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    Id,
    Field(&'static Field),
}

impl Key {
    pub fn name(self) -> &'static str {
        match self {
            Key::Id => "id",
            Key::Field(f) => f.name,
        }
    }
}

/// What one row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

/// The batch's counts; they always add up to the rows read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
}

/// One parsed row: a value per field of the entity (Null where the file has no column),
/// which fields the file gave, and the id column when `--key id`.
#[derive(Debug)]
pub struct Row {
    pub values: Vec<Value>,
    pub given: u128,
    pub id: Option<i64>,
}

/// A row error (reported and skipped or aborted on) or a failure that ends the import.
pub type RowResult = Result<std::result::Result<Outcome, String>>;

/// One running import inside the caller's write transaction.
pub struct Bulk<'c> {
    conn: &'c Store,
    e: &'static Entity,
    mode: Mode,
    key: Option<Key>,
    user: String,
    pub batch: i64,
    now: i64,
    today: String,
    /// Held, not looked up in the statement cache per row: that lookup cost 5% of an import.
    insert_stmt: rusqlite::Statement<'c>,
    sql_update: String,
    sql_get: String,
    sql_exists: Vec<Option<String>>,
    refs: HashMap<&'static str, (&'static Entity, Option<String>, String)>,
    users: HashSet<String>,
    defaults: Vec<Value>,
    next_key: Option<i64>,
    ranges: Vec<(i64, i64)>,
    touched: Vec<u64>,
    pub counts: Counts,
}

fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::Blob(_) => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Real(r) => (*r).into(),
        Value::Text(t) => t.clone().into(),
    }
}

/// Whether an error from rules or checks is about the row (reported) rather than the run.
fn is_row_error(e: &Error) -> bool {
    matches!(
        e.kind,
        ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::NotFound | ErrorKind::Usage
    )
}

impl<'c> Bulk<'c> {
    /// Starts a batch: records it (inside the transaction) and prepares what every row needs.
    pub fn begin(
        conn: &'c Store,
        e: &'static Entity,
        mode: Mode,
        key: Option<Key>,
        user: &str,
        file: &str,
        encoding: &str,
    ) -> Result<Bulk<'c>> {
        conn.sqlite().set_prepared_statement_cache_capacity(64);
        let now = crate::clock::now();
        conn.sqlite().execute(
            "INSERT INTO import_batch (at, user, entity, file, mode, inserted, updated, unchanged, rejected, encoding, key_field) VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, ?, ?)",
            params![now, user, e.name, file, mode.name(), encoding, key.map(Key::name)],
        )?;
        let batch = conn.sqlite().last_insert_rowid();
        let marks = vec!["?"; e.fields.len() + 2].join(", ");
        let sets: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("{} = ?", ident(f.name)))
            .collect();
        let mut refs = HashMap::new();
        for f in e.fields {
            if let Kind::Ref(target) = f.kind {
                let t = Entity::get(target)?;
                let by_key = t
                    .key
                    .map(|k| format!("SELECT \"id\" FROM {} WHERE {} = ?", t.table(), ident(k)));
                let by_id = format!("SELECT \"id\" FROM {} WHERE \"id\" = ?", t.table());
                refs.insert(f.name, (t, by_key, by_id));
            }
        }
        let users = conn
            .sqlite()
            .prepare("SELECT name FROM users")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<HashSet<_>>>()?;
        let defaults = e
            .fields
            .iter()
            .map(|f| match f.default {
                Default::Value(s) => f.kind.parse(s).map_err(Error::internal),
                _ => Ok(Value::Null),
            })
            .collect::<Result<Vec<_>>>()?;
        let key_where = match key {
            Some(Key::Field(f)) => ident(f.name),
            _ => "\"id\"".into(),
        };
        Ok(Bulk {
            conn,
            e,
            mode,
            key,
            user: user.to_string(),
            batch,
            now,
            today: crate::clock::today().format("%Y-%m-%d").to_string(),
            insert_stmt: conn.sqlite().prepare(&format!(
                "INSERT INTO {} ({}, \"created_at\", \"updated_at\") VALUES ({marks})",
                e.table(),
                field_list(e)
            ))?,
            sql_update: format!(
                "UPDATE {} SET {}, \"updated_at\" = ? WHERE \"id\" = ?",
                e.table(),
                sets.join(", ")
            ),
            sql_get: format!(
                "SELECT \"id\", {}, \"created_at\", \"updated_at\" FROM {} WHERE {key_where} = ?",
                field_list(e),
                e.table()
            ),
            sql_exists: e
                .fields
                .iter()
                .map(|f| {
                    f.unique.then(|| {
                        format!(
                            "SELECT \"id\" FROM {} WHERE {} = ?",
                            e.table(),
                            ident(f.name)
                        )
                    })
                })
                .collect(),
            refs,
            users,
            defaults,
            next_key: None,
            ranges: Vec::new(),
            touched: Vec::new(),
            counts: Counts::default(),
        })
    }

    /// Resolves references (id or key) and checks user names; `Err` is the row's reason.
    fn resolve(&self, f: &Field, v: Value) -> Result<std::result::Result<Value, String>> {
        let Value::Text(t) = &v else { return Ok(Ok(v)) };
        match f.kind {
            Kind::Ref(_) => {
                let (target, by_key, by_id) = &self.refs[f.name];
                if let Some(sql) = by_key {
                    let id: Option<i64> = self
                        .conn
                        .sqlite()
                        .prepare_cached(sql)?
                        .query_row([t], |r| r.get(0))
                        .optional()?;
                    if let Some(id) = id {
                        return Ok(Ok(Value::Integer(id)));
                    }
                }
                if let Ok(n) = t.trim().parse::<i64>() {
                    let id: Option<i64> = self
                        .conn
                        .sqlite()
                        .prepare_cached(by_id)?
                        .query_row([n], |r| r.get(0))
                        .optional()?;
                    if let Some(id) = id {
                        return Ok(Ok(Value::Integer(id)));
                    }
                }
                Ok(Err(format!("no {} with id or key '{t}'", target.name)))
            }
            Kind::User if !self.users.contains(t.as_str()) => {
                Ok(Err(format!("no user named '{t}'")))
            }
            _ => Ok(Ok(v)),
        }
    }

    /// Writes one row: its parsed cells (references and users still as text).
    pub fn row(&mut self, mut row: Row) -> RowResult {
        for (i, f) in self.e.fields.iter().enumerate() {
            if row.given & (1 << i) == 0 || !matches!(f.kind, Kind::Ref(_) | Kind::User) {
                continue;
            }
            let v = std::mem::replace(&mut row.values[i], Value::Null);
            match self.resolve(f, v)? {
                Ok(v) => row.values[i] = v,
                Err(why) => return Ok(Err(format!("{}: {why}", f.name))),
            }
        }
        let existing = match (self.mode, self.key) {
            (Mode::Insert, _) | (_, None) => None,
            (_, Some(key)) => {
                let kv = match key {
                    Key::Id => row.id.map_or(Value::Null, Value::Integer),
                    Key::Field(f) => {
                        let i = self.index(f);
                        if row.given & (1 << i) == 0 {
                            Value::Null
                        } else {
                            row.values[i].clone()
                        }
                    }
                };
                if kv == Value::Null {
                    if self.mode == Mode::Update || matches!(key, Key::Id) {
                        return Ok(Err(format!("{}: empty key", key.name())));
                    }
                    None
                } else {
                    match self.get(&kv)? {
                        Some(s) if self.touched(s.id) => {
                            return Ok(Err(format!(
                                "{}: '{}' repeats an earlier row of this file",
                                key.name(),
                                show(&kv)
                            )));
                        }
                        Some(s) => Some(s),
                        None if self.mode == Mode::Update || matches!(key, Key::Id) => {
                            return Ok(Err(format!(
                                "{}: no {} with {} '{}'",
                                key.name(),
                                self.e.name,
                                key.name(),
                                show(&kv)
                            )));
                        }
                        None => None,
                    }
                }
            }
        };
        match existing {
            Some(old) => self.update(&old, row),
            None => self.insert(row),
        }
    }

    /// The position of a field of this entity.
    pub fn index(&self, f: &Field) -> usize {
        self.e
            .fields
            .iter()
            .position(|g| std::ptr::eq(g, f))
            .expect("a field of this entity")
    }

    fn get(&self, key: &Value) -> Result<Option<Stored>> {
        let n = self.e.fields.len();
        let e = self.e;
        Ok(self
            .conn
            .sqlite()
            .prepare_cached(&self.sql_get)?
            .query_row([key], |r| {
                let values = (1..=n)
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(Stored {
                    id: r.get(0)?,
                    draft: Draft { entity: e, values },
                    created_at: r.get(n + 1)?,
                    updated_at: r.get(n + 2)?,
                })
            })
            .optional()?)
    }

    fn insert(&mut self, row: Row) -> RowResult {
        // A row that does not land gives its generated key back: codes never skip.
        let next_key = self.next_key;
        let res = self.insert_row(row);
        if !matches!(res, Ok(Ok(_))) {
            self.next_key = next_key;
        }
        res
    }

    fn insert_row(&mut self, row: Row) -> RowResult {
        let mut d = Draft {
            entity: self.e,
            values: row.values,
        };
        for (i, f) in self.e.fields.iter().enumerate() {
            if d.values[i] != Value::Null {
                continue;
            }
            d.values[i] = match f.default {
                Default::None => Value::Null,
                Default::Value(_) => self.defaults[i].clone(),
                Default::CurrentUser => Value::Text(self.user.clone()),
                Default::Generated(prefix) => self.generated(i, prefix)?,
                Default::Today => Value::Text(self.today.clone()),
                Default::Now => Value::Integer(self.now),
            };
        }
        if let Err(e) =
            crate::rules::apply(self.conn, &mut d, None).and_then(|()| check_required(&d))
        {
            return if is_row_error(&e) {
                Ok(Err(e.message))
            } else {
                Err(e)
            };
        }
        let now = Value::Integer(self.now);
        let res = self
            .insert_stmt
            .execute(params_from_iter(d.values.iter().chain([&now, &now])));
        match res {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == ErrorCode::ConstraintViolation =>
            {
                return Ok(Err(self.unique_error(&d, None)?));
            }
            Err(e) => return Err(e.into()),
        }
        let id = self.conn.sqlite().last_insert_rowid();
        match self.ranges.last_mut() {
            Some((_, last)) if *last + 1 == id => *last = id,
            _ => self.ranges.push((id, id)),
        }
        self.touch(id);
        crate::db::derive::after_write(self.conn, &d, None, id, &self.user)?;
        self.counts.inserted += 1;
        Ok(Ok(Outcome::Inserted))
    }

    fn update(&mut self, old: &Stored, row: Row) -> RowResult {
        self.touch(old.id);
        let mut new = old.draft.clone();
        for (i, v) in row.values.into_iter().enumerate() {
            if row.given & (1 << i) != 0 {
                new.values[i] = v;
            }
        }
        if let Err(e) = crate::db::records::check_key_kept(&old.draft, &new)
            .and_then(|()| crate::rules::apply(self.conn, &mut new, Some(old)))
            .and_then(|()| check_required(&new))
        {
            return if is_row_error(&e) {
                Ok(Err(e.message))
            } else {
                Err(e)
            };
        }
        if new == old.draft {
            self.counts.unchanged += 1;
            return Ok(Ok(Outcome::Unchanged));
        }
        let at = self.now.max(old.updated_at);
        let args = new
            .values
            .iter()
            .cloned()
            .chain([Value::Integer(at), Value::Integer(old.id)]);
        match self
            .conn
            .sqlite()
            .prepare_cached(&self.sql_update)?
            .execute(params_from_iter(args))
        {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == ErrorCode::ConstraintViolation =>
            {
                return Ok(Err(self.unique_error(&new, Some(old.id))?));
            }
            Err(e) => return Err(e.into()),
        }
        let before: serde_json::Map<String, serde_json::Value> = self
            .e
            .fields
            .iter()
            .zip(&old.draft.values)
            .map(|(f, v)| (f.name.to_string(), to_json(v)))
            .collect();
        // The new values of the changed fields only: with `before` they are the record's
        // trail (`crm audit --entity E --id N`), at the cost of one short string per update.
        let after: serde_json::Map<String, serde_json::Value> = self
            .e
            .fields
            .iter()
            .zip(old.draft.values.iter().zip(&new.values))
            .filter(|(_, (o, n))| o != n)
            .map(|(f, (_, n))| (f.name.to_string(), to_json(n)))
            .collect();
        self.conn
            .sqlite().prepare_cached("INSERT INTO import_change (batch, record_id, before, after_updated_at, after) VALUES (?, ?, ?, ?, ?)")?
            .execute(params![
                self.batch,
                old.id,
                serde_json::Value::Object(before).to_string(),
                at,
                serde_json::Value::Object(after).to_string()
            ])?;
        crate::db::derive::after_write(self.conn, &new, Some(&old.draft), old.id, &self.user)?;
        self.counts.updated += 1;
        Ok(Ok(Outcome::Updated))
    }

    /// Records the batch's counts and inserted ranges, and its one audit entry.
    pub fn finish(self, rows: i64, file: &str) -> Result<i64> {
        for (first, last) in &self.ranges {
            self.conn.sqlite().execute(
                "INSERT INTO import_insert (batch, first_id, last_id) VALUES (?, ?, ?)",
                params![self.batch, first, last],
            )?;
        }
        let c = self.counts;
        let digest = crate::db::batch::trail_digest(self.conn, self.batch)?;
        audit::log(
            self.conn,
            &[Entry {
                user: Some(&self.user),
                action: "import",
                entity: Some(self.e.name),
                detail: Some(format!(
                    "batch {}: {file}, mode {}, {rows} rows: {} inserted, {} updated, {} unchanged, {} rejected{}{digest}",
                    self.batch,
                    self.mode.name(),
                    c.inserted,
                    c.updated,
                    c.unchanged,
                    c.rejected,
                    crate::db::batch::MARK
                )),
                ..Entry::default()
            }],
        )?;
        let audit_id: i64 = self
            .conn
            .sqlite()
            .query_row("SELECT MAX(id) FROM audit", [], |r| r.get(0))?;
        self.conn.sqlite().execute(
            "UPDATE import_batch SET inserted = ?, updated = ?, unchanged = ?, rejected = ?, rows_read = ?, audit_id = ? WHERE id = ?",
            params![c.inserted, c.updated, c.unchanged, c.rejected, rows, audit_id, self.batch],
        )?;
        Ok(self.batch)
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Integer(i) => i.to_string(),
        _ => String::new(),
    }
}
