//! What imports did to one record, read back from the batch tables: an import writes no audit
//! row per record (a million of them would double its time), so `crm audit --entity E --id N`
//! adds, beside the record's own audit rows, one row for the batch that created it and one per
//! field a batch changed, each with the batch, its user, time and file. A revert writes real
//! audit rows (see `batch::revert`), so it needs nothing here.
//!
//! Batches before schema v7 kept only the old values of an update (`before`); their new values
//! are derived: what the next recorded change of each field found, else the record as it is.

use serde_json::{Map, Value as J};

use super::{Filter, Row};
use crate::db::Store;
use crate::db::records::{self, show_value};
use crate::db::row::Row as DbRow;
use crate::error::Result;
use crate::schema::Value;
use crate::schema::{Entity, Field};
use crate::vals;

/// Where a batch stands in the log: its own audit row, else (batches before that was kept)
/// the last row written by its time.
const POSITION: &str =
    "COALESCE(b.audit_id, (SELECT MAX(a.id) FROM audit a WHERE a.at <= b.at), 0)";

/// One batch, as an import trail row names it.
struct Batch {
    id: i64,
    at: i64,
    user: String,
    file: String,
    mode: String,
    audit_id: Option<i64>,
    pos: i64,
}

impl Batch {
    fn row(&self, e: &Entity, id: i64, action: &str, detail: String) -> Row {
        Row {
            id: self.audit_id,
            at: self.at,
            user: Some(self.user.clone()),
            action: action.into(),
            entity: Some(e.name.into()),
            record_id: Some(id),
            field: None,
            old: None,
            new: None,
            detail: Some(detail),
            hash: String::new(),
            batch: Some(self.id),
        }
    }

    fn wanted(&self, f: &Filter) -> bool {
        f.user.as_ref().is_none_or(|u| *u == self.user) && f.since.is_none_or(|s| self.at >= s)
    }
}

fn batch_from(r: &DbRow) -> Result<Batch> {
    Ok(Batch {
        id: r.get(0)?,
        at: r.get(1)?,
        user: r.get(2)?,
        file: r.get(3)?,
        mode: r.get(4)?,
        audit_id: r.get(5)?,
        pos: r.get(6)?,
    })
}

/// The import trail of record `id` (of `f.entity`, or of every entity), as (position, row).
pub(super) fn rows(conn: &Store, f: &Filter, id: i64) -> Result<Vec<(i64, Row)>> {
    let entities: Vec<&'static Entity> = match f.entity.as_deref() {
        Some(name) => Entity::get(name).into_iter().collect(),
        None => crate::schema::all().iter().collect(),
    };
    let mut out = Vec::new();
    for e in entities {
        if let Some(b) = creator(conn, e, id)?.filter(|b| b.wanted(f)) {
            let detail = format!(
                "created by import batch {} ({}), mode {}",
                b.id, b.file, b.mode
            );
            out.push((b.pos, b.row(e, id, "create", detail)));
        }
        for (b, before, after) in changes(conn, e, id)? {
            if !b.wanted(f) {
                continue;
            }
            let before = parse(&before);
            let (changed, derived) = match after {
                Some(a) => (recorded(e, &before, &parse(&a)), false),
                None => (derive(conn, e, id, &b, &before)?, true),
            };
            let detail = format!(
                "import batch {} ({}), mode {}{}",
                b.id,
                b.file,
                b.mode,
                if derived {
                    "; new value derived from later changes"
                } else {
                    ""
                }
            );
            if changed.is_empty() {
                let why = format!(
                    "updated by import batch {} ({}), mode {}; its new values were not recorded",
                    b.id, b.file, b.mode
                );
                out.push((b.pos, b.row(e, id, "update", why)));
            }
            for (field, old, new) in changed {
                let mut r = b.row(e, id, "update", detail.clone());
                r.field = Some(field.into());
                r.old = old;
                r.new = new;
                out.push((b.pos, r));
            }
        }
    }
    Ok(out)
}

/// The batch whose inserted ranges hold the id: ids are never reused (AUTOINCREMENT), so the
/// entity's ranges do not overlap and the last one starting at or before the id decides.
fn creator(conn: &Store, e: &Entity, id: i64) -> Result<Option<Batch>> {
    let sql = format!(
        "SELECT b.id, b.at, b.\"user\", b.file, b.mode, b.audit_id, {POSITION}, i.last_id
         FROM import_insert i JOIN import_batch b ON b.id = i.batch
         WHERE b.entity = ? AND i.first_id <= ? ORDER BY i.first_id DESC LIMIT 1"
    );
    let Some(r) = conn.query_opt(&sql, vals![e.name, id])? else {
        return Ok(None);
    };
    let last: i64 = r.get(7)?;
    (last >= id).then(|| batch_from(&r)).transpose()
}

type Change = (Batch, String, Option<String>);

/// The batches that updated the record, oldest first, with its old and new values.
fn changes(conn: &Store, e: &Entity, id: i64) -> Result<Vec<Change>> {
    let sql = format!(
        "SELECT b.id, b.at, b.\"user\", b.file, b.mode, b.audit_id, {POSITION}, c.before, c.after
         FROM import_change c JOIN import_batch b ON b.id = c.batch
         WHERE c.record_id = ? AND b.entity = ? AND c.before IS NOT NULL ORDER BY b.id"
    );
    conn.query(&sql, vals![id, e.name])?
        .iter()
        .map(|r| Ok((batch_from(r)?, r.get(7)?, r.get(8)?)))
        .collect()
}

fn parse(json: &str) -> Map<String, J> {
    serde_json::from_str(json).unwrap_or_default()
}

/// A stored value back from the batch tables' JSON, shown as audit rows show values.
fn shown(f: &Field, j: Option<&J>) -> Option<String> {
    let v = match j {
        Some(J::Number(n)) => n
            .as_i64()
            .map(Value::Integer)
            .or_else(|| n.as_f64().map(Value::Real))
            .unwrap_or(Value::Null),
        Some(J::String(s)) => Value::Text(s.clone()),
        _ => Value::Null,
    };
    show_value(f, &v)
}

type Changed = Vec<(&'static str, Option<String>, Option<String>)>;

/// The fields a batch recorded as changed, in the entity's order.
fn recorded(e: &'static Entity, before: &Map<String, J>, after: &Map<String, J>) -> Changed {
    e.fields
        .iter()
        .filter(|f| after.contains_key(f.name))
        .map(|f| {
            (
                f.name,
                shown(f, before.get(f.name)),
                shown(f, after.get(f.name)),
            )
        })
        .collect()
}

/// The new values of a batch that kept only old ones: for each field, the old value of the
/// next change recorded after the batch (an audit row of that field, or a later batch's
/// `before`, whichever came first), else the record's value now (nothing for a deleted one).
/// A value changed and changed back reads as unchanged; that is the limit of what was kept.
fn derive(
    conn: &Store,
    e: &'static Entity,
    id: i64,
    b: &Batch,
    before: &Map<String, J>,
) -> Result<Changed> {
    let next_batch = conn
        .query_opt(
            &format!(
                "SELECT {POSITION}, c.before FROM import_change c JOIN import_batch b ON b.id = c.batch
             WHERE c.record_id = ? AND b.entity = ? AND b.id > ? AND c.before IS NOT NULL
             ORDER BY b.id LIMIT 1"
            ),
            vals![id, e.name, b.id],
        )?
        .map(|r| Ok::<_, crate::error::Error>((r.get::<i64>(0)?, parse(&r.get::<String>(1)?))))
        .transpose()?;
    let now = records::get(conn, e, id)?;
    let mut out = Vec::new();
    for (i, f) in e.fields.iter().enumerate() {
        let edit: Option<(i64, Option<String>)> = conn
            .query_opt(
                "SELECT id, old FROM audit WHERE entity = ? AND record_id = ? AND field = ? AND id > ?
         ORDER BY id LIMIT 1",
                vals![e.name, id, f.name, b.pos],
            )?
            .map(|r| Ok::<_, crate::error::Error>((r.get(0)?, r.get(1)?)))
            .transpose()?;
        let later = match (&edit, &next_batch) {
            (Some((at, old)), Some((pos, _))) if at < pos => old.clone(),
            (_, Some((_, map))) => shown(f, map.get(f.name)),
            (Some((_, old)), None) => old.clone(),
            (None, None) => now.as_ref().and_then(|s| show_value(f, &s.draft.values[i])),
        };
        let old = shown(f, before.get(f.name));
        if old != later {
            out.push((f.name, old, later));
        }
    }
    Ok(out)
}
