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
    let head = conn.query_one(
        "SELECT at, \"user\", entity, file, mode FROM import_batch WHERE id = ?",
        crate::vals![batch],
    )?;
    put(&mut h, &batch.to_string());
    put(&mut h, &head.get::<i64>(0)?.to_string());
    for i in 1..5 {
        put(&mut h, &head.get::<String>(i)?);
    }
    conn.each(
        "SELECT first_id, last_id FROM import_insert WHERE batch = ? ORDER BY first_id",
        crate::vals![batch],
        |r| {
            put(
                &mut h,
                &format!("{}-{}", r.get::<i64>(0)?, r.get::<i64>(1)?),
            );
            Ok(())
        },
    )?;
    conn.each(
        "SELECT record_id, before, after_updated_at, after FROM import_change WHERE batch = ? ORDER BY record_id",
        crate::vals![batch],
        |r| {
            put(&mut h, &r.get::<i64>(0)?.to_string());
            put(&mut h, &r.get::<Option<String>>(1)?.unwrap_or_default());
            put(&mut h, &r.get::<i64>(2)?.to_string());
            put(&mut h, &r.get::<Option<String>>(3)?.unwrap_or_default());
            Ok(())
        },
    )?;
    // Lower-case hex, as the audit chain's hashes are written.
    Ok(format!("{:x}", h.finalize()))
}
