//! The store's side of the rules: the read-only [`Lookup`] they compute from, and applying
//! the [`Change`]s they return — each derived value set and audited with its cause, each
//! stage entered recorded — in the writer's transaction.

use crate::db::audit::{self, Entry};
use crate::db::records::{Draft, show_value};
use crate::db::{Store, lookup, records, stages, users};
use crate::error::Result;
use crate::rules::{Change, Derived, Lookup};
use crate::schema::record::Stored;
use crate::schema::{Entity, Value};

impl Lookup for Store {
    fn get(&self, e: &'static Entity, id: i64) -> Result<Option<Stored>> {
        records::get(self, e, id)
    }
    fn field(&self, e: &'static Entity, field: &str, id: i64) -> Result<Option<Value>> {
        lookup::field(self, e, field, id)
    }
    fn amounts(
        &self,
        line: &'static Entity,
        via: &str,
        parent: i64,
        except: Option<i64>,
    ) -> Result<(i64, i128)> {
        lookup::line_totals(self, line, via, parent, except)
    }
    fn last_done_at(&self, customer: i64) -> Result<Value> {
        lookup::last_done_at(self, customer)
    }
    fn role_of(&self, user: &str) -> Result<Option<String>> {
        users::role_of(self, user)
    }
    fn last_stage(&self, opportunity: i64) -> Result<Option<String>> {
        stages::last(self, opportunity)
    }
}

/// Keeps derived values of other records current after a write (`old`: the record before
/// an update).
pub fn after_write(s: &Store, d: &Draft, old: Option<&Draft>, id: i64, user: &str) -> Result<()> {
    apply(s, &crate::rules::after_write(s, d, old, id)?, user)
}

/// Keeps derived values current after a delete.
pub fn after_delete(s: &Store, d: &Draft, id: i64, user: &str) -> Result<()> {
    apply(s, &crate::rules::after_delete(s, d, id)?, user)
}

/// Gives an order without lines its plain amount back (see the rule of that name).
pub fn restore_plain_amount(
    s: &Store,
    order: i64,
    amount: &Value,
    batch: i64,
    user: &str,
) -> Result<()> {
    apply(
        s,
        &crate::rules::restore_plain_amount(s, order, amount, batch)?,
        user,
    )
}

/// Applies what the rules derived, in order.
pub fn apply(s: &Store, changes: &[Change], user: &str) -> Result<()> {
    for c in changes {
        match c {
            Change::Derive(d) => derive(s, d, user)?,
            Change::EnterStage {
                opportunity,
                stage,
                at,
            } => stages::enter(s, *opportunity, stage, *at)?,
        }
    }
    Ok(())
}

/// Sets a derived field of a record and audits the change (nothing when it is unchanged,
/// or when the record is gone: a cascade deletes it next).
fn derive(s: &Store, d: &Derived, user: &str) -> Result<()> {
    let f = d.entity.field(d.field)?;
    let Some(old) = lookup::field(s, d.entity, d.field, d.id)? else {
        return Ok(());
    };
    if old == d.value {
        return Ok(());
    }
    let detail = format!("derived: follows {} {}", d.cause.entity, d.cause.id);
    outside_import(s, || {
        audit::with_audit_detail(s, Some(&detail), || {
            lookup::set_field(s, d.entity, d.field, d.id, &d.value)
        })
    })?;
    audit::log(
        s,
        &[Entry {
            user: Some(user),
            action: "update",
            entity: Some(d.entity.name),
            record_id: Some(d.id),
            field: Some(f.name),
            old: show_value(f, &old),
            new: show_value(f, &d.value),
            detail: Some(detail),
        }],
    )
}

/// Runs `f`, a derived change to another record, outside the import batch open in this
/// transaction (`PostgreSQL`): the batch records the imported entity's own rows, while a
/// value derived from them is audited field by field with its cause, as on `SQLite`. The
/// batch's statement triggers would refuse a write to another entity, and its own entity's
/// would take the derived change for an imported one. A no-op when no import is open.
fn outside_import<T>(s: &Store, f: impl FnOnce() -> Result<T>) -> Result<T> {
    if s.is_sqlite() {
        return f();
    }
    let batch: String = s.value(
        "SELECT COALESCE(pg_catalog.current_setting('crm.import_batch', true), '')",
        &[],
    )?;
    if batch.is_empty() {
        return f();
    }
    s.execute(
        "SELECT pg_catalog.set_config('crm.import_batch', '', true)",
        &[],
    )?;
    let r = f();
    if r.is_ok() {
        s.execute(
            "SELECT pg_catalog.set_config('crm.import_batch', ?, true)",
            crate::vals![batch],
        )?;
    }
    r
}
