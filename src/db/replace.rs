//! Replacing a database file whole, safely (`crm encrypt`, `decrypt`, `rekey`, `restore`):
//! the new file is written beside the old one, checked, synced and renamed over it, with the
//! old file kept under another name until the new one verifies in place. A kill at any
//! point leaves the old file at its path (or the new, verified one), never half of either.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::db::{Db, OpenMode, Store, cipher};
use crate::error::{Error, Result};

/// A check a candidate file must pass (crm check's, given by the command).
pub type Verify<'a> = &'a dyn Fn(&Store) -> Result<()>;

/// `path` with `suffix` appended to its file name (`crm.db` → `crm.db.restore-12.tmp`).
pub fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

/// Test builds stop at a named stage when `CRM_TEST_PAUSE_AT` names it, saying so on stderr
/// and waiting on stdin, so a test can kill -9 the process at exactly that point.
pub fn stage(name: &str) {
    if cfg!(feature = "test-clock") && std::env::var("CRM_TEST_PAUSE_AT").is_ok_and(|s| s == name) {
        use std::io::{BufRead, Write};
        let mut err = std::io::stderr();
        let _ = writeln!(err, "crm: paused at {name}");
        let _ = err.flush();
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    }
}

/// Rows in every table of the database `c` (`main`): what a copy of it must hold too.
fn table_counts(c: &Connection) -> Result<Vec<(String, i64)>> {
    let names: Vec<String> = c
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    names
        .into_iter()
        .map(|n| {
            let q = format!("SELECT COUNT(*) FROM \"{}\"", n.replace('"', "\"\""));
            let count: i64 = c.query_row(&q, [], |r| r.get(0))?;
            Ok((n, count))
        })
        .collect()
}

/// Opens a candidate file read-only with `key` (None: plain), failing unless it reads.
fn open_candidate(path: &Path, key: Option<&str>) -> Result<Connection> {
    let c = cipher::Lock::existing(path, key).open(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(()))?;
    Ok(c)
}

/// Rewrites the open database `db` with `new_key` (None: plain) and puts the result in its
/// place. `verify` is crm check (without the journal mode: a fresh export is not in WAL mode).
pub fn convert(db: Db, new_key: Option<&str>, busy: Duration, verify: Verify) -> Result<()> {
    let path = db.path.clone();
    let tmp = beside(&path, &format!(".convert-{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let before = {
            let c = db.store.sqlite()?;
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            // Born 0600 (the connection, opened without CREATE, attaches only existing files).
            create_private(&tmp)?;
            // Counted in the export's own read transaction: the copy's state, not a later one.
            let counts = cipher::export_then(c, &tmp, new_key, table_counts)?;
            stage("exported");
            counts
        };
        let copy = open_candidate(&tmp, new_key)?;
        let ok: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if ok != "ok" || table_counts(&copy)? != before {
            return Err(Error::storage(format!(
                "the converted copy of {} did not match it; nothing was changed",
                path.display()
            )));
        }
        verify(&Store::Sqlite(copy))?;
        drop(db);
        // A write that landed after the export would be lost by the swap: look again.
        let now = table_counts(&open_candidate(&path, current_key(&path)?.as_deref())?)?;
        if now != before {
            return Err(Error::new(
                crate::error::ErrorKind::Busy,
                format!(
                    "{} changed during the conversion; nothing was changed, run it again",
                    path.display()
                ),
            ));
        }
        if let Some(k) = new_key {
            cipher::remember(k);
        }
        swap_in(&tmp, &path, busy, verify, false).map(|_| ())
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Rewrites the encrypted file `path`, which nothing else uses (a restore's copy of a
/// backup), in crm's `SQLCipher` settings with the same key.
pub fn to_crm_settings(path: &Path) -> Result<()> {
    let key = current_key(path)?.ok_or_else(|| cipher::no_key(path))?;
    let new = beside(path, ".settings");
    let _ = std::fs::remove_file(&new);
    create_private(&new)?;
    let done = cipher::Lock::existing(path, Some(&key))
        .open(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(Error::from)
        .and_then(|c| cipher::export(&c, &new, Some(&key)));
    match done {
        Ok(()) => std::fs::rename(&new, path).map_err(|e| io(path, &e)),
        Err(e) => {
            let _ = std::fs::remove_file(&new);
            Err(e)
        }
    }
}

/// The key the file at `path` is opened with now (None when it is plain).
fn current_key(path: &Path) -> Result<Option<String>> {
    if cipher::header(path) == cipher::Header::Encrypted {
        cipher::remembered()
            .map(Some)
            .ok_or_else(|| cipher::no_key(path))
    } else {
        Ok(None)
    }
}

/// Puts the checked file `tmp` at `path`: the old file (with its `-wal`) is kept beside as
/// `path.replaced-PID`, the new one renamed in, opened (migrations, WAL) and verified; a
/// failure puts the old one back. `keep`: leave the replaced file there (restore) rather
/// than remove it once the new one verifies (a conversion, whose old file holds the same
/// data, in the clear after `crm encrypt`). Returns where the replaced file is kept.
pub fn swap_in(
    tmp: &Path,
    path: &Path,
    busy: Duration,
    verify: Verify,
    keep: bool,
) -> Result<Option<PathBuf>> {
    let in_use = |suffix: &str| std::fs::metadata(beside(path, suffix)).is_ok_and(|m| m.len() > 0);
    if in_use("-wal") {
        return Err(Error::new(
            crate::error::ErrorKind::Busy,
            format!(
                "{} is in use by another crm process (its -wal is not empty); nothing was changed",
                path.display()
            ),
        )
        .hint("run it again when nothing else uses the database"));
    }
    std::fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(tmp, &e))?;
    let old = beside(path, &format!(".replaced-{}", std::process::id()));
    let had_old = path.exists();
    if had_old {
        std::fs::hard_link(path, &old).map_err(|e| io(&old, &e))?;
        for s in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(beside(path, s));
        }
    }
    stage("linked");
    std::fs::rename(tmp, path).map_err(|e| io(path, &e))?;
    sync_dir(path);
    stage("renamed");
    let checked = Db::open(path, OpenMode::Existing, busy).and_then(|db| verify(&db.store));
    match checked {
        Ok(()) if keep && had_old => Ok(Some(old)),
        Ok(()) => {
            let _ = std::fs::remove_file(&old);
            sync_dir(path);
            Ok(None)
        }
        Err(e) => {
            if had_old {
                let _ = std::fs::rename(&old, path);
                sync_dir(path);
            }
            Err(e)
        }
    }
}

/// Creates an empty file only its owner may read.
pub fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| io(path, &e))
}

fn io(path: &Path, e: &std::io::Error) -> Error {
    Error::storage(format!("{}: {e}", path.display()))
}

/// Makes a rename durable: the directory entry is synced too.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
}
