//! The store's upkeep, engine by engine: health checks (`crm check`), copies (`crm backup`)
//! and the read-only probes `init` and `demo` make before touching a file.

use std::path::Path;

use rusqlite::OpenFlags;

use crate::db::Store;
use crate::error::Result;

/// Opens a file read-only, without pragmas or migrations: for looking, never writing.
/// An encrypted file is opened with its key (exit 6 without it, or with a wrong one).
pub fn open_read_only(path: &Path) -> Result<Store> {
    let lock = crate::db::cipher::Lock::of(path, None)?;
    let conn = lock
        .open(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| {
            if lock.refused(&e) {
                crate::db::cipher::wrong_key(path)
            } else {
                e.into()
            }
        })?;
    Ok(Store::Sqlite(conn))
}

/// How many schema objects (tables, indexes, triggers) the store holds: 0 for a file no
/// migration ever committed to.
pub fn schema_objects(s: &Store) -> Result<i64> {
    Ok(s.sqlite()?
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))?)
}

/// The engine's own integrity check: `["ok"]` when sound, else what it found.
pub fn integrity(s: &Store) -> Result<Vec<String>> {
    let c = s.sqlite()?;
    let mut st = c.prepare("PRAGMA integrity_check")?;
    let lines = st.query_map([], |r| r.get(0))?;
    Ok(lines.collect::<rusqlite::Result<_>>()?)
}

/// The first line of the integrity check (`ok` when sound).
pub fn integrity_first(s: &Store) -> Result<String> {
    Ok(s.sqlite()?
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
}

/// Rows whose reference points nowhere, as `table row N -> target`.
pub fn broken_references(s: &Store) -> Result<Vec<String>> {
    let c = s.sqlite()?;
    let mut st = c.prepare("PRAGMA foreign_key_check")?;
    let rows = st.query_map([], |r| {
        Ok(format!(
            "{} row {} -> {}",
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
            r.get::<_, String>(2)?
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The journal mode this connection reports (`wal` when healthy).
pub fn journal_mode(s: &Store) -> Result<String> {
    Ok(s.sqlite()?
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))?)
}

/// Whether the store was opened read-only (a read-only mount).
pub fn is_read_only(s: &Store) -> bool {
    s.sqlite()
        .is_ok_and(|c| c.is_readonly(rusqlite::DatabaseName::Main).unwrap_or(false))
}

/// Whether the file behind the store is in WAL mode, read from its header without writing
/// (read and write versions 2, bytes 18-19); None when there is no file to read.
pub fn file_in_wal_mode(s: &Store) -> Option<bool> {
    let (_, head) = crate::db::peek::head(Path::new(s.sqlite().ok()?.path()?), 20).ok()?;
    (head.len() == 20).then(|| head[18] == 2 && head[19] == 2)
}

/// Writes a compact, consistent copy of the whole store into `target` (an empty file).
/// An encrypted store's copy is encrypted with the same key, in crm's `SQLCipher` settings.
pub fn copy_into(s: &Store, target: &str) -> Result<()> {
    let c = s.sqlite()?;
    if let Some(key) = crate::db::cipher::key_of(c) {
        return crate::db::cipher::export(c, Path::new(target), Some(&key));
    }
    c.execute("VACUUM INTO ?", [target])?;
    Ok(())
}

/// How many audit entries have this action (`demo` marks a demo database).
pub fn audit_count(s: &Store, action: &str) -> Result<i64> {
    Ok(s.sqlite()?.query_row(
        "SELECT COUNT(*) FROM audit WHERE action = ?",
        [action],
        |r| r.get(0),
    )?)
}

/// The file's schema version (`PRAGMA user_version`).
pub fn user_version(s: &Store) -> Result<i64> {
    Ok(s.sqlite()?
        .query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// The file's application id (crm's is [`crate::db::APPLICATION_ID`]).
pub fn application_id(s: &Store) -> Result<i64> {
    Ok(s.sqlite()?
        .query_row("PRAGMA application_id", [], |r| r.get(0))?)
}
