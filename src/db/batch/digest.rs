//! A digest of what a batch recorded about its records (who, when, which file; the ids it
//! inserted; each updated record's old and new values), written into the batch's own audit
//! row so the hash chain covers the import history too: `crm check` finds those tables
//! changed behind crm's back, unless the chain was recomputed (then only an anchor tells).

use sha2::{Digest, Sha256};

use crate::db::Store;
use crate::error::Result;

/// How the digest follows the rest of the batch's audit detail.
pub const MARK: &str = "; trail sha256 ";

fn put(h: &mut Sha256, s: &str) {
    h.update(s.len().to_le_bytes());
    h.update(s.as_bytes());
}

/// SHA-256 over the batch's row, its inserted ranges and its changes, in key order: the same
/// however the rows were written, and read once at the end of the import (an insert-only
/// import has one range and no changes to read).
pub fn trail_digest(conn: &Store, batch: i64) -> Result<String> {
    let mut h = Sha256::new();
    let head: (i64, String, String, String, String) = conn.sqlite().query_row(
        "SELECT at, user, entity, file, mode FROM import_batch WHERE id = ?",
        [batch],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    for s in [
        batch.to_string(),
        head.0.to_string(),
        head.1,
        head.2,
        head.3,
        head.4,
    ] {
        put(&mut h, &s);
    }
    let mut stmt = conn.sqlite().prepare_cached(
        "SELECT first_id, last_id FROM import_insert WHERE batch = ? ORDER BY first_id",
    )?;
    let mut rows = stmt.query([batch])?;
    while let Some(r) = rows.next()? {
        put(
            &mut h,
            &format!("{}-{}", r.get::<_, i64>(0)?, r.get::<_, i64>(1)?),
        );
    }
    let mut stmt = conn.sqlite().prepare_cached(
        "SELECT record_id, before, after_updated_at, after FROM import_change WHERE batch = ? ORDER BY record_id",
    )?;
    let mut rows = stmt.query([batch])?;
    while let Some(r) = rows.next()? {
        put(&mut h, &r.get::<_, i64>(0)?.to_string());
        put(&mut h, &r.get::<_, Option<String>>(1)?.unwrap_or_default());
        put(&mut h, &r.get::<_, i64>(2)?.to_string());
        put(&mut h, &r.get::<_, Option<String>>(3)?.unwrap_or_default());
    }
    // Lower-case hex, as the audit chain's hashes are written.
    Ok(format!("{:x}", h.finalize()))
}
