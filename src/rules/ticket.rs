//! Service ticket rules: the allowed status transitions, the resolve time, the satisfaction
//! survey (only once resolved), and who may be assigned.
//!
//! Transitions (any status is accepted on insert, so history can be imported):
//!
//! ```text
//! new      → open, pending, resolved, closed   (closed at once: a duplicate or spam)
//! open     → pending, resolved, closed
//! pending  → open, resolved, closed            (pending → open: the customer answered)
//! resolved → open, closed                      (resolved → open: reopened)
//! closed   → (none: closed is final; a new problem is a new ticket)
//! ```

use super::Lookup;
use crate::error::{Error, Result};
use crate::schema::Value;
use crate::schema::record::{Draft, Stored};

/// The fields these rules read or set.
pub const USES: &[(&str, &str)] = &[
    ("ticket", "customer"),
    ("ticket", "contact"),
    ("ticket", "status"),
    ("ticket", "resolved_at"),
    ("ticket", "satisfaction"),
    ("ticket", "assignee"),
];

const TRANSITIONS: &[(&str, &[&str])] = &[
    ("new", &["open", "pending", "resolved", "closed"]),
    ("open", &["pending", "resolved", "closed"]),
    ("pending", &["open", "resolved", "closed"]),
    ("resolved", &["open", "closed"]),
    ("closed", &[]),
];

/// The statuses of a ticket still being worked on, and of a finished one (declared with
/// the ticket's statuses in the registry).
pub use crate::schema::entities::{TICKET_CLOSED, TICKET_OPEN};

/// Service time per priority, in hours: past it, an open ticket is overdue.
pub const SERVICE_HOURS: &[(&str, i64)] =
    &[("urgent", 4), ("high", 24), ("normal", 72), ("low", 168)];

/// Roles that work tickets and so may be assigned one.
const ASSIGNABLE: &[&str] = &["service", "manager", "admin"];

/// The statuses a ticket may move to from `status`.
pub fn transitions_from(status: &str) -> &'static [&'static str] {
    TRANSITIONS
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(&[], |(_, to)| *to)
}

pub fn apply(look: &dyn Lookup, d: &mut Draft, old: Option<&Stored>) -> Result<()> {
    super::same_customer(look, d, "contact")?;
    let Some(status) = d.text("status").map(str::to_string) else {
        return Ok(());
    };
    let old_status = old.and_then(|o| o.draft.text("status"));
    if let Some(from) = old_status.filter(|s| *s != status) {
        let allowed = transitions_from(from);
        if !allowed.contains(&status.as_str()) {
            let to = if allowed.is_empty() {
                "none: closed is final, open a new ticket".to_string()
            } else {
                allowed.join(", ")
            };
            return Err(
                Error::invalid(format!("ticket status cannot go from {from} to {status}"))
                    .hint(format!("from {from} a ticket may go to: {to}")),
            );
        }
    }
    let finished = TICKET_CLOSED.contains(&status.as_str());
    if finished {
        if d.int("resolved_at").is_none() {
            d.set("resolved_at", Value::Integer(crate::clock::now()));
        }
    } else {
        d.set("resolved_at", Value::Null);
        let carried = old.is_some_and(|o| o.draft.int("satisfaction") == d.int("satisfaction"));
        if d.int("satisfaction").is_some() {
            if !carried {
                return Err(Error::invalid(format!(
                    "ticket satisfaction is accepted only once the ticket is resolved or closed (it is {status})"
                )));
            }
            // Reopened: the survey answered the old resolution, not the next one.
            d.set("satisfaction", Value::Null);
        }
    }
    check_assignee(look, d, old)
}

fn check_assignee(look: &dyn Lookup, d: &Draft, old: Option<&Stored>) -> Result<()> {
    let Some(name) = d.text("assignee") else {
        return Ok(());
    };
    if old.is_some_and(|o| o.draft.text("assignee") == Some(name)) {
        return Ok(()); // kept as it was, even if that user's role changed since
    }
    let role = look.role_of(name)?;
    match role {
        Some(r) if ASSIGNABLE.contains(&r.as_str()) => Ok(()),
        Some(r) => Err(Error::invalid(format!(
            "ticket assignee {name} is a {r} user; tickets go to service, manager or admin users"
        ))),
        None => Err(Error::invalid(format!("no user named '{name}'"))),
    }
}
