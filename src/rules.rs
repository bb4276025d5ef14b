//! Rules that span fields or records (a close date after an open date, a stage's default
//! probability): one entry per entity, called by the generic record storage on every write,
//! so commands and imports obey them alike. Each entity's rules live in `rules/ENTITY.rs`.
//!
//! Derived values of *other* records (a parent's amount, a customer's last contact) are kept
//! by `derive` in the same transaction and audited like any change (with the cause in
//! `detail`); they do not bump that record's `updated_at`, so an edit or an import of it is
//! not mistaken for a conflict by a change the user did not make to it.

mod activity;
mod lines;
mod opportunity;
mod ticket;

use crate::db::audit::{self, Entry};
use crate::db::records::{Draft, Stored, show_value};
use crate::db::{Store, lookup};
use crate::error::{Error, Result};
use crate::schema::{Entity, Kind, Value};

pub use opportunity::probability_of;
pub use ticket::{SERVICE_HOURS, TICKET_CLOSED, TICKET_OPEN, transitions_from};

/// Checks and completes a record before it is written. `old` is the stored record on update.
pub fn apply(conn: &Store, d: &mut Draft, old: Option<&Stored>) -> Result<()> {
    match d.entity.name {
        "opportunity" => opportunity::apply(d, old),
        "quote_line" | "order_line" => lines::apply_line(conn, d, old),
        "quote" => {
            same_customer(conn, d, "opportunity")?;
            lines::apply_parent(conn, d, old)
        }
        "order" => {
            same_customer(conn, d, "opportunity")?;
            same_customer(conn, d, "quote")?;
            lines::apply_parent(conn, d, old)
        }
        "contract" => {
            date_order(d, "start_date", "end_date")?;
            contract_status(d)
        }
        "campaign" => date_order(d, "start_date", "end_date"),
        "activity" => activity::apply(conn, d, old),
        "ticket" => ticket::apply(conn, d, old),
        _ => Ok(()),
    }
}

/// Keeps derived values of other records current after a write (a customer's last contact).
/// `old` is the record before an update.
pub fn after_write(
    conn: &Store,
    d: &Draft,
    old: Option<&Draft>,
    id: i64,
    user: &str,
) -> Result<()> {
    let cause = Cause {
        entity: d.entity.name,
        id,
        user,
    };
    match d.entity.name {
        "opportunity" => opportunity::record_stage(conn, d, id),
        "quote_line" | "order_line" => lines::after_line(conn, d, old, &cause),
        "activity" => activity::after(conn, d, old, &cause),
        _ => Ok(()),
    }
}

/// Keeps derived values current after a delete.
pub fn after_delete(conn: &Store, d: &Draft, id: i64, user: &str) -> Result<()> {
    let cause = Cause {
        entity: d.entity.name,
        id,
        user,
    };
    match d.entity.name {
        "quote_line" | "order_line" => lines::after_line(conn, d, None, &cause),
        "activity" => activity::after(conn, d, None, &cause),
        _ => Ok(()),
    }
}

/// Gives an order its plain amount back after a revert removed every line the amount was
/// derived from (the lines' sum would say 0); an order that still has lines keeps their sum.
pub fn restore_plain_amount(
    conn: &Store,
    order: i64,
    amount: &Value,
    batch: i64,
    user: &str,
) -> Result<()> {
    lines::restore_plain(
        conn,
        order,
        amount,
        &Cause {
            entity: "import_batch",
            id: batch,
            user,
        },
    )
}

/// The write a derived value follows from, for its audit row.
struct Cause<'a> {
    entity: &'static str,
    id: i64,
    user: &'a str,
}

/// Sets a derived field of a record and audits the change (nothing when it is unchanged).
fn derive(
    conn: &Store,
    e: &'static Entity,
    id: i64,
    field: &'static str,
    new: &Value,
    cause: &Cause,
) -> Result<()> {
    let f = e.field(field)?;
    let Some(old) = lookup::field(conn, e, field, id)? else {
        return Ok(()); // the record is gone (a cascade deletes it next)
    };
    if old == *new {
        return Ok(());
    }
    lookup::set_field(conn, e, field, id, new)?;
    audit::log(
        conn,
        &[Entry {
            user: Some(cause.user),
            action: "update",
            entity: Some(e.name),
            record_id: Some(id),
            field: Some(f.name),
            old: show_value(f, &old),
            new: show_value(f, new),
            detail: Some(format!("derived: follows {} {}", cause.entity, cause.id)),
        }],
    )
}

fn today() -> String {
    crate::clock::today().format("%Y-%m-%d").to_string()
}

/// `expired` is only ever derived: writing it (an exported CSV read back) stores `active`,
/// and is refused while the end date has not passed.
fn contract_status(d: &mut Draft) -> Result<()> {
    if d.text("status") != Some("expired") {
        return Ok(());
    }
    match d.text("end_date") {
        Some(end) if end < today().as_str() => {
            d.set("status", Value::Text("active".into()));
            Ok(())
        }
        _ => Err(Error::invalid(
            "contract status expired is derived: a contract shows as expired once its end_date has passed",
        )
        .hint("set --end-date, or use --status terminated")),
    }
}

/// Dates stored as `YYYY-MM-DD` compare as text.
fn date_order(d: &Draft, start: &str, end: &str) -> Result<()> {
    if let (Some(s), Some(e)) = (d.text(start), d.text(end))
        && e < s
    {
        return Err(Error::invalid(format!(
            "{} {end} {e} is before its {start} {s}",
            d.entity.name
        )));
    }
    Ok(())
}

/// A referenced record (a contact, an opportunity, a quote) must belong to the same customer.
fn same_customer(conn: &Store, d: &Draft, field: &str) -> Result<()> {
    let (Some(customer), Some(rid)) = (d.int("customer"), d.int(field)) else {
        return Ok(());
    };
    let Some(Kind::Ref(target)) = d
        .entity
        .fields
        .iter()
        .find(|f| f.name == field)
        .map(|f| f.kind)
    else {
        return Ok(());
    };
    let theirs = lookup::field(conn, Entity::get(target)?, "customer", rid)?;
    match theirs {
        Some(Value::Integer(c)) if c != customer => Err(Error::invalid(format!(
            "{} {field} {rid} belongs to customer {}, not to customer {}",
            d.entity.name,
            customer_code(conn, c)?,
            customer_code(conn, customer)?
        ))),
        _ => Ok(()),
    }
}

/// A customer's code for messages (its id when it has none).
fn customer_code(conn: &Store, id: i64) -> Result<String> {
    let e = Entity::get("customer")?;
    Ok(crate::db::records::get(conn, e, id)?
        .and_then(|c| c.draft.text("code").map(str::to_string))
        .unwrap_or_else(|| id.to_string()))
}

/// Whether a value is empty (null or blank text).
fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Text(t) => t.trim().is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
