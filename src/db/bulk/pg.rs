//! `crm import` on `PostgreSQL`: rows are checked in chunks, each chunk's references,
//! existing records and unique values read with one query apiece, the rows judged in file
//! order exactly as the `SQLite` path judges them one by one (the same reasons, the same
//! "repeats an earlier row"), and the accepted ones sent with `COPY … FROM STDIN` into a
//! temporary staging table, then written with one `UPDATE … FROM` and one `INSERT … SELECT`.
//! Because each chunk is written before the next is judged, the next chunk's queries see
//! it: conflicts within the file and with existing records are found set-based without
//! holding the file's keys in memory. The batch tables are filled by the database's own
//! statement triggers (`migrate::postgres::security`), the per-field audit skipped for the
//! batch only.
//!
//! A first load (insert mode into an empty table, no rule checks) is streamed instead:
//! its chunks need no query (the table holds only what the import wrote), so each is
//! judged while its COPY runs (crm judging as the server writes). One of more than a
//! chunk, by a user whose row policies on the table all say `true`, COPYs straight into
//! the table with row security off and the plain indexes set aside for the load
//! (`migrate::postgres::import_indexes`, made whole again before the batch ends, as an
//! expert loading by hand does); otherwise the chunks are appended to the staging table
//! and written with one `INSERT … SELECT` at the end (a chunk whose queries must see the
//! rows staged so far, a repeated unique value, writes them first).

use std::collections::{HashMap, HashSet};

mod find;
mod judge;
mod trace;
mod write;

use super::{Key, Mode, Outcome, Row};
use crate::db::Store;
use crate::db::records::{Stored, field_list};
use crate::error::{Error, Result};
use crate::schema::{Default, Entity, Value};

/// Rows judged and written together: big enough that the per-chunk statements cost
/// nothing per row, small enough to keep memory flat.
pub const CHUNK: usize = 8192;

/// One running import on `PostgreSQL`.
#[allow(clippy::struct_excessive_bools)] // independent facts about one import
pub struct PgBulk {
    e: &'static Entity,
    mode: Mode,
    key: Option<Key>,
    user: String,
    now: i64,
    today: String,
    defaults: Vec<Value>,
    users: HashSet<String>,
    /// The last id handed out when the import began, and how many ids it has used since
    /// (inserts, and refused inserts that use one up): generated keys count from there.
    seq0: i64,
    /// How many ids the import has given so far (the last one is `seq0 + next_id`).
    next_id: i64,
    consumed: i64,
    /// The generated-key counter, taken at the first key generated and given back by a
    /// refused row, as the writer's on `SQLite`.
    next_key: Option<i64>,
    touched: Touched,
    pending: Vec<Row>,
    /// The unique fields (a customer's `code` and `credit_code`), in field order: the
    /// order in which the writer finds a value taken.
    uniques: Vec<usize>,
    /// Whether the table held no record when the import began, and the hashes of the
    /// unique values the import has written so far: then only those can be taken, and
    /// the others need no lookup (a million-row first load looks up none).
    was_empty: bool,
    claimed_all: HashSet<u64>,
    /// Set by the judging of a row whose insert a taken unique value refused: on `SQLite`
    /// that INSERT used up an id, so it does here too.
    burn: bool,
    /// The staging table's columns, quoted, and the last place in the file staged.
    stage_cols: String,
    ord: i64,
    /// Rows in the staging table not yet written, and whether they hold updates, inserts.
    staged: u64,
    updates: bool,
    inserts: bool,
    /// A first load into an empty table (`was_empty`, insert mode, no rule checks) is
    /// streamed: each chunk is judged while its COPY appends to the staging table, which
    /// is written to the table once at the end (or before a query must see the rows
    /// written so far).
    stream: bool,
    /// Whether the import has written to its table yet, and whether it set the table's
    /// plain indexes aside (`crm.import_defer_indexes`, `crm.import_direct`).
    written: bool,
    /// Whether the database has the set-aside functions (a database crm has not yet
    /// upgraded may not), and whether a streamed load sends its rows straight into the
    /// table (`crm.import_direct`: row security off for a user all of whose policies on
    /// the table say `true`), decided at its first full chunk.
    set_aside: bool,
    direct: Option<bool>,
    deferred: std::cell::Cell<bool>,
    /// When the import began, for `CRM_IMPORT_TRACE`.
    began: Option<std::time::Instant>,
    /// The search index rows of the records the chunk writes (`db::search`), when the
    /// entity has searchable fields: sent after its COPY, written after its records.
    docs: Option<Vec<(i64, crate::db::search::Doc)>>,
}

/// Why an entity cannot be imported set-based: its rules change other records per row.
pub fn unsupported(e: &Entity) -> Option<String> {
    crate::rules::RULES
        .iter()
        .find(|r| r.entity == e.name)
        .filter(|r| r.after_write.is_some() || r.after_delete.is_some())
        .map(|_| {
            format!(
                "importing {} records on PostgreSQL is not supported yet (its rules update other records); import on SQLite and `crm copy`",
                e.name
            )
        })
}

/// A JSON array of texts, the one parameter of `IN (SELECT jsonb_array_elements_text(?))`.
fn json_list<'a>(items: impl Iterator<Item = &'a str>) -> Value {
    Value::Text(serde_json::Value::from(items.collect::<Vec<_>>()).to_string())
}

/// What the chunk's queries found.
#[derive(Default)]
struct Found {
    refs: Vec<HashMap<String, i64>>,
    existing: HashMap<String, Stored>,
    /// The holders of unique values, by [`unique_key`].
    holders: HashMap<String, i64>,
}

/// A unique value as `claimed`, `claimed_all` and `Found::holders` hold it: tagged with its
/// field's place, so two unique fields' equal values are told apart.
fn unique_key(u: usize, value: &str) -> String {
    format!("{u}\u{0}{value}")
}

/// A key or unique value as the maps hold it.
fn map_key(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t.clone()),
        Value::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

impl PgBulk {
    pub fn begin(
        conn: &Store,
        e: &'static Entity,
        mode: Mode,
        key: Option<Key>,
        user: &str,
        now: i64,
    ) -> Result<PgBulk> {
        if let Some(why) = unsupported(e) {
            return Err(Error::invalid(why));
        }
        let began = trace::start();
        let defaults = e
            .fields
            .iter()
            .map(|f| match f.default {
                Default::Value(s) => f.kind.parse(s).map_err(Error::internal),
                _ => Ok(Value::Null),
            })
            .collect::<Result<Vec<_>>>()?;
        let users = crate::db::users::names(conn)?
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        // The id crm's writer would give next (`migrate::postgres::ids`), counted in the
        // transaction: the import numbers its records from there, explicitly, so an import
        // rolled back uses no id up, as on SQLite.
        let seq0: i64 =
            conn.value::<i64>("SELECT crm.next_record_id(?)", crate::vals![e.name])? - 1;
        let was_empty: bool = conn
            .query_opt(&format!("SELECT 1 FROM {} LIMIT 1", e.table()), &[])?
            .is_none();
        // The table's own column types; dropped with the transaction.
        conn.batch(&format!(
            "DROP TABLE IF EXISTS pg_temp.crm_import_stage; CREATE TEMP TABLE crm_import_stage ON COMMIT DROP AS SELECT 0::bigint AS ord, 0::bigint AS rid, 0::bigint AS nid, {} FROM {} WITH NO DATA",
            field_list(e),
            e.table()
        ))?;
        let set_aside: bool = conn.value(
            "SELECT to_regprocedure('crm.import_direct(text)') IS NOT NULL",
            &[],
        )?;
        trace::lap("begin", began);
        // Chunks are judged while their COPY runs: no query may run then, so no rule may
        // read the database.
        let checks = crate::rules::RULES
            .iter()
            .any(|r| r.entity == e.name && r.check.is_some());
        let stream = was_empty && mode == Mode::Insert && !checks;
        let docs = if e.search_fields().next().is_some() {
            crate::db::search::pg_stage_begin(conn)?;
            Some(Vec::new())
        } else {
            None
        };
        Ok(PgBulk {
            docs,
            stage_cols: format!("ord, rid, nid, {}", field_list(e)),
            ord: 0,
            staged: 0,
            updates: false,
            inserts: false,
            stream,
            written: false,
            set_aside,
            direct: None,
            deferred: std::cell::Cell::new(false),
            began,
            e,
            mode,
            key,
            user: user.to_string(),
            now,
            today: crate::clock::today().format("%Y-%m-%d").to_string(),
            defaults,
            users,
            seq0,
            next_id: 0,
            consumed: 0,
            next_key: None,
            touched: Touched::default(),
            pending: Vec::with_capacity(CHUNK),
            uniques: (0..e.fields.len())
                .filter(|&i| e.fields[i].unique)
                .collect(),
            burn: false,
            was_empty,
            claimed_all: HashSet::new(),
        })
    }

    /// Takes a row; when a chunk is full, judges and writes it and returns its outcomes.
    pub fn row(
        &mut self,
        conn: &Store,
        row: Row,
    ) -> Result<Vec<std::result::Result<Outcome, String>>> {
        self.pending.push(row);
        if self.pending.len() >= CHUNK {
            if self.stream && self.direct.is_none() {
                // A file of more than a chunk: a load worth setting things aside for.
                let direct = self.set_aside
                    && !self.written
                    && self.staged == 0
                    && conn
                        .value::<bool>("SELECT crm.import_direct(?)", crate::vals![self.e.name])?;
                self.deferred.set(direct);
                self.direct = Some(direct);
            }
            self.chunk(conn)
        } else {
            Ok(Vec::new())
        }
    }

    /// Judges and writes the rows taken so far, the end of the file: their outcomes in
    /// file order. Everything staged is in the table after it.
    pub fn flush(&mut self, conn: &Store) -> Result<Vec<std::result::Result<Outcome, String>>> {
        let out = self.chunk(conn)?;
        self.drain(conn)?;
        Ok(out)
    }

    /// Judges one chunk and stages what it writes; written at once, or (streaming) left
    /// in the staging table for [`PgBulk::drain`].
    fn chunk(&mut self, conn: &Store) -> Result<Vec<std::result::Result<Outcome, String>>> {
        let rows = std::mem::take(&mut self.pending);
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let found = self.find(conn, &rows)?;
        let mut claimed: HashSet<String> = HashSet::new();
        let mut out = Vec::with_capacity(rows.len());
        let t0 = trace::start();
        if self.stream {
            // Judged while the server parses the rows already sent: no query runs in
            // between (no rule reads the database, `find` read what the chunk needs).
            let Store::Postgres(pg) = conn else {
                return Err(Error::internal("the PostgreSQL import on another engine"));
            };
            let direct = self.direct == Some(true);
            let (table, cols) = if direct {
                (
                    self.e.table(),
                    format!(
                        "\"id\", {}, \"created_at\", \"updated_at\"",
                        field_list(self.e)
                    ),
                )
            } else {
                ("crm_import_stage".to_string(), self.stage_cols.clone())
            };
            let n = pg.copy_in(&table, &cols, |put| {
                for row in rows {
                    self.judge_stage(conn, row, &found, &mut claimed, &mut out, put)?;
                }
                Ok(())
            })?;
            self.stage_docs(conn)?;
            if direct {
                self.written |= n > 0;
                // The records are in the table: their index rows can follow.
                if self.docs.is_some() {
                    crate::db::search::pg_stage_write(conn, self.e, false)?;
                }
            } else {
                self.staged += n;
            }
        } else {
            let mut stage: Vec<Vec<Value>> = Vec::new();
            let mut keep = |r: Vec<Value>| -> Result<()> {
                stage.push(r);
                Ok(())
            };
            for row in rows {
                self.judge_stage(conn, row, &found, &mut claimed, &mut out, &mut keep)?;
            }
            if !stage.is_empty() {
                let Store::Postgres(pg) = conn else {
                    return Err(Error::internal("the PostgreSQL import on another engine"));
                };
                self.staged += pg.copy_in("crm_import_stage", &self.stage_cols, |put| {
                    stage.into_iter().try_for_each(put)
                })?;
            }
            self.stage_docs(conn)?;
            self.drain(conn)?;
        }
        trace::lap("chunks", t0);
        self.claimed_all
            .extend(claimed.iter().map(|v| value_hash(v)));
        Ok(out)
    }

    /// One row of a chunk, in file order: judged, its outcome pushed to `out`, and what it
    /// writes handed to `put` (an update with its record's id, an insert with the id it
    /// takes); a refused insert that uses an id up (as on `SQLite`) takes one too.
    fn judge_stage(
        &mut self,
        conn: &Store,
        row: Row,
        found: &Found,
        claimed: &mut HashSet<String>,
        out: &mut Vec<std::result::Result<Outcome, String>>,
        put: &mut dyn FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<()> {
        self.burn = false;
        let r = self.judge(conn, row, found, claimed)?;
        out.push(match r {
            Ok((outcome, Some((rid, d)))) => {
                let nid = if rid.is_none() {
                    self.consumed += 1;
                    Some(self.take_id())
                } else {
                    None
                };
                if rid.is_some() {
                    self.updates = true;
                } else {
                    self.inserts = true;
                }
                if let (Some(docs), Some(id)) = (&mut self.docs, rid.or(nid)) {
                    docs.push((id, crate::db::search::doc(self.e, &d.values)));
                }
                let r = match (self.direct, nid) {
                    (Some(true), Some(id)) => self.table_row(id, d),
                    _ => self.stage_row(rid, nid, d),
                };
                put(r)?;
                Ok(outcome)
            }
            Ok((outcome, None)) => Ok(outcome),
            Err(why) => {
                if self.burn {
                    self.consumed += 1;
                    self.next_id += 1;
                }
                Err(why)
            }
        });
        Ok(())
    }

    /// Sends the index rows of the chunk's records to the search stage.
    fn stage_docs(&mut self, conn: &Store) -> Result<()> {
        if let Some(docs) = &mut self.docs {
            crate::db::search::pg_stage(conn, std::mem::take(docs))?;
        }
        Ok(())
    }

    /// The next id of the import's inserts (and refused inserts that use one up); the
    /// record it names is one this batch wrote.
    fn take_id(&mut self) -> i64 {
        self.next_id += 1;
        let id = self.seq0 + self.next_id;
        self.touched.touch(id);
        id
    }
}

/// The records this batch wrote or looked at (one bit per id): a later row naming one of
/// them repeats an earlier row of the file.
#[derive(Default)]
struct Touched(Vec<u64>);

impl Touched {
    fn has(&self, id: i64) -> bool {
        usize::try_from(id)
            .is_ok_and(|i| self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0))
    }

    fn touch(&mut self, id: i64) {
        let Ok(i) = usize::try_from(id) else { return };
        if self.0.len() <= i / 64 {
            self.0.resize(i / 64 + 1, 0);
        }
        self.0[i / 64] |= 1 << (i % 64);
    }
}

/// A unique value's hash, as the import remembers what it wrote (8 bytes a value).
fn value_hash(v: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}
