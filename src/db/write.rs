//! The one write path for records: defaults and generated keys, references, the INSERT,
//! UPDATE and DELETE statements, unique conflicts and the rules' calls, for commands
//! (`add`, `edit`, `delete`: every field audited) and `crm import` (the batch recorded
//! instead) alike. Its statements are built once per [`Writer`] and held, so an import binds
//! one prepared statement per row and makes no SQL string.

use std::collections::HashSet;

use rusqlite::{CachedStatement, ErrorCode, params_from_iter};

use crate::db::Store;
use crate::db::audit::{self, Entry, with_audit_detail};
use crate::db::records::{Draft, Stored, check_key_kept, check_required, show_value};
use crate::db::search;
use crate::error::{Error, ErrorKind, Result};
use crate::schema::{Default, Entity, Field, Kind, Value};
use crate::vals;

mod change;
mod command;
mod keys;
mod sql;

pub use command::{delete, fill_defaults, insert, update};
pub use keys::{Taken, show};

/// How a writer's changes reach the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditPolicy {
    /// One audit row per written field (commands); `detail` says why (a revert names its batch).
    PerField { detail: Option<String> },
    /// The import batch with this id records what it did: an `import_change` row per
    /// updated record (the caller keeps the inserted id ranges), one audit entry at its end.
    PerBatch(i64),
}

/// Why a record was not written: a check of the record, or a unique value already taken.
/// Failures of the run itself (the disk, a bug) are the outer `Err`.
#[derive(Debug)]
pub enum Refused {
    Check(Error),
    Taken(Option<Taken>),
}

impl Refused {
    /// The error a command fails with.
    pub fn into_error(self, e: &Entity) -> Error {
        match self {
            Refused::Check(err) => err,
            Refused::Taken(Some(t)) => t.error(e),
            Refused::Taken(None) => {
                Error::conflict(format!("{}: a unique value is already taken", e.name))
            }
        }
    }
}

/// Writes records of one entity for one user, in the caller's transaction.
pub struct Writer<'c> {
    conn: &'c Store,
    e: &'static Entity,
    audit: AuditPolicy,
    user: String,
    now: i64,
    today: String,
    sql: sql::Sql,
    defaults: Vec<Value>,
    /// Held, not looked up in the statement cache per row: that lookup cost 5% of an import.
    insert: Option<CachedStatement<'c>>,
    update: Option<CachedStatement<'c>>,
    next_key: Option<i64>,
    users: Option<HashSet<String>>,
    /// What a change of a customer's owner is recorded as (`db::ownership`) and why.
    owner_event: (&'static str, Option<String>),
    /// The `created_at` of the record being inserted when not `now` (a historical import).
    created: Option<i64>,
    /// The `updated_at` an update writes when not `now` (a merge revert puts the old back).
    stamp: Option<i64>,
}

impl<'c> Writer<'c> {
    pub fn new(
        conn: &'c Store,
        e: &'static Entity,
        audit: AuditPolicy,
        user: &str,
    ) -> Result<Writer<'c>> {
        let defaults = e
            .fields
            .iter()
            .map(|f| match f.default {
                Default::Value(s) => f.kind.parse(s).map_err(Error::internal),
                _ => Ok(Value::Null),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Writer {
            conn,
            e,
            audit,
            user: user.to_string(),
            now: crate::clock::now(),
            today: crate::clock::today().format("%Y-%m-%d").to_string(),
            sql: sql::Sql::new(e, conn.dialect())?,
            defaults,
            insert: None,
            update: None,
            next_key: None,
            users: None,
            owner_event: ("edit", None),
            created: None,
            stamp: None,
        })
    }

    /// Records a change of a customer's owner made by this writer as `action` (claim,
    /// release, assign, sweep, transfer …; "edit" unless said) with its reason.
    #[must_use]
    pub fn owner_event(mut self, action: &'static str, reason: Option<String>) -> Self {
        self.owner_event = (action, reason);
        self
    }

    /// Stamps this writer's records with `now` (an import: the time its batch records).
    #[must_use]
    pub fn at(mut self, now: i64) -> Self {
        self.now = now;
        self
    }

    /// Fills defaults for fields left empty.
    pub fn fill_defaults(&mut self, d: &mut Draft) -> Result<()> {
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
        Ok(())
    }

    /// Resolves field `i`'s text to a reference's id, or checks a user name; `Err` is why not.
    pub fn resolve(&mut self, i: usize, v: Value) -> Result<std::result::Result<Value, String>> {
        let Value::Text(t) = &v else { return Ok(Ok(v)) };
        let f: &Field = &self.e.fields[i];
        match f.kind {
            Kind::Ref(_) => {
                let r = self.sql.refs[i].as_ref().expect("a reference field");
                Ok(match r.find(self.conn, t)? {
                    Some(id) => Ok(Value::Integer(id)),
                    None => Err(format!("no {} with id or key '{t}'", r.target.name)),
                })
            }
            Kind::User => {
                if self.users.is_none() {
                    self.users = Some(
                        crate::db::users::names(self.conn)?
                            .into_iter()
                            .map(|(_, name)| name)
                            .collect(),
                    );
                }
                let known = self.users.as_ref().is_some_and(|u| u.contains(t.as_str()));
                Ok(if known {
                    Ok(v)
                } else {
                    Err(format!("no user named '{t}'"))
                })
            }
            _ => Ok(Ok(v)),
        }
    }

    /// Inserts a record: defaults, rules, required fields, then the row and its audit.
    pub fn insert(&mut self, mut d: Draft) -> Result<std::result::Result<(i64, Draft), Refused>> {
        // A record that does not land gives its generated key back: codes never skip.
        let next_key = self.next_key;
        let res = self.insert_checked(&mut d);
        if !matches!(res, Ok(Ok(_))) {
            self.next_key = next_key;
        }
        Ok(res?.map(|id| (id, d)))
    }

    /// Inserts a record created at `created_at` (a historical import), else now.
    pub fn insert_at(
        &mut self,
        d: Draft,
        created_at: Option<i64>,
    ) -> Result<std::result::Result<(i64, Draft), Refused>> {
        self.created = created_at;
        let res = self.insert(d);
        self.created = None;
        res
    }

    fn insert_checked(&mut self, d: &mut Draft) -> Result<std::result::Result<i64, Refused>> {
        self.fill_defaults(d)?;
        if let Err(err) = self.apply_rules(d, None).and_then(|()| check_required(d)) {
            return Ok(Err(Refused::Check(err)));
        }
        let now = Value::Integer(self.now);
        let created = Value::Integer(self.created.unwrap_or(self.now));
        let id = match self.conn {
            Store::Sqlite(c) => {
                if self.insert.is_none() {
                    self.insert = Some(c.prepare_cached(&self.sql.insert)?);
                }
                let stmt = self.insert.as_mut().expect("prepared above");
                let res = stmt.execute(params_from_iter(d.values.iter().chain([&created, &now])));
                match res {
                    Ok(0) => {
                        return Ok(Err(Refused::Taken(self.taken(d, None, None)?)));
                    }
                    Ok(_) => c.last_insert_rowid(),
                    Err(err) if self.per_batch() && is_constraint(&err) => {
                        return Ok(Err(Refused::Taken(self.taken(d, None, None)?)));
                    }
                    Err(err) => return Err(err.into()),
                }
            }
            Store::Postgres(_) => {
                // Looked up first, as SQLite's insert would refuse it before anything else.
                // Writers take turns (`begin_write`), so no other crm writer takes the value
                // in between.
                if let Some(t) = self.taken(d, None, None)? {
                    return Ok(Err(Refused::Taken(Some(t))));
                }
                let id = Value::Integer(keys::next_key_number(self.conn, self.e)?);
                let params: Vec<Value> = std::iter::once(&id)
                    .chain(&d.values)
                    .chain([&created, &now])
                    .cloned()
                    .collect();
                let detail = self.detail();
                let res = with_audit_detail(self.conn, detail.as_deref(), || {
                    self.conn.query_opt(&self.sql.insert, &params)
                });
                match res {
                    Ok(Some(r)) => r.get(0)?,
                    Ok(None) => return Ok(Err(Refused::Taken(self.taken(d, None, None)?))),
                    Err(err) => return Err(refused_by_policy(err, self.e, None)),
                }
            }
        };
        if let AuditPolicy::PerField { detail } = &self.audit {
            let entries: Vec<Entry> = self
                .e
                .fields
                .iter()
                .zip(&d.values)
                .filter(|(_, v)| **v != Value::Null)
                .map(|(f, v)| Entry {
                    user: Some(&self.user),
                    action: "create",
                    entity: Some(self.e.name),
                    record_id: Some(id),
                    field: Some(f.name),
                    new: show_value(f, v),
                    detail: detail.clone(),
                    ..Entry::default()
                })
                .collect();
            audit::log(self.conn, &entries)?;
        }
        search::add(self.conn, self.e, id, &d.values)?;
        self.after_write(d, None, id)?;
        Ok(Ok(id))
    }

    /// Changes a stored record to `new`: the key kept, rules, required fields, unique
    /// values, then the row and its audit. `Ok(false)`: nothing changed.
    pub fn update(
        &mut self,
        old: &Stored,
        mut new: Draft,
    ) -> Result<std::result::Result<bool, Refused>> {
        if let Err(err) = check_key_kept(&old.draft, &new)
            .and_then(|()| self.apply_rules(&mut new, Some(old)))
            .and_then(|()| check_required(&new))
        {
            return Ok(Err(Refused::Check(err)));
        }
        if new == old.draft {
            return Ok(Ok(false));
        }
        if let Some(t) = self.taken(&new, Some(old.id), Some(&old.draft))? {
            return Ok(Err(Refused::Taken(Some(t))));
        }
        Ok(self.write_update(old, &new)?.map(|()| true))
    }

    /// Puts a record back to earlier values (a revert): rules run, the record's own checks
    /// do not (what it held before may be what they would refuse now).
    pub fn restore(&mut self, old: &Stored, mut new: Draft) -> Result<()> {
        self.apply_rules(&mut new, Some(old))?;
        self.write_update(old, &new)?
            .map_err(|r| r.into_error(self.e))
    }

    /// [`Writer::restore`] with the record's `updated_at` set back to `updated_at` too (a
    /// merge revert: the record reads exactly as it did before the merge).
    pub fn restore_stamped(&mut self, old: &Stored, new: Draft, updated_at: i64) -> Result<()> {
        self.stamp = Some(updated_at);
        let r = self.restore(old, new);
        self.stamp = None;
        r
    }

    /// Puts a deleted record back with its own id, values and times (a merge revert): no
    /// defaults, no rules (it held these values), audited as a create, indexed for search.
    pub fn reinsert(&mut self, old: &Stored) -> Result<()> {
        let sql = &self.sql.reinsert;
        let params: Vec<Value> = std::iter::once(Value::Integer(old.id))
            .chain(old.draft.values.iter().cloned())
            .chain([
                Value::Integer(old.created_at),
                Value::Integer(old.updated_at),
            ])
            .collect();
        let detail = self.detail();
        let n = with_audit_detail(self.conn, detail.as_deref(), || {
            self.conn.execute(sql, &params)
        })
        .map_err(|err| refused_by_policy(err, self.e, Some(old.id)))?;
        if n == 0 {
            let t = self.taken(&old.draft, None, None)?;
            return Err(Refused::Taken(t).into_error(self.e));
        }
        if let AuditPolicy::PerField { detail } = &self.audit {
            let entries: Vec<Entry> = self
                .e
                .fields
                .iter()
                .zip(&old.draft.values)
                .filter(|(_, v)| **v != Value::Null)
                .map(|(f, v)| Entry {
                    user: Some(&self.user),
                    action: "create",
                    entity: Some(self.e.name),
                    record_id: Some(old.id),
                    field: Some(f.name),
                    new: show_value(f, v),
                    detail: detail.clone(),
                    ..Entry::default()
                })
                .collect();
            audit::log(self.conn, &entries)?;
        }
        search::add(self.conn, self.e, old.id, &old.draft.values)?;
        self.after_write(&old.draft, None, old.id)
    }

    fn write_update(
        &mut self,
        old: &Stored,
        new: &Draft,
    ) -> Result<std::result::Result<(), Refused>> {
        let at = Value::Integer(self.stamp.unwrap_or_else(|| self.now.max(old.updated_at)));
        let id = Value::Integer(old.id);
        match self.conn {
            Store::Sqlite(c) => {
                if self.update.is_none() {
                    self.update = Some(c.prepare_cached(&self.sql.update)?);
                }
                let stmt = self.update.as_mut().expect("prepared above");
                match stmt.execute(params_from_iter(new.values.iter().chain([&at, &id]))) {
                    Ok(_) => {}
                    Err(err) if is_constraint(&err) && !self.per_field() => {
                        return Ok(Err(Refused::Taken(self.taken(new, Some(old.id), None)?)));
                    }
                    Err(err) => return Err(err.into()),
                }
            }
            Store::Postgres(_) => {
                let params: Vec<Value> = new.values.iter().chain([&at, &id]).cloned().collect();
                let detail = self.detail();
                let res = with_audit_detail(self.conn, detail.as_deref(), || {
                    self.conn.execute(&self.sql.update, &params)
                });
                match res {
                    // The row policy hid the record from this update: refused, as crm's
                    // own check would have.
                    Ok(0) => return Err(denied_by_policy(self.e, Some(old.id))),
                    Ok(_) => {}
                    Err(err) if err.kind == ErrorKind::Conflict && !self.per_field() => {
                        return Ok(Err(Refused::Taken(self.taken(new, Some(old.id), None)?)));
                    }
                    Err(err) => return Err(refused_by_policy(err, self.e, Some(old.id))),
                }
            }
        }
        match &self.audit {
            AuditPolicy::PerField { detail } => {
                let entries: Vec<Entry> = self
                    .e
                    .fields
                    .iter()
                    .zip(old.draft.values.iter().zip(&new.values))
                    .filter(|(_, (o, n))| o != n)
                    .map(|(f, (o, n))| Entry {
                        user: Some(&self.user),
                        action: "update",
                        entity: Some(self.e.name),
                        record_id: Some(old.id),
                        field: Some(f.name),
                        old: show_value(f, o),
                        new: show_value(f, n),
                        detail: detail.clone(),
                    })
                    .collect();
                audit::log(self.conn, &entries)?;
            }
            // On PostgreSQL the import's statement trigger records the change itself.
            AuditPolicy::PerBatch(batch) if self.conn.is_sqlite() => {
                change::record_change(self.conn, *batch, old, new, self.now.max(old.updated_at))?;
            }
            AuditPolicy::PerBatch(_) => {}
        }
        search::replace(self.conn, self.e, old.id, &old.draft.values, &new.values)?;
        self.owner_changed(old, new)?;
        self.after_write(new, Some(&old.draft), old.id)?;
        Ok(Ok(()))
    }

    /// Deletes one record (what references it is the caller's to refuse or cascade),
    /// auditing every old value.
    pub fn delete(&mut self, old: &Stored) -> Result<()> {
        let detail = self.detail();
        let n = with_audit_detail(self.conn, detail.as_deref(), || {
            self.conn.execute(&self.sql.delete, vals![old.id])
        })
        .map_err(|err| refused_by_policy(err, self.e, Some(old.id)))?;
        if n == 0 && !self.conn.is_sqlite() {
            return Err(denied_by_policy(self.e, Some(old.id)));
        }
        let detail = self.detail();
        let mut entries: Vec<Entry> = self
            .e
            .fields
            .iter()
            .zip(&old.draft.values)
            .filter(|(_, v)| **v != Value::Null)
            .map(|(f, v)| Entry {
                user: Some(&self.user),
                action: "delete",
                entity: Some(self.e.name),
                record_id: Some(old.id),
                field: Some(f.name),
                old: show_value(f, v),
                detail: detail.clone(),
                ..Entry::default()
            })
            .collect();
        if entries.is_empty() {
            entries.push(Entry {
                user: Some(&self.user),
                action: "delete",
                entity: Some(self.e.name),
                record_id: Some(old.id),
                detail,
                ..Entry::default()
            });
        }
        audit::log(self.conn, &entries)?;
        search::remove(self.conn, self.e, old.id, old.id)?;
        self.after_delete(&old.draft, old.id)
    }

    /// Deletes the records with ids `lo..=hi` (a revert's inserted range; `drafts` are those
    /// still there), auditing one row per record with its values as one JSON object: the
    /// values stay in the log as `crm delete` keeps them, at a tenth of the rows (a revert
    /// of a million records writes a million rows, not one per field). Returns how many.
    pub fn delete_range(&mut self, lo: i64, hi: i64, drafts: &[(i64, Draft)]) -> Result<i64> {
        let detail = self.detail();
        let n = with_audit_detail(self.conn, detail.as_deref(), || {
            self.conn.execute(&self.sql.delete_range, vals![lo, hi])
        })?;
        let detail = self.detail();
        let entries: Vec<Entry> = drafts
            .iter()
            .map(|(rid, d)| Entry {
                user: Some(&self.user),
                action: "delete",
                entity: Some(self.e.name),
                record_id: Some(*rid),
                old: Some(values_json(d)),
                detail: detail.clone(),
                ..Entry::default()
            })
            .collect();
        audit::log(self.conn, &entries)?;
        search::remove(self.conn, self.e, lo, hi)?;
        for (rid, d) in drafts {
            self.after_delete(d, *rid)?;
        }
        Ok(i64::try_from(n).unwrap_or(0))
    }

    fn detail(&self) -> Option<String> {
        match &self.audit {
            AuditPolicy::PerField { detail } => detail.clone(),
            AuditPolicy::PerBatch(_) => None,
        }
    }

    fn per_field(&self) -> bool {
        matches!(self.audit, AuditPolicy::PerField { .. })
    }

    fn per_batch(&self) -> bool {
        !self.per_field()
    }

    // The rules' three hooks, each called from this one place.
    fn apply_rules(&self, d: &mut Draft, old: Option<&Stored>) -> Result<()> {
        crate::rules::apply(self.conn, d, old)
    }

    /// A customer whose owner changed gets its ownership event (SPEC "Customer pool").
    fn owner_changed(&self, old: &Stored, new: &Draft) -> Result<()> {
        if self.e.name != "customer" {
            return Ok(());
        }
        let (from, to) = (old.draft.text("owner"), new.text("owner"));
        if from == to {
            return Ok(());
        }
        let action = match self.audit {
            AuditPolicy::PerBatch(_) => "import",
            AuditPolicy::PerField { .. } => self.owner_event.0,
        };
        crate::db::ownership::record(
            self.conn,
            &crate::db::ownership::Event {
                customer_id: old.id,
                at: self.now,
                user: self.user.clone(),
                from: from.map(str::to_string),
                to: to.map(str::to_string),
                action: action.to_string(),
                reason: self.owner_event.1.clone(),
            },
        )
    }

    fn after_write(&self, d: &Draft, old: Option<&Draft>, id: i64) -> Result<()> {
        crate::db::derive::after_write(self.conn, d, old, id, &self.user)
    }

    fn after_delete(&self, d: &Draft, id: i64) -> Result<()> {
        crate::db::derive::after_delete(self.conn, d, id, &self.user)
    }
}

/// What a row-level security refusal that crm's own checks let through (`PostgreSQL`)
/// becomes: the same refusal, exit 7, never an internal error.
fn refused_by_policy(err: Error, e: &Entity, id: Option<i64>) -> Error {
    let policy = err.message.contains("row-level security") || err.kind == ErrorKind::Denied;
    if policy { denied_by_policy(e, id) } else { err }
}

fn denied_by_policy(e: &Entity, id: Option<i64>) -> Error {
    let what = match id {
        Some(id) => format!("{} {id}", e.name),
        None => format!("this {}", e.name),
    };
    Error::denied(format!(
        "permission denied: the database refused the change to {what}"
    ))
    .hint("your role may change only the records it owns")
}

fn is_constraint(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

/// A record's values as audit rows show them, as one JSON object (empty fields left out).
fn values_json(d: &Draft) -> String {
    let map: serde_json::Map<String, serde_json::Value> = d
        .entity
        .fields
        .iter()
        .zip(&d.values)
        .filter_map(|(f, v)| Some((f.name.to_string(), show_value(f, v)?.into())))
        .collect();
    serde_json::Value::Object(map).to_string()
}
