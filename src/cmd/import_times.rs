//! Historical imports (`crm import … --keep-times`): the times a file gives — `created_at`
//! on insert and the history fields a rule would otherwise set to the moment of the import
//! (`closed_at`, `resolved_at`, `last_contacted_at`) — checked before the row is written.

use crate::csvio::header::HISTORY;
use crate::db::bulk::Row;
use crate::schema::kinds::format_datetime;
use crate::schema::{Entity, Value};

/// A row's reason when a time it gives lies in the future or before its `created_at`.
pub fn check(e: &Entity, row: &Row, now: i64) -> Result<(), String> {
    if let Some(created) = row.created_at
        && created > now
    {
        return Err(format!(
            "created_at: {} is in the future",
            format_datetime(created)
        ));
    }
    for (i, f) in e.fields.iter().enumerate() {
        if !f.read_only || !HISTORY.contains(&f.name) || !row.is_given(i) {
            continue;
        }
        let Value::Integer(t) = row.values[i] else {
            continue;
        };
        if t > now {
            return Err(format!(
                "{}: {} is in the future",
                f.name,
                format_datetime(t)
            ));
        }
        if let Some(created) = row.created_at
            && t < created
        {
            return Err(format!(
                "{}: {} is before created_at {}",
                f.name,
                format_datetime(t),
                format_datetime(created)
            ));
        }
    }
    Ok(())
}
