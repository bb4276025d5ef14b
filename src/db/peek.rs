//! Reads the first bytes of a database file without dropping this process's locks on it.
//!
//! POSIX drops every lock a process holds on a file when the process closes *any* descriptor
//! of that file. `SQLite`'s shared lock on the database file is how other processes know a
//! connection is still there: once it is gone, the last other connection to close
//! checkpoints and deletes the WAL and the `-shm` under ours, and our next write corrupts the
//! file. So a plain open-read-close of the header of a database this process has open (is
//! it encrypted? in which settings? in WAL mode?) is a corruption bug: `crm backup` under
//! write load broke its source that way. Every file crm opens in `SQLite` gets one
//! descriptor of its own, opened after the connection and never closed ([`hold`]), and every
//! peek at such a file reads through it; a file crm has no connection to is read the usual way.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

/// The descriptors kept on files this process opened in `SQLite`, with their (device, inode).
static HELD: Mutex<Vec<((u64, u64), File)>> = Mutex::new(Vec::new());

fn id(m: &std::fs::Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

/// Keeps a descriptor on `path` (a file a `SQLite` connection of this process has just
/// opened) for the rest of the process. Nothing when it is not a regular file (a URI, say).
pub fn hold(path: &Path) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if !meta.is_file() {
        return;
    }
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    if held.iter().any(|(k, _)| *k == id(&meta)) {
        return;
    }
    if let Ok(f) = File::open(path) {
        // Keyed by what was opened: a file renamed in meanwhile is held too, never closed.
        let key = f.metadata().map_or(id(&meta), |m| id(&m));
        held.push((key, f));
    }
}

/// The length of the file at `path` and its first `n` bytes (fewer when it is shorter);
/// an error when there is no file to read.
pub fn head(path: &Path, n: usize) -> std::io::Result<(u64, Vec<u8>)> {
    let meta = std::fs::metadata(path)?;
    let held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, f)) = held.iter().find(|(k, _)| *k == id(&meta)) {
        return read_head(f, n);
    }
    // No connection of this process is on it: closing this descriptor drops nothing.
    read_head(&File::open(path)?, n)
}

fn read_head(f: &File, n: usize) -> std::io::Result<(u64, Vec<u8>)> {
    let len = f.metadata()?.len();
    let mut buf = vec![0_u8; n];
    let mut got = 0;
    while got < n {
        match f.read_at(&mut buf[got..], got as u64)? {
            0 => break,
            k => got += k,
        }
    }
    buf.truncate(got);
    Ok((len, buf))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::db::{Db, OpenMode, cipher, maintain};

    /// How many POSIX locks this process holds on the file `ino` (Linux's `/proc/locks`).
    fn locks_held(ino: u64) -> usize {
        let me = std::process::id().to_string();
        let suffix = format!(":{ino}");
        std::fs::read_to_string("/proc/locks")
            .expect("/proc/locks")
            .lines()
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.get(1) == Some(&"POSIX")
                    && f.get(4) == Some(&me.as_str())
                    && f.get(5).is_some_and(|d| d.ends_with(&suffix))
            })
            .count()
    }

    #[test]
    fn peeks_at_an_open_database_keep_its_locks() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("crm.db");
        let db = Db::open(&path, OpenMode::Create, Duration::from_secs(1)).expect("open");
        let ino = std::fs::metadata(&path).expect("meta").ino();
        assert!(
            locks_held(ino) > 0,
            "an open WAL database holds a shared lock"
        );
        let before = locks_held(ino);
        assert_eq!(cipher::header(&path), cipher::Header::Plain);
        assert_eq!(
            cipher::Settings::of(&path),
            cipher::Settings::Defaults,
            "a plain file has no mark"
        );
        assert_eq!(cipher::key_of(db.store.sqlite().expect("sqlite")), None);
        assert_eq!(head(&path, 16).expect("head").1, b"SQLite format 3\0");
        let _ = maintain::file_in_wal_mode(&db.store);
        assert_eq!(locks_held(ino), before, "a peek dropped SQLite's locks");
    }

    #[test]
    fn head_reads_what_is_there() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("short");
        std::fs::write(&path, b"abc").expect("write");
        assert_eq!(head(&path, 16).expect("head"), (3, b"abc".to_vec()));
        hold(&path);
        assert_eq!(head(&path, 2).expect("held"), (3, b"ab".to_vec()));
        assert!(head(&dir.path().join("none"), 4).is_err());
    }
}
