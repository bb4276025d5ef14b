//! The writer as commands use it (`add`, `edit`, `delete`, `convert`, `log`, `done`, the
//! demo): one record per call, every field audited.

use super::{AuditPolicy, Writer};
use crate::db::Store;
use crate::db::records::{self, Draft, Stored};
use crate::error::Result;
use crate::schema::Entity;

/// Fills defaults for fields left empty.
pub fn fill_defaults(conn: &Store, d: &mut Draft, user: &str) -> Result<()> {
    Writer::new(conn, d.entity, AuditPolicy::PerField { detail: None }, user)?.fill_defaults(d)
}

/// Inserts a record (defaults filled, rules applied, required checked) and audits each value.
pub fn insert(conn: &Store, d: Draft, user: &str) -> Result<i64> {
    let e = d.entity;
    Writer::new(conn, e, AuditPolicy::PerField { detail: None }, user)?
        .insert(d)?
        .map(|(id, _)| id)
        .map_err(|r| r.into_error(e))
}

/// Applies changes to a stored record; audits each changed field. Returns whether anything changed.
pub fn update(conn: &Store, old: &Stored, new: Draft, user: &str) -> Result<bool> {
    let e = old.draft.entity;
    Writer::new(conn, e, AuditPolicy::PerField { detail: None }, user)?
        .update(old, new)?
        .map_err(|r| r.into_error(e))
}

/// Deletes a record, auditing every old value. With `cascade`, first deletes what references it.
pub fn delete(conn: &Store, e: &'static Entity, id: i64, user: &str, cascade: bool) -> Result<()> {
    let old = records::must_get(conn, e, id)?;
    let refs = records::referrers(conn, e, id)?;
    if !refs.is_empty() {
        if !cascade {
            return Err(records::referenced_error(e, id, &refs));
        }
        for (other, _, ids) in refs {
            for rid in ids {
                if records::get(conn, other, rid)?.is_some() {
                    delete(conn, other, rid, user, true)?;
                }
            }
        }
    }
    Writer::new(conn, e, AuditPolicy::PerField { detail: None }, user)?.delete(&old)
}
