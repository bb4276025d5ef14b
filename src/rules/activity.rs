//! Follow-up rules: a record (`done_at`) or a plan (`due_at`), tied to its customer's
//! contacts and opportunities, and the customer's `last_contacted_at` kept as the latest
//! `done_at` of its activities.

use crate::db::Store;
use crate::schema::Value;

use super::Cause;
use crate::db::records::{Draft, Stored};
use crate::error::{Error, Result};

/// How far ahead of the clock a `done_at` may lie (time zones, skewed clocks).
const DONE_AHEAD: i64 = 24 * 3600;

pub fn apply(conn: &Store, d: &mut Draft, old: Option<&Stored>) -> Result<()> {
    super::same_customer(conn, d, "contact")?;
    super::same_customer(conn, d, "opportunity")?;
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
pub fn after(conn: &Store, d: &Draft, old: Option<&Draft>, cause: &Cause) -> Result<()> {
    let now = d.int("customer");
    if let Some(c) = now {
        last_contacted(conn, c, cause)?;
    }
    if let Some(before) = old
        .and_then(|o| o.int("customer"))
        .filter(|b| Some(*b) != now)
    {
        last_contacted(conn, before, cause)?;
    }
    Ok(())
}

fn last_contacted(conn: &Store, customer: i64, cause: &Cause) -> Result<()> {
    let last = crate::db::lookup::last_done_at(conn, customer)?;
    let e = crate::schema::Entity::get("customer")?;
    super::derive(conn, e, customer, "last_contacted_at", &last, cause)
}
