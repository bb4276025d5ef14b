//! The bulk write path of `crm import`: one transaction, statements prepared once and
//! reused, generated keys from a counter taken once per batch, no per-row audit (the batch
//! is recorded instead, with what revert needs), and the same rules, required and unique
//! checks as `crm add`.

use crate::db::Store;
use crate::schema::Value;
use rusqlite::{OptionalExtension, params};

use crate::db::audit::{self, Entry};
use crate::db::records::{Draft, Stored, field_list};
use crate::db::write::{AuditPolicy, Refused, Writer, show};
use crate::error::{Error, ErrorKind, Result};
use crate::schema::{Entity, Field, Kind, ident};

mod dedupe;
mod export;
mod indexes;
mod keys;
mod pg;

pub use export::export_rows;
pub use indexes::{Deferred, defer_indexes, rebuild};

/// A page cache big enough that index pages stay in memory through a large import
/// (64 MiB, inside the import's 128 MiB memory budget).
pub fn tune(conn: &Store) -> Result<()> {
    if !matches!(conn, Store::Sqlite(_)) {
        return Ok(());
    }
    conn.sqlite()?.execute_batch("PRAGMA cache_size = -65536")?;
    Ok(())
}

/// Folds the WAL back into the database and truncates it, after a large import; a reader
/// still holding an old snapshot only makes this partial (it is retried by later writes).
pub fn checkpoint(conn: &Store) {
    if let Store::Sqlite(c) = conn {
        let _ = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
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
    /// Per field: whether the file gave it (as wide as the entity, whatever its width).
    given: Vec<bool>,
    pub id: Option<i64>,
    /// `created_at` from a historical import (`--keep-times`), used on insert.
    pub created_at: Option<i64>,
}

impl Row {
    /// A row of `fields` empty values, none given.
    pub fn new(fields: usize) -> Row {
        Row {
            values: vec![Value::Null; fields],
            given: vec![false; fields],
            id: None,
            created_at: None,
        }
    }

    /// Marks field `i` as given by the file.
    pub fn give(&mut self, i: usize) {
        self.given[i] = true;
    }

    /// Whether the file gave field `i`.
    pub fn is_given(&self, i: usize) -> bool {
        self.given[i]
    }

    /// A stored record's values with the fields this row gave put over them.
    fn over(self, old: &Draft) -> Draft {
        let mut new = old.clone();
        for (i, v) in self.values.into_iter().enumerate() {
            if self.given[i] {
                new.values[i] = v;
            }
        }
        new
    }
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
    /// The one write path, auditing per batch.
    w: Writer<'c>,
    sql_get: String,
    ranges: Vec<(i64, i64)>,
    touched: Vec<u64>,
    pub counts: Counts,
    /// On `PostgreSQL`: the set-based path (chunks, COPY, statement triggers).
    pg: Option<pg::PgBulk>,
    /// `--dedupe`: every equal-key rule's keys of the records and of the rows written.
    dedupe: Option<dedupe::Matcher>,
    /// `--key` naming a field matched by its normalised key (name, phone, email).
    key_match: Option<dedupe::Matcher>,
}

/// What one row did, or why it was refused.
pub type RowOutcome = std::result::Result<Outcome, String>;

/// Whether an error from rules or checks is about the row (reported) rather than the run.
fn is_row_error(e: &Error) -> bool {
    matches!(
        e.kind,
        ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::NotFound | ErrorKind::Usage
    )
}

impl<'c> Bulk<'c> {
    /// Starts a batch: records it (inside the transaction) and prepares what every row needs.
    /// `keep_times`: a historical import (`--keep-times`), recorded with the batch.
    /// `row_by_row`: on `PostgreSQL`, through the one writer rather than set-based (what the
    /// set-based path does not judge: `--dedupe`, a `--key` matched normalised, a second
    /// unique field such as a customer's `credit_code` given by the file).
    #[allow(clippy::too_many_arguments)] // the batch's own columns, each recorded
    pub fn begin(
        conn: &'c Store,
        e: &'static Entity,
        mode: Mode,
        key: Option<Key>,
        user: &str,
        file: &str,
        encoding: &str,
        keep_times: bool,
        row_by_row: bool,
    ) -> Result<Bulk<'c>> {
        let now = crate::clock::now();
        let (batch, pg) = if let Store::Sqlite(c) = conn {
            c.set_prepared_statement_cache_capacity(64);
            c.execute(
                "INSERT INTO import_batch (at, user, entity, file, mode, inserted, updated, unchanged, rejected, encoding, key_field, keep_times) VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, ?, ?, ?)",
                params![now, user, e.name, file, mode.name(), encoding, key.map(Key::name), i64::from(keep_times)],
            )?;
            (c.last_insert_rowid(), None)
        } else {
            let batch = conn.insert_returning_id(
                "INSERT INTO import_batch (at, \"user\", entity, file, mode, inserted, updated, unchanged, rejected, encoding, key_field, keep_times) VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, ?, ?, ?) RETURNING id",
                crate::vals![now, user, e.name, file, mode.name(), encoding, key.map(Key::name), i64::from(keep_times)],
            )?;
            // Audited per batch from here: see `migrate::postgres::security`.
            conn.execute("SELECT crm.begin_import(?)", crate::vals![batch])?;
            // An entity whose rules change other records per row (an activity's customer,
            // a line's order, an opportunity's stages) goes row by row through the one
            // writer, as on SQLite: the statement triggers still record its own rows in the
            // batch tables, and each derived change is audited per field (`db::derive`).
            // So does a historical import: its rows carry their own `created_at`.
            let set_based = pg::unsupported(e).is_none() && !keep_times && !row_by_row;
            let pg = if set_based {
                Some(pg::PgBulk::begin(conn, e, mode, key, user, now)?)
            } else {
                None
            };
            (batch, pg)
        };
        let key_where = match key {
            Some(Key::Field(f)) if f.unique => ident(f.name),
            _ => "\"id\"".into(),
        };
        Ok(Bulk {
            conn,
            e,
            mode,
            key,
            user: user.to_string(),
            batch,
            w: Writer::new(conn, e, AuditPolicy::PerBatch(batch), user)?.at(now),
            sql_get: format!(
                "SELECT \"id\", {}, \"created_at\", \"updated_at\" FROM {} WHERE {key_where} = ?",
                field_list(e),
                e.table()
            ),
            ranges: Vec::new(),
            touched: Vec::new(),
            counts: Counts::default(),
            pg,
            dedupe: None,
            key_match: None,
        })
    }

    /// Reads the match keys `--dedupe` and a `--key` matched normalised compare with.
    pub fn matching(&mut self, dedupe: bool) -> Result<()> {
        if dedupe {
            let rules: Vec<&'static crate::dedupe::Rule> = crate::dedupe::rules(self.e.name)
                .iter()
                .filter(|r| !r.similar)
                .collect();
            self.dedupe = Some(dedupe::Matcher::load(self.conn, self.e, &rules)?);
        }
        if let Some(Key::Field(f)) = self.key
            && !f.unique
            && let Some(rule) = crate::dedupe::rule_for_field(self.e.name, f.name)
        {
            self.key_match = Some(dedupe::Matcher::load(self.conn, self.e, &[rule])?);
        }
        Ok(())
    }

    /// The record a `--key` matched normalised finds: none, one, or a row error naming
    /// every record it matches.
    fn find_matched(
        &self,
        m: &dedupe::Matcher,
        f: &Field,
        row: &Row,
    ) -> Result<std::result::Result<Option<Stored>, String>> {
        match m.holders(&row.values) {
            None | Some([]) => Ok(Ok(None)),
            Some([(id, _)]) => self.get(&Value::Integer(*id)).map(Ok),
            Some(many) => {
                let names: Vec<&str> = many.iter().map(|(_, l)| l.as_str()).collect();
                Ok(Err(format!(
                    "{}: '{}' matches several records: {}",
                    f.name,
                    show(&row.values[self.index(f)]),
                    names.join(", ")
                )))
            }
        }
    }

    /// Takes one row; returns the outcomes of the rows now decided, in file order: on
    /// `SQLite` this row's, on `PostgreSQL` none until a chunk is full.
    pub fn push(&mut self, row: Row) -> Result<Vec<RowOutcome>> {
        match self.pg.as_mut() {
            Some(p) => {
                let out = p.row(self.conn, row)?;
                self.count(&out);
                Ok(out)
            }
            None => Ok(vec![self.row(row)?]),
        }
    }

    /// Decides the rows still held (the end of the file); their outcomes in file order.
    pub fn flush(&mut self) -> Result<Vec<RowOutcome>> {
        match self.pg.as_mut() {
            Some(p) => {
                let out = p.flush(self.conn)?;
                self.count(&out);
                Ok(out)
            }
            None => Ok(Vec::new()),
        }
    }

    /// Counts what the set-based path decided (the row-by-row path counts as it writes;
    /// rejects are the caller's to count).
    fn count(&mut self, out: &[RowOutcome]) {
        for o in out {
            match o {
                Ok(Outcome::Inserted) => self.counts.inserted += 1,
                Ok(Outcome::Updated) => self.counts.updated += 1,
                Ok(Outcome::Unchanged) => self.counts.unchanged += 1,
                Err(_) => {}
            }
        }
    }

    /// Writes one row: its parsed cells (references and users still as text).
    pub fn row(&mut self, mut row: Row) -> RowResult {
        for (i, f) in self.e.fields.iter().enumerate() {
            if !row.is_given(i) || !matches!(f.kind, Kind::Ref(_) | Kind::User) {
                continue;
            }
            let v = std::mem::replace(&mut row.values[i], Value::Null);
            match self.w.resolve(i, v)? {
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
                        if row.is_given(i) {
                            row.values[i].clone()
                        } else {
                            Value::Null
                        }
                    }
                };
                if kv == Value::Null {
                    if self.mode == Mode::Update || matches!(key, Key::Id) {
                        return Ok(Err(format!("{}: empty key", key.name())));
                    }
                    None
                } else {
                    let found = match (key, self.key_match.as_ref()) {
                        (Key::Field(f), Some(m)) => match self.find_matched(m, f, &row)? {
                            Ok(found) => found,
                            Err(why) => return Ok(Err(why)),
                        },
                        _ => self.get(&kv)?,
                    };
                    match found {
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
        if let Some(m) = &self.dedupe {
            let except = existing.as_ref().map(|s| s.id);
            let dup = match &existing {
                Some(old) => {
                    let mut over = old.draft.values.clone();
                    for (i, v) in row.values.iter().enumerate() {
                        if row.is_given(i) {
                            over[i] = v.clone();
                        }
                    }
                    m.duplicate(&over, except)
                }
                None => m.duplicate(&row.values, None),
            };
            if let Some(why) = dup {
                return Ok(Err(why));
            }
        }
        match existing {
            Some(old) => self.update(&old, row),
            None => self.insert(row),
        }
    }

    /// Remembers a written record's match keys for the rows after it.
    fn matched(&mut self, id: i64, values: &[Value]) {
        for m in [self.dedupe.as_mut(), self.key_match.as_mut()]
            .into_iter()
            .flatten()
        {
            m.add(id, values);
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
        if !self.conn.is_sqlite() {
            let Some(r) = self
                .conn
                .query_opt(&self.sql_get, std::slice::from_ref(key))?
            else {
                return Ok(None);
            };
            let (id, created_at, updated_at) = (r.get(0)?, r.get(n + 1)?, r.get(n + 2)?);
            let mut values = r.into_values();
            values.truncate(n + 1);
            values.remove(0);
            return Ok(Some(Stored {
                id,
                draft: Draft { entity: e, values },
                created_at,
                updated_at,
            }));
        }
        Ok(self
            .conn
            .sqlite()?
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
        let d = Draft {
            entity: self.e,
            values: row.values,
        };
        let id = match self.w.insert_at(d, row.created_at)? {
            Ok((id, d)) => {
                self.matched(id, &d.values);
                id
            }
            Err(refused) => return self.refused(refused),
        };
        // On PostgreSQL the statement triggers record the inserted ranges.
        if self.conn.is_sqlite() {
            match self.ranges.last_mut() {
                Some((_, last)) if *last + 1 == id => *last = id,
                _ => self.ranges.push((id, id)),
            }
        }
        self.touch(id);
        self.counts.inserted += 1;
        Ok(Ok(Outcome::Inserted))
    }

    fn update(&mut self, old: &Stored, row: Row) -> RowResult {
        self.touch(old.id);
        let new = row.over(&old.draft);
        if self.dedupe.is_some() || self.key_match.is_some() {
            self.matched(old.id, &new.values);
        }
        match self.w.update(old, new)? {
            Ok(true) => {
                self.counts.updated += 1;
                Ok(Ok(Outcome::Updated))
            }
            Ok(false) => {
                self.counts.unchanged += 1;
                Ok(Ok(Outcome::Unchanged))
            }
            Err(refused) => self.refused(refused),
        }
    }

    /// A row the writer refused: its reason, or the run's failure.
    fn refused(&self, r: Refused) -> RowResult {
        match r {
            Refused::Check(e) if is_row_error(&e) => Ok(Err(e.message)),
            Refused::Check(e) => Err(e),
            Refused::Taken(None) => Ok(Err("a unique value is already taken".into())),
            Refused::Taken(Some(t)) => {
                let repeats = self.touched(t.holder);
                let upsert =
                    self.mode == Mode::Insert && self.key.is_some_and(|k| k.name() == t.field.name);
                Ok(Err(t.reason(repeats, upsert)))
            }
        }
    }

    /// Records the batch's counts and inserted ranges, and its one audit entry.
    pub fn finish(self, rows: i64, file: &str) -> Result<i64> {
        // On PostgreSQL the statement triggers recorded the ranges (`self.ranges` is empty).
        for (first, last) in &self.ranges {
            self.conn.sqlite()?.execute(
                "INSERT INTO import_insert (batch, first_id, last_id) VALUES (?, ?, ?)",
                params![self.batch, first, last],
            )?;
        }
        let c = self.counts;
        let digest = crate::db::batch::trail_digest(self.conn, self.batch)?;
        let detail = format!(
            "batch {}: {file}, mode {}, {rows} rows: {} inserted, {} updated, {} unchanged, {} rejected{}{digest}",
            self.batch,
            self.mode.name(),
            c.inserted,
            c.updated,
            c.unchanged,
            c.rejected,
            crate::db::batch::MARK
        );
        if let Some(p) = &self.pg {
            p.end(self.conn)?;
        }
        let audit_id: i64 = if self.conn.is_sqlite() {
            audit::log(
                self.conn,
                &[Entry {
                    user: Some(&self.user),
                    action: "import",
                    entity: Some(self.e.name),
                    detail: Some(detail),
                    ..Entry::default()
                }],
            )?;
            self.conn.value("SELECT MAX(id) FROM audit", &[])?
        } else {
            // The id the append hands back: a manager may not read the log itself.
            self.conn.value(
                "SELECT crm.audit_append('import', ?, NULL, NULL, NULL, NULL, ?)",
                crate::vals![self.e.name, detail],
            )?
        };
        self.conn.execute(
            "UPDATE import_batch SET inserted = ?, updated = ?, unchanged = ?, rejected = ?, rows_read = ?, audit_id = ? WHERE id = ?",
            crate::vals![c.inserted, c.updated, c.unchanged, c.rejected, rows, audit_id, self.batch],
        )?;
        Ok(self.batch)
    }
}

#[cfg(test)]
mod tests;
