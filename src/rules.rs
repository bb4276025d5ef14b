//! Rules that span fields or records (a close date after an open date, a stage's default
//! probability): one entry per entity, called by the generic record storage on every write,
//! so commands and imports obey them alike.

use rusqlite::Connection;

use crate::db::records::{Draft, Stored};
use crate::error::Result;

/// Checks and completes a record before it is written. `old` is the stored record on update.
pub fn apply(_conn: &Connection, _d: &mut Draft, _old: Option<&Stored>) -> Result<()> {
    Ok(())
}

/// Keeps derived values of other records current after a write (a customer's last contact).
pub fn after_write(_conn: &Connection, _d: &Draft, _id: i64) -> Result<()> {
    Ok(())
}

/// Keeps derived values current after a delete.
pub fn after_delete(_conn: &Connection, _d: &Draft) -> Result<()> {
    Ok(())
}
