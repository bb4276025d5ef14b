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

use std::collections::{HashMap, HashSet};

mod find;
mod judge;

use super::{Key, Mode, Outcome, Row};
use crate::db::Store;
use crate::db::records::{Draft, Stored, field_list};
use crate::error::{Error, Result};
use crate::schema::{Default, Entity, Value, ident};

/// Rows judged and written together: big enough that the per-chunk statements cost
/// nothing per row, small enough to keep memory flat.
pub const CHUNK: usize = 8192;

/// One running import on `PostgreSQL`.
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
    /// The unique field, if the entity has one (crm's entities have at most one).
    unique: Option<usize>,
    /// Whether the table held no record when the import began, and the hashes of the
    /// unique values the import has written so far: then only those can be taken, and
    /// the others need no lookup (a million-row first load looks up none).
    was_empty: bool,
    claimed_all: HashSet<u64>,
    /// Set by the judging of a row whose insert a taken unique value refused: on `SQLite`
    /// that INSERT used up an id, so it does here too.
    burn: bool,
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
    holders: HashMap<String, i64>,
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
        Ok(PgBulk {
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
            unique: e.fields.iter().position(|f| f.unique),
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
            self.flush(conn)
        } else {
            Ok(Vec::new())
        }
    }

    /// Judges and writes the rows taken so far; their outcomes in file order.
    pub fn flush(&mut self, conn: &Store) -> Result<Vec<std::result::Result<Outcome, String>>> {
        let rows = std::mem::take(&mut self.pending);
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let found = self.find(conn, &rows)?;
        let mut claimed: HashSet<String> = HashSet::new();
        let mut out = Vec::with_capacity(rows.len());
        // What to write, in file order: an update (its record), an insert, or the id a
        // refused insert uses up (`None` draft).
        let mut staged: Vec<(usize, Option<i64>, Option<Draft>)> = Vec::new();
        let (mut inserts, mut updates, mut burns) = (0usize, 0usize, 0usize);
        for (ord, row) in rows.into_iter().enumerate() {
            self.burn = false;
            let r = self.judge(conn, row, &found, &mut claimed)?;
            out.push(match r {
                Ok((outcome, Some((rid, d)))) => {
                    if rid.is_some() {
                        updates += 1;
                    } else {
                        inserts += 1;
                    }
                    if rid.is_none() {
                        self.consumed += 1;
                    }
                    staged.push((ord, rid, Some(d)));
                    Ok(outcome)
                }
                Ok((outcome, None)) => Ok(outcome),
                Err(why) => {
                    if self.burn {
                        burns += 1;
                        self.consumed += 1;
                        staged.push((ord, None, None));
                    }
                    Err(why)
                }
            });
        }
        self.claimed_all
            .extend(claimed.iter().map(|v| value_hash(v)));
        if inserts + updates == 0 && burns == 0 {
            return Ok(out);
        }
        let mut stage: Vec<Vec<Value>> = Vec::with_capacity(inserts + updates);
        for (ord, rid, d) in staged {
            // Inserts and the refused inserts that use an id up, in file order.
            let nid = rid.is_none().then(|| {
                self.next_id += 1;
                self.seq0 + self.next_id
            });
            if let Some(d) = d {
                Self::stage(&mut stage, ord, rid, nid, d);
            }
        }
        if inserts + updates > 0 {
            self.write(conn, stage, updates > 0, inserts > 0)?;
        }
        Ok(out)
    }

    /// Moves the table's identity past the ids the import gave (as the writer does), so a
    /// row added without crm's id (`psql`) does not collide with them.
    pub fn end(&self, conn: &Store) -> Result<()> {
        conn.value::<i64>("SELECT crm.next_record_id(?)", crate::vals![self.e.name])?;
        Ok(())
    }

    /// One staged row: its place in the chunk, the record it updates or the id it takes.
    fn stage(out: &mut Vec<Vec<Value>>, ord: usize, rid: Option<i64>, nid: Option<i64>, d: Draft) {
        let mut row = Vec::with_capacity(d.values.len() + 3);
        row.push(Value::Integer(i64::try_from(ord).unwrap_or(i64::MAX)));
        row.push(rid.map_or(Value::Null, Value::Integer));
        row.push(nid.map_or(Value::Null, Value::Integer));
        row.extend(d.values);
        out.push(row);
    }

    /// Sends the staged rows and writes them: the updates, then the inserts in file order.
    fn write(
        &mut self,
        conn: &Store,
        stage: Vec<Vec<Value>>,
        updates: bool,
        inserts: bool,
    ) -> Result<()> {
        let Store::Postgres(pg) = conn else {
            return Err(Error::internal("the PostgreSQL import on another engine"));
        };
        let t = self.e.table();
        pg.batch("TRUNCATE crm_import_stage")?;
        // Binary COPY, each value bound as its column's type (`Pg::copy_in`).
        pg.copy_in(
            "crm_import_stage",
            &format!("ord, rid, nid, {}", field_list(self.e)),
            |put| stage.into_iter().try_for_each(put),
        )?;
        let now = self.now;
        if updates {
            let sets: Vec<String> = self
                .e
                .fields
                .iter()
                .map(|f| format!("{c} = s.{c}", c = ident(f.name)))
                .collect();
            pg.batch(&format!(
                "UPDATE {t} SET {}, \"updated_at\" = GREATEST({now}, {t}.\"updated_at\") FROM crm_import_stage s WHERE s.rid IS NOT NULL AND {t}.\"id\" = s.rid",
                sets.join(", ")
            ))?;
        }
        if inserts {
            let cols = field_list(self.e);
            let sel: Vec<String> = self
                .e
                .fields
                .iter()
                .map(|f| format!("s.{}", ident(f.name)))
                .collect();
            for r in conn.query(
                &format!(
                    "INSERT INTO {t} (\"id\", {cols}, \"created_at\", \"updated_at\") SELECT s.nid, {}, {now}, {now} FROM crm_import_stage s WHERE s.rid IS NULL ORDER BY s.ord RETURNING \"id\"",
                    sel.join(", "),

                ),
                &[],
            )? {
                self.touched.touch(r.get(0)?);
            }
        }
        Ok(())
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
