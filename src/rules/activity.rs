//! Follow-up rules: a record (`done_at`) or a plan (`due_at`), tied to its customer's
//! contacts and opportunities, and the customer's `last_contacted_at` kept as the latest
//! `done_at` of its activities.

use super::{Cause, Change, Derived, Lookup};
use crate::error::{Error, Result};
use crate::schema::record::{Draft, Stored};
use crate::schema::{Entity, Value};

/// The fields these rules read or set.
pub const USES: &[(&str, &str)] = &[
    ("activity", "customer"),
    ("activity", "contact"),
    ("activity", "opportunity"),
    ("activity", "due_at"),
    ("activity", "done_at"),
    ("activity", "type"),
    ("customer", "last_contacted_at"),
];

/// How far ahead of the clock a `done_at` may lie (time zones, skewed clocks).
const DONE_AHEAD: i64 = 24 * 3600;

pub fn apply(look: &dyn Lookup, d: &mut Draft, old: Option<&Stored>) -> Result<()> {
    super::same_customer(look, d, "contact")?;
    super::same_customer(look, d, "opportunity")?;
    let now = crate::clock::now();
    // Without a due date (and not an open task) an activity records what just happened.
    if old.is_none()
        && d.int("due_at").is_none()
        && d.int("done_at").is_none()
        && d.text("type") != Some("task")
    {
        d.set("done_at", Value::Integer(now));
    }
    if let Some(done) = d.int("done_at") {
        let changed = old.is_none_or(|o| o.draft.int("done_at") != Some(done));
        if changed && done > now + DONE_AHEAD {
            return Err(Error::invalid(format!(
                "activity done_at {} is in the future",
                crate::schema::kinds::format_datetime(done)
            ))
            .hint("a planned follow-up takes --due-at"));
        }
    }
    Ok(())
}

/// After an activity is written or deleted, its customer's last contact follows (and the
/// customer it left, when it moved).
pub fn after(look: &dyn Lookup, d: &Draft, old: Option<&Draft>, id: i64) -> Result<Vec<Change>> {
    let cause = Cause {
        entity: d.entity.name,
        id,
    };
    let now = d.int("customer");
    let before = old
        .and_then(|o| o.int("customer"))
        .filter(|b| Some(*b) != now);
    now.into_iter()
        .chain(before)
        .map(|c| last_contacted(look, c, cause))
        .collect()
}

fn last_contacted(look: &dyn Lookup, customer: i64, cause: Cause) -> Result<Change> {
    Ok(Change::Derive(Derived {
        entity: Entity::get("customer")?,
        id: customer,
        field: "last_contacted_at",
        value: look.last_done_at(customer)?,
        cause,
    }))
}
