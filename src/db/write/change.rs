//! What an import's update of a record leaves behind: its `import_change` row (the audit
//! policy per batch), read back by `crm import revert` and the record's trail.

use crate::db::Store;
use crate::error::Result;
use crate::schema::Value;
use crate::schema::record::{Draft, Stored};
use crate::vals;

/// Records an import's update of one record: its values before (what a revert restores)
/// and the new values of the changed fields only; with `before` they are the record's
/// trail (`crm audit --entity E --id N`), at the cost of one short string per update.
pub(super) fn record_change(
    conn: &Store,
    batch: i64,
    old: &Stored,
    new: &Draft,
    updated_at: i64,
) -> Result<()> {
    let fields = old.draft.entity.fields;
    let before: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .zip(&old.draft.values)
        .map(|(f, v)| (f.name.to_string(), to_json(v)))
        .collect();
    let after: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .zip(old.draft.values.iter().zip(&new.values))
        .filter(|(_, (o, n))| o != n)
        .map(|(f, (_, n))| (f.name.to_string(), to_json(n)))
        .collect();
    conn.execute(
        "INSERT INTO import_change (batch, record_id, before, after_updated_at, after) VALUES (?, ?, ?, ?, ?)",
        vals![
            batch,
            old.id,
            serde_json::Value::Object(before).to_string(),
            updated_at,
            serde_json::Value::Object(after).to_string()
        ],
    )?;
    Ok(())
}

fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::Blob(_) => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Real(r) => (*r).into(),
        Value::Text(t) => t.clone().into(),
    }
}
