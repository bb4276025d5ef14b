//! Where `crm config`'s values are stored: the `settings` table, one row per key that is
//! set (an absent key has its default). The same SQL on both engines.

use std::collections::HashMap;

use crate::db::Store;
use crate::error::Result;
use crate::settings::{self, Setting};
use crate::vals;

/// The values set, by key (keys at their default are absent).
pub fn stored(s: &Store) -> Result<HashMap<String, String>> {
    s.query("SELECT \"key\", \"value\" FROM settings", vals![])?
        .into_iter()
        .map(|r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))
        .collect()
}

/// The value set for a key, if any.
pub fn stored_one(s: &Store, key: &str) -> Result<Option<String>> {
    s.query_opt(
        "SELECT \"value\" FROM settings WHERE \"key\" = ?",
        vals![key],
    )?
    .map(|r| r.get(0))
    .transpose()
}

/// The value a setting has: the one set, else its default.
pub fn value(s: &Store, setting: &Setting) -> Result<String> {
    Ok(stored_one(s, setting.key)?.unwrap_or_else(|| setting.default.to_string()))
}

/// The value of a registered key (a caller's typo is a bug, hence the expect).
pub fn get(s: &Store, key: &str) -> Result<String> {
    value(s, settings::find(key).expect("a registered setting"))
}

/// Sets a key (inside the caller's write transaction).
pub fn set(s: &Store, key: &str, value: &str, by: &str, now: i64) -> Result<()> {
    s.execute(
        "INSERT INTO settings (\"key\", \"value\", updated_at, updated_by) VALUES (?, ?, ?, ?) \
         ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\", updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        vals![key, value, now, by],
    )?;
    Ok(())
}

/// Takes a key back to its default (inside the caller's write transaction).
pub fn unset(s: &Store, key: &str) -> Result<()> {
    s.execute("DELETE FROM settings WHERE \"key\" = ?", vals![key])?;
    Ok(())
}
