//! Store failures in engine-neutral terms. Each engine classifies its own errors into a
//! [`Fault`] at its edge (`SQLite`: `db/sqlite/error.rs`); the fault decides the crm error's
//! kind (and so the exit status), its message and hint, and the engine's error is kept as
//! the source.

use std::sync::Arc;

use crate::error::{Error, ErrorKind};

/// What went wrong in a store, whatever the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Another writer holds the lock past the busy timeout.
    Busy,
    /// A unique value is already taken.
    Unique,
    /// A reference points nowhere, or a referenced record cannot go.
    ForeignKey,
    ReadOnly,
    DiskFull,
    /// The file is not a database of this engine.
    NotADatabase,
    Corrupt,
    CannotOpen,
    Io,
    /// Anything else: a bug, reported as an internal error.
    Other,
}

impl Fault {
    /// The crm error for this fault. `code` is the engine's name for it (shown in
    /// parentheses where it helps a reader look it up), `detail` the engine's message.
    pub fn error(
        self,
        code: Option<&str>,
        detail: &str,
        source: Arc<dyn std::error::Error + Send + Sync>,
    ) -> Error {
        let code = code.map_or(String::new(), |c| format!(" ({c})"));
        let e = match self {
            Fault::Busy => Error::new(
                ErrorKind::Busy,
                format!("the database is locked ({detail})"),
            )
            .hint("another crm command holds the database; retry, or raise --busy-timeout"),
            Fault::DiskFull => Error::storage(format!("the disk is full{code}: {detail}"))
                .hint("free some space; nothing of this command was written"),
            Fault::ReadOnly => Error::storage(format!("the database is read-only: {detail}")),
            Fault::NotADatabase => Error::storage(format!("not a crm database{code}: {detail}"))
                .hint("check --db, or restore a backup"),
            Fault::Corrupt => Error::storage(format!("the database is corrupt{code}: {detail}"))
                .hint("restore a backup; crm never repairs by deleting"),
            Fault::CannotOpen => Error::storage(format!("cannot open the database: {detail}")),
            Fault::Io => Error::storage(format!("I/O error{code}: {detail}")),
            Fault::Unique => Error::conflict(format!("a unique value is already taken ({detail})")),
            Fault::ForeignKey => {
                Error::conflict(format!("the record is referenced by others ({detail})"))
            }
            Fault::Other => Error::internal(format!("database error: {detail}")),
        };
        e.with_source(source)
    }
}
