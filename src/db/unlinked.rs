//! A commit that cannot reach its file is never a success: every commit on crm's connection
//! first checks that the database path still names the file that was opened (same device and
//! inode). If the file was deleted, renamed or replaced meanwhile, the commit is turned into a
//! rollback and the command fails with exit 9, instead of writing into a file no one can
//! open again and reporting success.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rusqlite::Connection;

use crate::error::{Error, Result};

/// The database whose file went away, for the error the refused commit turns into.
static GONE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Watches `path` for every commit on `conn`: the file it names now is the one opened.
pub fn watch(conn: &Connection, path: &Path) -> Result<()> {
    let opened = std::fs::metadata(path)?;
    let (dev, ino) = (opened.dev(), opened.ino());
    let path = path.to_path_buf();
    conn.commit_hook(Some(move || {
        let same = std::fs::metadata(&path).is_ok_and(|m| m.dev() == dev && m.ino() == ino);
        if !same {
            *GONE.lock().unwrap_or_else(PoisonError::into_inner) = Some(path.clone());
        }
        // true turns the commit into a rollback (SQLITE_CONSTRAINT_COMMITHOOK).
        !same
    }));
    Ok(())
}

/// Whether a `SQLite` error is a commit refused by the watch above.
pub fn is_refused(e: &rusqlite::ffi::Error) -> bool {
    e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_COMMITHOOK
}

/// The error a refused commit becomes: exit 9, naming the database file.
pub fn error() -> Error {
    let gone = GONE.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let name = gone.map_or_else(
        || "the database file".to_string(),
        |p| p.display().to_string(),
    );
    Error::storage(format!(
        "{name} was deleted or replaced while this command ran; nothing was written"
    ))
    .hint("the data went nowhere: check the path, restore a backup if the file is lost, and run the command again")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::db::{Db, OpenMode};
    use crate::error::ErrorKind;

    fn write(db: &Db) -> Result<usize> {
        db.store
            .sqlite()?
            .execute("CREATE TABLE IF NOT EXISTS t (x)", [])?;
        Ok(db.store.sqlite()?.execute("INSERT INTO t VALUES (1)", [])?)
    }

    #[test]
    fn a_deleted_or_replaced_database_refuses_every_commit() {
        let dir = tempfile::tempdir().expect("dir");
        for replace in [false, true] {
            let path = dir.path().join(format!("crm-{replace}.db"));
            let db = Db::open(&path, OpenMode::Create, Duration::from_secs(1)).expect("open");
            write(&db).expect("a write while the file is there");
            if replace {
                std::fs::copy(&path, dir.path().join("copy")).expect("copy");
                std::fs::rename(dir.path().join("copy"), &path).expect("replace");
            } else {
                std::fs::remove_file(&path).expect("unlink");
            }
            let e = write(&db).expect_err("the file is gone");
            assert_eq!(e.kind, ErrorKind::Storage, "{}", e.message);
            assert!(
                e.message.contains(&path.display().to_string()),
                "{}",
                e.message
            );
        }
    }
}
