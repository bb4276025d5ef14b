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

use super::{Key, Mode, Outcome, Row, is_row_error};
use crate::db::Store;
use crate::db::records::{Draft, Stored, check_key_kept, check_required, field_list};
use crate::db::write::{Taken, show};
use crate::error::{Error, Result};
use crate::schema::{Default, Entity, Field, Kind, Value, ident};

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
        // As `write::keys::next_key_number`: past the sequence and the largest id.
        let seq0: i64 = conn.value(
            &format!(
                "SELECT GREATEST(crm.id_sequence(?), COALESCE(MAX(\"id\"), 0)) FROM {}",
                e.table()
            ),
            crate::vals![e.name],
        )?;
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
        // Explicit ids only when a refused insert must use one up; else the identity's.
        let mut ids = if burns > 0 {
            self.take_ids(conn, inserts + burns)?.into_iter()
        } else {
            Vec::new().into_iter()
        };
        let mut stage: Vec<Vec<Value>> = Vec::new();
        for (ord, rid, d) in &staged {
            let nid = if rid.is_none() { ids.next() } else { None };
            if let Some(d) = d {
                Self::stage(&mut stage, *ord, *rid, nid, d);
            }
        }
        if inserts + updates > 0 {
            self.write(conn, stage, updates > 0, inserts > 0, burns > 0)?;
        }
        Ok(out)
    }

    /// The next `n` ids of the table, in order.
    fn take_ids(&self, conn: &Store, n: usize) -> Result<Vec<i64>> {
        conn.query(
            "SELECT crm.take_ids(?, ?)",
            crate::vals![self.e.name, i64::try_from(n).unwrap_or(i64::MAX)],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect()
    }

    /// One query per reference field, one for the existing records by key, one for the
    /// holders of the chunk's unique values (given, or generated candidates).
    fn find(&self, conn: &Store, rows: &[Row]) -> Result<Found> {
        let mut found = Found::default();
        for (i, f) in self.e.fields.iter().enumerate() {
            let mut m = HashMap::new();
            if let Kind::Ref(target) = f.kind {
                let target = Entity::get(target)?;
                let texts: HashSet<&str> = rows
                    .iter()
                    .filter(|r| r.is_given(i))
                    .filter_map(|r| match &r.values[i] {
                        Value::Text(t) => Some(t.as_str()),
                        _ => None,
                    })
                    .collect();
                if !texts.is_empty() {
                    let list = json_list(texts.iter().copied());
                    // By key first, then by id, as `RefSql::find`.
                    if let Some(k) = target.key {
                        for r in conn.query(
                            &format!("SELECT {k}::text, \"id\" FROM {} WHERE {k} IN (SELECT jsonb_array_elements_text((?::text)::jsonb))", target.table(), k = ident(k)),
                            std::slice::from_ref(&list),
                        )? {
                            m.insert(r.get::<String>(0)?, r.get::<i64>(1)?);
                        }
                    }
                    let ids: Vec<String> = texts
                        .iter()
                        .filter(|t| !m.contains_key(**t))
                        .filter_map(|t| t.trim().parse::<i64>().ok().map(|n| n.to_string()))
                        .collect();
                    if !ids.is_empty() {
                        let mut by_id = HashMap::new();
                        for r in conn.query(
                            &format!("SELECT \"id\" FROM {} WHERE \"id\" IN (SELECT (jsonb_array_elements_text((?::text)::jsonb))::bigint)", target.table()),
                            &[json_list(ids.iter().map(String::as_str))],
                        )? {
                            let id: i64 = r.get(0)?;
                            by_id.insert(id, id);
                        }
                        for t in &texts {
                            if let Some(id) =
                                t.trim().parse::<i64>().ok().and_then(|n| by_id.get(&n))
                            {
                                m.entry((*t).to_string()).or_insert(*id);
                            }
                        }
                    }
                }
            }
            found.refs.push(m);
        }
        if let (Mode::Upsert | Mode::Update, Some(key)) = (self.mode, self.key) {
            let keys: Vec<String> = rows
                .iter()
                .filter_map(|r| self.key_value(key, r))
                .filter_map(|v| map_key(&v))
                .collect();
            if !keys.is_empty() {
                let (col, cast) = match key {
                    Key::Id => ("\"id\"".to_string(), "::bigint"),
                    Key::Field(f) => (ident(f.name), ""),
                };
                let n = self.e.fields.len();
                for r in conn.query(
                    &format!(
                        "SELECT \"id\", {}, \"created_at\", \"updated_at\", {col}::text FROM {} WHERE {col} IN (SELECT (jsonb_array_elements_text((?::text)::jsonb)){cast})",
                        field_list(self.e),
                        self.e.table()
                    ),
                    &[json_list(keys.iter().map(String::as_str))],
                )? {
                    let mut v = r.into_values();
                    let Some(Value::Text(k)) = v.pop() else {
                        continue;
                    };
                    let updated_at = match v.pop() { Some(Value::Integer(i)) => i, _ => 0 };
                    let created_at = match v.pop() { Some(Value::Integer(i)) => i, _ => 0 };
                    let id = match v.first() { Some(Value::Integer(i)) => *i, _ => 0 };
                    let values = v.into_iter().skip(1).take(n).collect();
                    found.existing.insert(k, Stored {
                        id,
                        draft: Draft { entity: self.e, values },
                        created_at,
                        updated_at,
                    });
                }
            }
        }
        if let Some(u) = self.unique {
            let f = &self.e.fields[u];
            let mut vals: Vec<String> = rows
                .iter()
                .filter(|r| r.is_given(u))
                .filter_map(|r| map_key(&r.values[u]))
                .collect();
            if let Default::Generated(prefix) = f.default {
                // Candidates for the codes this chunk may generate: none when every row
                // gives its code; else from the counter (or where it will start: past
                // the ids this chunk's rows may use first) on.
                let missing = rows
                    .iter()
                    .filter(|r| !r.is_given(u) || r.values[u] == Value::Null)
                    .count();
                if missing > 0 {
                    let base = self.next_key.unwrap_or(self.seq0 + self.consumed + 1);
                    let n = i64::try_from(rows.len() + missing).unwrap_or(i64::MAX);
                    for n in base..=base + n {
                        vals.push(format!("{prefix}{n:06}"));
                    }
                }
            }
            if self.was_empty {
                // A table empty when the import began holds only what it wrote: only a
                // value it claimed may be taken (a hash hit, confirmed by the query).
                vals.retain(|v| self.claimed_all.contains(&value_hash(v)));
            }
            if vals.is_empty() {
                return Ok(found);
            }
            for r in conn.query(
                &format!("SELECT {c}::text, \"id\" FROM {} WHERE {c} IN (SELECT jsonb_array_elements_text((?::text)::jsonb))", self.e.table(), c = ident(f.name)),
                &[json_list(vals.iter().map(String::as_str))],
            )? {
                found.holders.insert(r.get(0)?, r.get(1)?);
            }
        }
        Ok(found)
    }

    fn key_value(&self, key: Key, row: &Row) -> Option<Value> {
        let v = match key {
            Key::Id => row.id.map_or(Value::Null, Value::Integer),
            Key::Field(f) => {
                let i = self.e.fields.iter().position(|g| std::ptr::eq(g, f))?;
                if row.is_given(i) {
                    row.values[i].clone()
                } else {
                    Value::Null
                }
            }
        };
        (v != Value::Null).then_some(v)
    }

    /// One row, judged as `Bulk::row` and the writer judge it on `SQLite`; `Ok` carries
    /// what to stage (the record's id for an update, and its values).
    #[allow(clippy::type_complexity)]
    fn judge(
        &mut self,
        conn: &Store,
        mut row: Row,
        found: &Found,
        claimed: &mut HashSet<String>,
    ) -> Result<std::result::Result<(Outcome, Option<(Option<i64>, Draft)>), String>> {
        for (i, f) in self.e.fields.iter().enumerate() {
            if !row.is_given(i) {
                continue;
            }
            let Value::Text(t) = &row.values[i] else {
                continue;
            };
            match f.kind {
                Kind::Ref(target) => match found.refs[i].get(t) {
                    Some(id) => row.values[i] = Value::Integer(*id),
                    None => {
                        return Ok(Err(format!("{}: no {target} with id or key '{t}'", f.name)));
                    }
                },
                Kind::User if !self.users.contains(t) => {
                    return Ok(Err(format!("{}: no user named '{t}'", f.name)));
                }
                _ => {}
            }
        }
        let existing = match (self.mode, self.key) {
            (Mode::Insert, _) | (_, None) => None,
            (_, Some(key)) => match self.key_value(key, &row) {
                None if self.mode == Mode::Update || matches!(key, Key::Id) => {
                    return Ok(Err(format!("{}: empty key", key.name())));
                }
                None => None,
                Some(kv) => {
                    let k = map_key(&kv).unwrap_or_default();
                    let repeat = claimed.contains(&k) && matches!(key, Key::Field(f) if f.unique);
                    match found.existing.get(&k) {
                        _ if repeat => {
                            return Ok(Err(format!(
                                "{}: '{}' repeats an earlier row of this file",
                                key.name(),
                                show(&kv)
                            )));
                        }
                        Some(s) if self.touched.has(s.id) => {
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
            },
        };
        match existing {
            Some(old) => self.judge_update(conn, old, row, found, claimed),
            None => self.judge_insert(conn, row, found, claimed),
        }
    }

    #[allow(clippy::type_complexity)]
    fn judge_insert(
        &mut self,
        conn: &Store,
        row: Row,
        found: &Found,
        claimed: &mut HashSet<String>,
    ) -> Result<std::result::Result<(Outcome, Option<(Option<i64>, Draft)>), String>> {
        let next_key = self.next_key;
        let mut d = Draft {
            entity: self.e,
            values: row.values,
        };
        self.fill_defaults(&mut d, found, claimed);
        let res = (|| {
            if let Err(err) =
                crate::rules::apply(conn, &mut d, None).and_then(|()| check_required(&d))
            {
                return if is_row_error(&err) {
                    Ok(Err(err.message))
                } else {
                    Err(err)
                };
            }
            if let Some(why) = self.taken(&d, None, None, found, claimed) {
                self.burn = true;
                return Ok(Err(why));
            }
            Ok(Ok(()))
        })();
        match res {
            Ok(Ok(())) => {
                if let Some(u) = self.unique.and_then(|u| map_key(&d.values[u])) {
                    claimed.insert(u);
                }
                Ok(Ok((Outcome::Inserted, Some((None, d)))))
            }
            other => {
                // A record that does not land gives its generated key back.
                self.next_key = next_key;
                other.map(|r| r.map(|()| unreachable!("handled above")))
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn judge_update(
        &mut self,
        conn: &Store,
        old: &Stored,
        row: Row,
        found: &Found,
        claimed: &mut HashSet<String>,
    ) -> Result<std::result::Result<(Outcome, Option<(Option<i64>, Draft)>), String>> {
        self.touched.touch(old.id);
        let mut new = row.over(&old.draft);
        if let Err(err) = check_key_kept(&old.draft, &new)
            .and_then(|()| crate::rules::apply(conn, &mut new, Some(old)))
            .and_then(|()| check_required(&new))
        {
            return if is_row_error(&err) {
                Ok(Err(err.message))
            } else {
                Err(err)
            };
        }
        if new == old.draft {
            return Ok(Ok((Outcome::Unchanged, None)));
        }
        if let Some(why) = self.taken(&new, Some(old.id), Some(&old.draft), found, claimed) {
            return Ok(Err(why));
        }
        if let Some(u) = self.unique.and_then(|u| map_key(&new.values[u])) {
            claimed.insert(u);
        }
        Ok(Ok((Outcome::Updated, Some((Some(old.id), new)))))
    }

    /// The reason a unique value of `d` is taken, as `Taken::reason` words it.
    fn taken(
        &self,
        d: &Draft,
        except: Option<i64>,
        only_changed: Option<&Draft>,
        found: &Found,
        claimed: &HashSet<String>,
    ) -> Option<String> {
        let u = self.unique?;
        let f: &'static Field = &self.e.fields[u];
        let v = &d.values[u];
        if *v == Value::Null || only_changed.is_some_and(|o| o.values[u] == *v) {
            return None;
        }
        let k = map_key(v)?;
        if claimed.contains(&k) {
            return Some(format!(
                "{}: '{}' repeats an earlier row of this file",
                f.name,
                show(v)
            ));
        }
        let holder = *found.holders.get(&k).filter(|h| Some(**h) != except)?;
        let t = Taken {
            field: f,
            value: v.clone(),
            holder,
        };
        let upsert = self.mode == Mode::Insert && self.key.is_some_and(|k| k.name() == f.name);
        Some(t.reason(self.touched.has(holder), upsert))
    }

    /// Defaults for empty fields, as the writer fills them.
    fn fill_defaults(&mut self, d: &mut Draft, found: &Found, claimed: &HashSet<String>) {
        for (i, f) in self.e.fields.iter().enumerate() {
            if d.values[i] != Value::Null {
                continue;
            }
            d.values[i] = match f.default {
                Default::None => Value::Null,
                Default::Value(_) => self.defaults[i].clone(),
                Default::CurrentUser => Value::Text(self.user.clone()),
                Default::Generated(prefix) => {
                    let mut n = self.next_key.unwrap_or(self.seq0 + self.consumed + 1);
                    loop {
                        let c = format!("{prefix}{n:06}");
                        n += 1;
                        if !found.holders.contains_key(&c) && !claimed.contains(&c) {
                            self.next_key = Some(n);
                            break Value::Text(c);
                        }
                    }
                }
                Default::Today => Value::Text(self.today.clone()),
                Default::Now => Value::Integer(self.now),
            };
        }
    }

    /// One staged row: its place in the chunk, the record it updates or the id it takes.
    fn stage(out: &mut Vec<Vec<Value>>, ord: usize, rid: Option<i64>, nid: Option<i64>, d: &Draft) {
        let mut row = Vec::with_capacity(d.values.len() + 3);
        row.push(Value::Integer(i64::try_from(ord).unwrap_or(i64::MAX)));
        row.push(rid.map_or(Value::Null, Value::Integer));
        row.push(nid.map_or(Value::Null, Value::Integer));
        row.extend(d.values.iter().cloned());
        out.push(row);
    }

    /// Sends the staged rows and writes them: the updates, then the inserts in file order.
    fn write(
        &mut self,
        conn: &Store,
        stage: Vec<Vec<Value>>,
        updates: bool,
        inserts: bool,
        explicit: bool,
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
                    "INSERT INTO {t} ({id}{cols}, \"created_at\", \"updated_at\") SELECT {nid}{}, {now}, {now} FROM crm_import_stage s WHERE s.rid IS NULL ORDER BY s.ord RETURNING \"id\"",
                    sel.join(", "),
                    id = if explicit { "\"id\", " } else { "" },
                    nid = if explicit { "s.nid, " } else { "" },
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
