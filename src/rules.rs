//! Rules that span fields or records (a close date after an open date, a stage's default
//! probability): one entry per entity, called by the generic record storage on every write,
//! so commands and imports obey them alike. Each entity's rules live in `rules/ENTITY.rs` and
//! are found through [`RULES`], keyed by entity (checked against the registry by a test).
//!
//! Rules are pure: they read the draft, the stored record and a read-only [`Lookup`], and
//! return the derived values of *other* records (a parent's amount, a customer's last
//! contact) as [`Change`]s. The store applies them in the same transaction and audits them
//! like any change (with the cause in `detail`, `db/derive.rs`); they do not bump that
//! record's `updated_at`, so an edit or an import of it is not mistaken for a conflict by a
//! change the user did not make to it.

mod activity;
mod lines;
mod lookup;
mod opportunity;
mod ticket;

use crate::error::{Error, Result};
use crate::schema::record::{Draft, Stored};
use crate::schema::{Entity, Kind, Value};

pub use lookup::{Cause, Change, Derived, EntityRules, Lookup};
pub use opportunity::probability_of;
pub use ticket::{SERVICE_HOURS, TICKET_CLOSED, TICKET_OPEN, transitions_from};

/// Every entity's rules, one entry per entity; an entity without an entry has none. The
/// integrity tests check that each names an entity and fields of the registry.
pub static RULES: &[EntityRules] = &[
    EntityRules {
        entity: "opportunity",
        check: Some(|_, d, old| opportunity::apply(d, old)),
        after_write: Some(opportunity::record_stage),
        after_delete: None,
        uses: &[
            ("opportunity", "stage"),
            ("opportunity", "probability"),
            ("opportunity", "lost_reason"),
            ("opportunity", "closed_at"),
        ],
    },
    EntityRules {
        entity: "quote_line",
        check: Some(|l, d, old| lines::apply_line(&lines::QUOTE, l, d, old)),
        after_write: Some(|l, d, old, id| lines::after_line(&lines::QUOTE, l, d, old, id)),
        after_delete: Some(|l, d, id| lines::after_line(&lines::QUOTE, l, d, None, id)),
        uses: lines::QUOTE.uses,
    },
    EntityRules {
        entity: "order_line",
        check: Some(|l, d, old| lines::apply_line(&lines::ORDER, l, d, old)),
        after_write: Some(|l, d, old, id| lines::after_line(&lines::ORDER, l, d, old, id)),
        after_delete: Some(|l, d, id| lines::after_line(&lines::ORDER, l, d, None, id)),
        uses: lines::ORDER.uses,
    },
    EntityRules {
        entity: "quote",
        check: Some(|l, d, old| {
            same_customer(l, d, "opportunity")?;
            lines::apply_parent(&lines::QUOTE, l, d, old)
        }),
        after_write: None,
        after_delete: None,
        uses: &[("quote", "customer"), ("quote", "opportunity")],
    },
    EntityRules {
        entity: "order",
        check: Some(|l, d, old| {
            same_customer(l, d, "opportunity")?;
            same_customer(l, d, "quote")?;
            lines::apply_parent(&lines::ORDER, l, d, old)
        }),
        after_write: None,
        after_delete: None,
        uses: &[
            ("order", "customer"),
            ("order", "opportunity"),
            ("order", "quote"),
        ],
    },
    EntityRules {
        entity: "contract",
        check: Some(|_, d, _| {
            date_order(d, "start_date", "end_date")?;
            contract_status(d)
        }),
        after_write: None,
        after_delete: None,
        uses: &[
            ("contract", "start_date"),
            ("contract", "end_date"),
            ("contract", "status"),
        ],
    },
    EntityRules {
        entity: "campaign",
        check: Some(|_, d, _| date_order(d, "start_date", "end_date")),
        after_write: None,
        after_delete: None,
        uses: &[("campaign", "start_date"), ("campaign", "end_date")],
    },
    EntityRules {
        entity: "activity",
        check: Some(activity::apply),
        after_write: Some(activity::after),
        after_delete: Some(|l, d, id| activity::after(l, d, None, id)),
        uses: activity::USES,
    },
    EntityRules {
        entity: "ticket",
        check: Some(ticket::apply),
        after_write: None,
        after_delete: None,
        uses: ticket::USES,
    },
];

/// The rules of an entity, if it has any.
pub fn of(e: &Entity) -> Option<&'static EntityRules> {
    RULES.iter().find(|r| r.entity == e.name)
}

/// Checks and completes a record before it is written. `old` is the stored record on update.
pub fn apply(look: &dyn Lookup, d: &mut Draft, old: Option<&Stored>) -> Result<()> {
    match of(d.entity).and_then(|r| r.check) {
        Some(check) => check(look, d, old),
        None => Ok(()),
    }
}

/// The derived values of other records a write implies (a customer's last contact).
/// `old` is the record before an update.
pub fn after_write(
    look: &dyn Lookup,
    d: &Draft,
    old: Option<&Draft>,
    id: i64,
) -> Result<Vec<Change>> {
    match of(d.entity).and_then(|r| r.after_write) {
        Some(after) => after(look, d, old, id),
        None => Ok(Vec::new()),
    }
}

/// The derived values a delete implies.
pub fn after_delete(look: &dyn Lookup, d: &Draft, id: i64) -> Result<Vec<Change>> {
    match of(d.entity).and_then(|r| r.after_delete) {
        Some(after) => after(look, d, id),
        None => Ok(Vec::new()),
    }
}

/// Gives an order its plain amount back after a revert removed every line the amount was
/// derived from (the lines' sum would say 0); an order that still has lines keeps their sum.
pub fn restore_plain_amount(
    look: &dyn Lookup,
    order: i64,
    amount: &Value,
    batch: i64,
) -> Result<Vec<Change>> {
    lines::restore_plain(
        look,
        order,
        amount,
        Cause {
            entity: "import_batch",
            id: batch,
        },
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
fn same_customer(look: &dyn Lookup, d: &Draft, field: &str) -> Result<()> {
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
    let theirs = look.field(Entity::get(target)?, "customer", rid)?;
    match theirs {
        Some(Value::Integer(c)) if c != customer => Err(Error::invalid(format!(
            "{} {field} {rid} belongs to customer {}, not to customer {}",
            d.entity.name,
            customer_code(look, c)?,
            customer_code(look, customer)?
        ))),
        _ => Ok(()),
    }
}

/// A customer's code for messages (its id when it has none).
fn customer_code(look: &dyn Lookup, id: i64) -> Result<String> {
    let e = Entity::get("customer")?;
    Ok(look
        .get(e, id)?
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
