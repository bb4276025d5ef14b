//! Encryption at rest (`SQLCipher`): which files are encrypted, the key applied to every
//! connection before its first read, and the exports that convert a file between plain and
//! encrypted. Where the key comes from (`CRM_DB_KEY`, `--key-file`, a prompt) is decided
//! above `db/` (`dbkey.rs`), which registers a [`KeySource`] here; the key is asked at most
//! once per process and only when an encrypted file is opened.

mod settings;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
pub use settings::Settings;

/// Where the key of an encrypted database comes from: Ok(None) when none was given.
pub type KeySource = Box<dyn Fn(&Path) -> Result<Option<String>> + Send>;

static SOURCE: Mutex<Option<KeySource>> = Mutex::new(None);
/// The key once found: a backup's temp copy or a restored file use it without asking again.
static KEY: Mutex<Option<String>> = Mutex::new(None);

/// Whether this crm was built with `SQLCipher` (the default `encryption` feature).
pub const AVAILABLE: bool = cfg!(feature = "encryption");

/// Registers where keys come from (called once, before any database is opened).
pub fn set_source(source: KeySource) {
    *SOURCE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(source);
}

/// Remembers `key` as the key of the databases this process opens (after `init --encrypt`,
/// `encrypt` or `rekey`, which made it so).
pub fn remember(key: &str) {
    *KEY.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(key.to_string());
}

/// The key this process found or set, if any.
pub fn remembered() -> Option<String> {
    KEY.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// The key for the encrypted file `path`: the remembered one, else the source's.
fn key_for(path: &Path) -> Result<Option<String>> {
    if let Some(k) = KEY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
    {
        return Ok(Some(k));
    }
    let found = match SOURCE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
    {
        Some(source) => source(path)?,
        None => std::env::var("CRM_DB_KEY").ok().filter(|k| !k.is_empty()),
    };
    if let Some(k) = &found {
        remember(k);
    }
    Ok(found)
}

/// What a file's first bytes say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// No file, or an empty one: nothing to decrypt.
    Empty,
    /// A plain `SQLite` file.
    Plain,
    /// Not a plain `SQLite` file, with a size a `SQLCipher` file has (whole pages of at least
    /// 512 bytes): encrypted, or damaged beyond its header.
    Encrypted,
    /// Neither: not a database at all (a text file, a truncated copy).
    Foreign,
}

/// Reads `path`'s header.
pub fn header(path: &Path) -> Header {
    let Ok((len, head)) = super::peek::head(path, 16) else {
        return Header::Empty;
    };
    if len == 0 {
        return Header::Empty;
    }
    if head == b"SQLite format 3\0" {
        return Header::Plain;
    }
    if len >= 512 && len % 512 == 0 {
        Header::Encrypted
    } else {
        Header::Foreign
    }
}

/// How a connection to one file is unlocked: no key, or a key (the file's, or a new one for
/// a file being created encrypted) with the file's `SQLCipher` settings.
pub struct Lock {
    key: Option<String>,
    /// The file exists encrypted: a refused first read means the key is wrong.
    existing: bool,
    /// The existing file's settings (read from its salt), or crm's for a new file.
    settings: Settings,
    /// A new encrypted file's salt (marked: [`settings::MARK`]).
    salt: Option<[u8; 16]>,
}

impl Lock {
    /// The lock of `path`; `new_key` when the file is being created encrypted. An encrypted
    /// file without a key is exit 6 here, before `SQLite` says "file is not a database".
    pub fn of(path: &Path, new_key: Option<&str>) -> Result<Lock> {
        match header(path) {
            Header::Encrypted => match key_for(path)? {
                Some(key) => Ok(Lock::existing(path, Some(&key))),
                None => Err(no_key(path)),
            },
            Header::Empty => Ok(Lock {
                key: new_key.map(str::to_string),
                existing: false,
                settings: Settings::Crm,
                salt: new_key.map(|_| settings::marked_salt()).transpose()?,
            }),
            Header::Plain | Header::Foreign => Ok(Lock::existing(path, None)),
        }
    }

    /// The lock of the existing file `path` opened with `key` (None: a plain file).
    pub fn existing(path: &Path, key: Option<&str>) -> Lock {
        Lock {
            key: key.map(str::to_string),
            existing: key.is_some(),
            settings: Settings::of(path),
            salt: None,
        }
    }

    /// Opens `target` (the file, or a URI naming it) with `flags` and unlocks it: a keyed
    /// connection reads once, so a wrong key fails here ([`Lock::refused`]). A file whose salt
    /// only happens to start like crm's mark (one in 2^32 of earlier crm's files) is tried
    /// again with `SQLCipher`'s defaults.
    pub fn open(&self, target: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
        let attempt = |settings: Settings| -> rusqlite::Result<Connection> {
            let c = Connection::open_with_flags(target, flags)?;
            super::peek::hold(target);
            self.apply_as(&c, settings)?;
            if self.key.is_some() {
                c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(()))?;
            }
            Ok(c)
        };
        match attempt(self.settings) {
            Err(e) if self.refused(&e) && self.settings != Settings::Defaults => {
                attempt(Settings::Defaults).map_err(|_| e)
            }
            other => other,
        }
    }

    /// Applies the key and the settings to a fresh connection: its first statements.
    fn apply_as(&self, c: &Connection, settings: Settings) -> rusqlite::Result<()> {
        let Some(k) = &self.key else {
            return Ok(());
        };
        apply_key(c, k)?;
        settings.apply(c, "main")?;
        match &self.salt {
            Some(salt) => settings::apply_salt(c, "main", salt),
            None => Ok(()),
        }
    }

    /// Whether `e`, from the first read, means the key did not open the file.
    pub fn refused(&self, e: &rusqlite::Error) -> bool {
        self.existing
            && matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase)
    }
}

/// `PRAGMA key` (no parameters can be bound to a pragma: rusqlite quotes the value as a
/// string literal, doubling any quote).
fn apply_key(c: &Connection, key: &str) -> rusqlite::Result<()> {
    c.pragma_update(None, "key", key)
}

/// Exit 6 for an encrypted file opened without a key.
pub fn no_key(path: &Path) -> Error {
    if !AVAILABLE {
        return Error::storage(format!(
            "{} is encrypted or not a database, and this crm was built without encryption",
            path.display()
        ))
        .hint("use a crm built with the default `encryption` feature");
    }
    Error::auth(format!(
        "{} is encrypted and no key was given",
        path.display()
    ))
    .hint("set CRM_DB_KEY, pass --key-file FILE (mode 0600), or run on a terminal to be asked")
}

/// Exit 6 for a key that does not open the file.
pub fn wrong_key(path: &Path) -> Error {
    Error::auth(format!(
        "the key does not open {} (wrong key, or the file is damaged)",
        path.display()
    ))
    .hint("check CRM_DB_KEY or --key-file; a damaged file is restored from a backup (`crm restore FILE`)")
}

/// Writes the whole database `c` into the new, empty file `dest` with `key` (None: plain),
/// encrypted in crm's settings ([`Settings::Crm`]), through `sqlcipher_export`, which unlike
/// the backup API and `VACUUM INTO` crosses between encrypted and plain and between
/// settings (`VACUUM INTO` of a file in other than `SQLCipher`'s defaults writes a corrupt
/// copy). One read transaction: a consistent copy while others write.
pub fn export(c: &Connection, dest: &Path, key: Option<&str>) -> Result<()> {
    export_then(c, dest, key, |_| Ok(()))
}

/// [`export`], then `inside` on `c` in the export's own read transaction: what it reads
/// (row counts to compare the copy with) is the state the copy holds, whatever others
/// commit meanwhile.
pub fn export_then<T>(
    c: &Connection,
    dest: &Path,
    key: Option<&str>,
    inside: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    let dest = dest
        .to_str()
        .ok_or_else(|| Error::usage("the database path is not valid UTF-8"))?;
    // ATTACH's KEY takes an expression, so the key is bound; '' attaches a plain file.
    c.execute(
        "ATTACH DATABASE ?1 AS crm_export KEY ?2",
        [dest, key.unwrap_or("")],
    )?;
    let done = (|| -> Result<T> {
        if key.is_some() {
            Settings::Crm.apply(c, "crm_export")?;
            settings::apply_salt(c, "crm_export", &settings::marked_salt()?)?;
        }
        c.execute_batch("BEGIN")?;
        let copied = (|| -> Result<T> {
            c.query_row("SELECT sqlcipher_export('crm_export')", [], |_| Ok(()))?;
            // The export copies schema and rows; the header fields are crm's to carry over.
            let app: i64 = c.query_row("PRAGMA main.application_id", [], |r| r.get(0))?;
            let version: i64 = c.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
            c.execute_batch(&format!(
                "PRAGMA crm_export.application_id = {app}; PRAGMA crm_export.user_version = {version};"
            ))?;
            inside(c)
        })();
        match copied {
            Ok(found) => {
                c.execute_batch("COMMIT")?;
                Ok(found)
            }
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    })();
    let detached = c.execute("DETACH DATABASE crm_export", []);
    let found = done?;
    detached?;
    Ok(found)
}

/// The key of the encrypted database `c` is open on, None when it is plain.
pub fn key_of(c: &Connection) -> Option<String> {
    let path = c.path().filter(|p| !p.is_empty())?;
    if header(Path::new(path)) == Header::Encrypted {
        remembered()
    } else {
        None
    }
}

/// Changes the key of the open, keyed connection `c` (`PRAGMA rekey`).
pub fn rekey(c: &Connection, new_key: &str) -> Result<()> {
    c.pragma_update(None, "rekey", new_key)?;
    Ok(())
}
