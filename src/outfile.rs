//! A target a crm command may write (`export -o`, `import --rejects`, `backup`): the one place
//! the overwrite rule lives (SPEC "Files crm writes"). `-` is stdout. An existing file is
//! replaced only with `--force`. Never, whatever `--force` says: a file this process keeps open
//! (the database, its `-wal`/`-shm`/`-journal`), the file it reads (an import's input), or
//! anything but a regular file. Files are compared by canonical path and by device and inode,
//! so a symlink, a hard link or a relative path cannot reach a protected file. Writers check
//! before any work, and again just before the finished temp file takes the name.

use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::error::{Error, ErrorKind, Result};

/// Files this process must never write, registered as it opens them, with what they are.
static PROTECTED: Mutex<Vec<(PathBuf, &'static str)>> = Mutex::new(Vec::new());

fn protect(path: PathBuf, what: &'static str) {
    let mut list = PROTECTED.lock().unwrap_or_else(PoisonError::into_inner);
    if !list.iter().any(|(p, _)| *p == path) {
        list.push((path, what));
    }
}

/// Registers the open database and the files `SQLite` keeps beside it. `SQLite` follows a
/// symlinked database to its target and keeps the `-wal`/`-shm` there, so the companions of
/// the resolved path are registered too.
pub fn protect_database(path: &Path) {
    let real = std::fs::canonicalize(path).ok();
    for base in std::iter::once(path).chain(real.as_deref()) {
        for (suffix, what) in [
            ("", "the open database"),
            ("-wal", "the open database's -wal file"),
            ("-shm", "the open database's -shm file"),
            ("-journal", "the open database's journal"),
        ] {
            let mut p = base.as_os_str().to_owned();
            p.push(suffix);
            protect(PathBuf::from(p), what);
        }
    }
}

/// Registers a file the command reads. `-` is stdin, which may be a file redirected in
/// (`< in.csv`): `/dev/stdin` leads to it, by inode and by resolved path.
pub fn protect_input(path: &Path) {
    let path = if path == Path::new("-") {
        Path::new("/dev/stdin")
    } else {
        path
    };
    protect(path.to_path_buf(), "the file being read");
}

/// A checked place to write a file: where it goes and what the user called it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    /// The resolved path (symlinks followed): the temp file goes beside it.
    pub path: PathBuf,
    /// The path as given, for messages.
    pub arg: PathBuf,
    pub force: bool,
}

/// Where a command writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Stdout,
    File(Dest),
}

/// Checks `arg` as a write target under the rule; nothing is created or changed.
pub fn check(arg: &Path, force: bool) -> Result<Target> {
    if arg == Path::new("-") {
        return Ok(Target::Stdout);
    }
    let shown = arg.display();
    let refuse = |why: String| Error::conflict(format!("will not write {shown}: {why}"));
    let path = match std::fs::symlink_metadata(arg) {
        Ok(_) => {
            let meta = std::fs::metadata(arg)
                .map_err(|_| refuse("it is a symbolic link to a missing file".into()))?;
            let path = std::fs::canonicalize(arg).map_err(|e| cannot_write(arg, &e))?;
            if let Some(what) = protected(&path, Some(&meta)) {
                return Err(refuse(format!("it is {what}")).hint(
                    "crm never writes over a file it has open or reads; choose another name",
                ));
            }
            if !meta.is_file() {
                return Err(refuse(format!("it is {}, not a regular file", kind(&meta)))
                    .hint("crm writes only regular files (or - for stdout)"));
            }
            if !force {
                return Err(Error::conflict(format!("{shown} already exists"))
                    .hint("pass --force to replace it"));
            }
            path
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // `out/` names a directory, though `Path` would drop the slash.
            let dir_name = arg.as_os_str().as_encoded_bytes().ends_with(b"/");
            let name = arg
                .file_name()
                .filter(|_| !dir_name)
                .ok_or_else(|| Error::usage(format!("{shown} is not a file name")))?;
            let parent = arg.parent().filter(|d| !d.as_os_str().is_empty());
            let dir = std::fs::canonicalize(parent.unwrap_or(Path::new(".")))
                .ok()
                .filter(|d| d.is_dir())
                .ok_or_else(|| {
                    Error::storage(format!(
                        "cannot write {shown}: the directory {} does not exist",
                        parent.unwrap_or(Path::new(".")).display()
                    ))
                    .hint("create the directory first, or choose another path")
                })?;
            let path = dir.join(name);
            if let Some(what) = protected(&path, None) {
                return Err(refuse(format!("it is {what}")));
            }
            path
        }
        Err(e) => return Err(cannot_write(arg, &e)),
    };
    Ok(Target::File(Dest {
        path,
        arg: arg.to_path_buf(),
        force,
    }))
}

/// Gives a finished temp file (in `dest`'s directory) the destination's name, after checking
/// the rule again: without `--force` a hard link, which fails when the name was taken meanwhile.
pub fn place(tmp: &Path, dest: &Dest) -> Result<()> {
    let Target::File(now) = check(&dest.arg, dest.force)? else {
        return Err(Error::internal("a file target turned into stdout"));
    };
    let linked = if dest.force {
        false
    } else {
        match std::fs::hard_link(tmp, &now.path) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(
                    Error::conflict(format!("{} already exists", dest.arg.display()))
                        .hint("pass --force to replace it"),
                );
            }
            // A file system without hard links: the check above is the guard.
            Err(_) => false,
        }
    };
    if linked {
        std::fs::remove_file(tmp).map_err(|e| cannot_write(&dest.arg, &e))?;
    } else {
        std::fs::rename(tmp, &now.path).map_err(|e| cannot_write(&dest.arg, &e))?;
    }
    // The new name must survive a crash too.
    if let Some(dir) = now.path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| cannot_write(&dest.arg, &e))?;
    }
    Ok(())
}

/// An I/O failure on a write target, named as the user wrote it.
pub fn cannot_write(arg: &Path, e: &std::io::Error) -> Error {
    let base = Error::from(std::io::Error::new(e.kind(), e.to_string()));
    let kind = match base.kind {
        // A missing directory or a vanished file is not a missing record.
        ErrorKind::NotFound => ErrorKind::Storage,
        k => k,
    };
    Error::new(
        kind,
        format!("cannot write {}: {}", arg.display(), base.message),
    )
}

/// What `path` (resolved; `meta` when it exists) is, if it is a protected file.
fn protected(path: &Path, meta: Option<&Metadata>) -> Option<&'static str> {
    let list = PROTECTED.lock().unwrap_or_else(PoisonError::into_inner);
    list.iter().find_map(|(p, what)| {
        let same_inode = match (meta, std::fs::metadata(p)) {
            (Some(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        (same_inode || resolve(p).as_deref() == Some(path)).then_some(*what)
    })
}

/// The canonical form of a path that may not exist yet (its directory must).
fn resolve(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(p) {
        return Some(c);
    }
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
    Some(
        std::fs::canonicalize(dir.unwrap_or(Path::new(".")))
            .ok()?
            .join(p.file_name()?),
    )
}

fn kind(m: &Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_for_each_kind_of_target() {
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        let db = d.join("crm.db");
        std::fs::write(&db, "db").expect("db");
        protect_database(&db);
        let input = d.join("in.csv");
        std::fs::write(&input, "a\n").expect("input");
        protect_input(&input);
        std::os::unix::fs::symlink(&db, d.join("link")).expect("symlink");
        std::fs::hard_link(&db, d.join("hard")).expect("hard link");
        std::os::unix::fs::symlink(d.join("gone"), d.join("dangling")).expect("symlink");
        std::fs::write(d.join("old.csv"), "old").expect("old");
        for (name, force) in [
            ("crm.db", true),
            ("crm.db-wal", true),
            ("crm.db-shm", false),
            ("link", true),
            ("hard", true),
            ("in.csv", true),
            ("dangling", true),
            ("old.csv", false),
            ("", true),
        ] {
            let e = check(&d.join(name), force).expect_err(name);
            assert_eq!(e.kind, ErrorKind::Conflict, "{name}: {}", e.message);
        }
        let e = check(Path::new("/dev/null"), true).expect_err("device");
        assert!(e.message.contains("a device"), "{}", e.message);
        assert!(matches!(
            check(&d.join("old.csv"), true),
            Ok(Target::File(_))
        ));
        assert!(matches!(
            check(&d.join("new.csv"), false),
            Ok(Target::File(_))
        ));
        assert_eq!(
            check(Path::new("-"), false).expect("stdout"),
            Target::Stdout
        );
        let e = check(Path::new(&format!("{}/new-dir/", d.display())), true).expect_err("dir/");
        assert_eq!(e.kind, ErrorKind::Usage, "{}", e.message);
        let e = check(&d.join("no/dir/x.csv"), false).expect_err("missing dir");
        assert_eq!(e.kind, ErrorKind::Storage);
        assert!(e.message.contains("no/dir/x.csv"), "{}", e.message);
    }
}
