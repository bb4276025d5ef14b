//! The only place SQL lives: opening the database with its pragmas, migrations,
//! generic record storage, search and the audit log. Everything above holds a [`Store`]
//! (`store.rs`) and calls the functions here; the engine's types and errors cross at its
//! edge (`sqlite/`), and nothing outside `db/` names rusqlite (a test keeps it so).

pub mod audit;
pub mod batch;
pub mod bulk;
pub mod cipher;
pub mod copy;
pub mod credit_unique;
pub mod derive;
pub mod dialect;
pub mod error;
pub mod fields;
pub mod lookup;
pub mod maintain;
pub mod merge;
pub mod migrate;
pub mod ownership;
pub mod peek;
pub mod postgres;
pub mod query;
pub mod records;
pub mod replace;
pub mod report;
pub mod row;
pub mod search;
pub mod server;
pub mod sessions;
pub mod settings;
pub mod sqlite;
pub mod stages;
pub mod store;
pub mod tokens;
pub mod unlinked;
pub mod users;
pub mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
pub use store::{Store, Tx};

/// Marks a `SQLite` file as a crm database (`PRAGMA application_id`): "CRM1".
pub const APPLICATION_ID: i64 = 0x4352_4d31;

/// An open crm database.
pub struct Db {
    /// The store: what every command reads and writes through.
    pub store: Store,
    pub path: PathBuf,
}

/// Whether opening may create the file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    Create,
    Existing,
}

impl Db {
    /// Opens (or creates) the database, sets the pragmas and runs pending migrations.
    pub fn open(path: &Path, mode: OpenMode, busy: Duration) -> Result<Db> {
        Db::open_as(path, mode, busy, None)
    }

    /// As [`Db::open`]; on `PostgreSQL`, connects as `login` when given (a saved session),
    /// else as the URL, the `PG*` variables and `.pgpass` say.
    pub fn open_as(
        path: &Path,
        mode: OpenMode,
        busy: Duration,
        login: Option<&server::Login>,
    ) -> Result<Db> {
        if let Some(url) = path.to_str().filter(|t| postgres::conninfo::is_url(t)) {
            return Db::open_postgres(url, mode, busy, login);
        }
        Db::open_sqlite(path, mode, busy, None)
    }

    /// Creates a new database file encrypted with `key` (`crm init --encrypt`).
    pub fn create_encrypted(path: &Path, busy: Duration, key: &str) -> Result<Db> {
        let db = Db::open_sqlite(path, OpenMode::Create, busy, Some(key))?;
        cipher::remember(key);
        Ok(db)
    }

    /// Opens a `SQLite` file; `new_key` encrypts a file being created.
    fn open_sqlite(
        path: &Path,
        mode: OpenMode,
        busy: Duration,
        new_key: Option<&str>,
    ) -> Result<Db> {
        let exists = path.exists();
        if !exists && mode == OpenMode::Existing {
            return Err(
                Error::storage(format!("no crm database at {}", path.display()))
                    .hint("create one with `crm init`, or pass --db PATH"),
            );
        }
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            // A directory, device or FIFO: say so, rather than blame permissions or hang.
            return Err(Error::storage(format!(
                "{} is not a database file (not a regular file)",
                path.display()
            ))
            .hint("pass --db PATH of a crm database file"));
        }
        // Before creating anything: an encrypted file without its key is exit 6 here.
        let lock = cipher::Lock::of(path, new_key)?;
        if !exists {
            create_private_file(path)?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        // SQLite opens lazily: the first read tells whether the file can really be used.
        let probe = |c: Connection| -> rusqlite::Result<Connection> {
            c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })?;
            Ok(c)
        };
        // The key is the first statement on the connection, before the probe reads a page.
        let opened = lock.open(path, flags).and_then(probe);
        let conn = match opened {
            Ok(c) => c,
            Err(e) if lock.refused(&e) => return Err(cipher::wrong_key(path)),
            Err(e) if exists && is_cant_open(&e) => open_read_only(path, &lock).ok_or_else(|| {
                storage_for(path, e).hint(
                    "the file or its directory is read-only; SQLite needs to create the -wal and -shm files next to it",
                )
            })?,
            Err(e) => return Err(storage_for(path, e)),
        };
        conn.busy_timeout(busy)?;
        unlinked::watch(&conn, path)?;
        crate::outfile::protect_database(path);
        let db = Db {
            store: Store::Sqlite(conn),
            path: path.to_path_buf(),
        };
        // Ours before anything writes: switching a foreign or empty file to WAL would change it.
        if mode == OpenMode::Existing {
            db.check_ours()?;
        }
        db.configure().map_err(|e| storage_context(path, e))?;
        migrate::run(db.store.sqlite()?).map_err(|e| storage_context(path, e))?;
        Ok(db)
    }

    /// Connects to a crm database on `PostgreSQL`. An existing one must have crm's schema;
    /// `crm init` (mode `Create`) sets it up itself.
    fn open_postgres(
        url: &str,
        mode: OpenMode,
        busy: Duration,
        login: Option<&server::Login>,
    ) -> Result<Db> {
        let mut info = postgres::ConnInfo::parse(url)?;
        if let Some(l) = login {
            info.config.user(&l.role).password(&l.password);
        }
        if info.config.get_connect_timeout().is_none() {
            // An unreachable host fails (exit 9) instead of hanging a script.
            info.config
                .connect_timeout(busy.max(Duration::from_secs(10)));
        }
        let pg = postgres::Pg::connect_with(&info, Some(busy))?;
        if mode == OpenMode::Existing {
            let Some(state) = postgres::setup::opened_state(&pg)? else {
                return Err(
                    Error::storage(format!("no crm database at {}", info.display()))
                        .hint("set it up with `crm init --db URL`"),
                );
            };
            let (at, known) = (state.version, state.known);
            pg.schema.set(at);
            if at > known {
                return Err(Error::storage(format!(
                    "{} was upgraded by a newer crm (schema {at}; this crm knows {known})",
                    info.display()
                ))
                .hint("use a crm at least as new as the one that upgraded it"));
            }
            if state.behind() {
                let what = if at < known {
                    format!("schema {at}; this crm needs {known}")
                } else {
                    "its grants, policies and triggers are another crm's".to_string()
                };
                return Err(Error::storage(format!(
                    "{} was set up by another crm ({what})",
                    info.display()
                ))
                .hint("nothing was changed; the role that owns it runs `crm init --db URL --upgrade` with this crm"));
            }
        }
        let db = Db {
            store: Store::Postgres(pg),
            path: PathBuf::from(info.display()),
        };
        Ok(db)
    }

    fn configure(&self) -> Result<()> {
        // trusted_schema=OFF: a hostile file's views and triggers cannot call risky functions.
        self.store
            .sqlite()?
            .execute_batch("PRAGMA trusted_schema = OFF; PRAGMA foreign_keys = ON;")?;
        let mode: String =
            self.store
                .sqlite()?
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal")
            && !self
                .store
                .sqlite()?
                .is_readonly(rusqlite::MAIN_DB)
                .unwrap_or(false)
        {
            return Err(Error::storage(format!(
                "cannot switch {} to WAL mode (got {mode})",
                self.path.display()
            )));
        }
        self.store
            .sqlite()?
            .execute_batch("PRAGMA synchronous = FULL;")?;
        Ok(())
    }

    /// Refuses a `SQLite` file that is not a crm database.
    fn check_ours(&self) -> Result<()> {
        let app: i64 = self
            .store
            .sqlite()?
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| storage_for(&self.path, e))?;
        if app != APPLICATION_ID {
            return Err(
                Error::storage(format!("{} is not a crm database", self.path.display()))
                    .hint("check --db; crm only opens files it created with `crm init`"),
            );
        }
        self.check_triggers()
    }

    /// Refuses a file with triggers crm did not create (added through sqlite3, say).
    fn check_triggers(&self) -> Result<()> {
        let found: Vec<(String, Option<String>)> = self
            .store
            .sqlite()?
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(|e| storage_for(&self.path, e))?;
        for (name, sql) in found {
            if !sql.is_some_and(|s| migrate::TRIGGERS.contains(&s.as_str())) {
                return Err(Error::storage(format!(
                    "{} holds a trigger crm did not create ({name}); refusing to run it",
                    self.path.display()
                ))
                .hint("inspect it with sqlite3 and drop it, or restore a backup"));
            }
        }
        Ok(())
    }

    /// Starts a write transaction with `BEGIN IMMEDIATE`, so concurrent writers wait for the
    /// lock (busy timeout) instead of failing at their first write.
    pub fn write(&mut self) -> Result<Tx<'_>> {
        self.store.write()
    }

    /// Starts a write transaction that only adds new records ([`Store::write_adding`]).
    pub fn write_adding(&mut self) -> Result<Tx<'_>> {
        self.store.write_adding()
    }
}

fn is_cant_open(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::CannotOpen)
}

/// A database on a read-only mount without its `-wal`/`-shm` files cannot be opened the usual
/// way; with no `-wal` there is nothing beyond the main file, so it is read as immutable.
/// Every write then fails with `SQLITE_READONLY` (exit 9, "read-only").
fn open_read_only(path: &Path, lock: &cipher::Lock) -> Option<Connection> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if Path::new(&wal).exists() {
        return None;
    }
    let abs = std::fs::canonicalize(path).ok()?;
    let mut uri = String::from("file:");
    for b in abs.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(char::from(*b));
            }
            _ => {
                use std::fmt::Write;
                let _ = write!(uri, "%{b:02X}");
            }
        }
    }
    uri.push_str("?immutable=1");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    lock.open(Path::new(&uri), flags).ok()
}

/// Creates an empty file readable only by its owner; `SQLite`'s -wal and -shm inherit its mode.
fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::storage(format!("cannot create directory {}: {e}", dir.display()))
        })?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::storage(format!("cannot create {}: {e}", path.display())))?;
    Ok(())
}

fn storage_for(path: &Path, e: rusqlite::Error) -> Error {
    storage_context(path, Error::from(e))
}

/// Names the file in storage errors, so the one line says which database is at fault.
fn storage_context(path: &Path, e: Error) -> Error {
    if e.kind == crate::error::ErrorKind::Storage || e.kind == crate::error::ErrorKind::Internal {
        let mut out = Error::storage(format!("{}: {}", path.display(), e.message));
        out.hints = e.hints;
        if out.hints.is_empty() {
            out.hints
                .push("check the path; restore a backup if the file is damaged".into());
        }
        return out;
    }
    e
}
