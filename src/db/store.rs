//! The store handle: what commands, rules, auth and reports hold instead of an engine's
//! connection, and its transaction [`Tx`].
//!
//! An enum over engines rather than a trait (atuin's `Database`): crm is one binary that
//! ships every engine it supports, and plugins are not a goal, so the set of engines is
//! closed. With an enum, callers take a plain `&Store` (no generic parameter threading
//! through every command, no `dyn` with its object-safety limits on generic methods), each
//! engine's code sits in one `match` arm inside `db/`, and adding the `PostgreSQL` engine is a
//! new variant whose missing arms the compiler lists. Nothing above `db/` can reach the
//! engine inside: [`Store::sqlite`] is visible to `db/` only.

use std::ops::Deref;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::db::postgres::Pg;
use crate::error::{Error, Result};

/// An open store, on one engine. One per process, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Store {
    Sqlite(Connection),
    Postgres(Pg),
}

impl Store {
    /// The `SQLite` connection, for the engine's code in `db/` that only `SQLite` has (the
    /// file's pragmas, WAL, its index set-aside): on `PostgreSQL` an internal error naming
    /// the gap, never a panic.
    pub(in crate::db) fn sqlite(&self) -> Result<&Connection> {
        match self {
            Store::Sqlite(c) => Ok(c),
            Store::Postgres(_) => Err(Error::internal(
                "a SQLite-only store function was called on PostgreSQL",
            )),
        }
    }

    /// Whether this store is `SQLite` (what names the file itself: pragmas, WAL, backup).
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Store::Sqlite(_))
    }

    /// The `PostgreSQL` connection, when that is the engine.
    pub(in crate::db) fn postgres(&self) -> Option<&Pg> {
        match self {
            Store::Postgres(pg) => Some(pg),
            Store::Sqlite(_) => None,
        }
    }

    /// An error for a command that needs the `SQLite` engine.
    pub fn require_sqlite(&self, what: &str) -> Result<()> {
        if self.is_sqlite() {
            Ok(())
        } else {
            Err(Error::usage(format!(
                "{what} is not available on PostgreSQL yet"
            )))
        }
    }

    /// Starts a write transaction. On `SQLite` it is `BEGIN IMMEDIATE`, so concurrent
    /// writers wait for the lock (busy timeout) instead of failing at their first write; on
    /// `PostgreSQL` it is READ COMMITTED with `crm.begin_write()`, which takes the audit
    /// lock for the same effect (writers in turn, the audit chain in commit order).
    pub fn write(&mut self) -> Result<Tx<'_>> {
        let store: &Store = self;
        match store {
            Store::Sqlite(c) => {
                let tx = Transaction::new_unchecked(c, TransactionBehavior::Immediate)?;
                Ok(Tx {
                    store,
                    tx: Inner::Sqlite(tx),
                })
            }
            Store::Postgres(pg) => {
                pg.batch("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT crm.begin_write()")?;
                Ok(Tx {
                    store,
                    tx: Inner::Postgres { open: true },
                })
            }
        }
    }

    /// Starts a write transaction that only adds new records (`crm add` of a record whose
    /// rules change no other record). On `SQLite` it is [`Store::write`]; on `PostgreSQL`
    /// it takes `crm.begin_add()` instead of `crm.begin_write()`, so adders run side by
    /// side (each id claimed, the audit chained at COMMIT: `migrate/postgres/v2.sql`) while
    /// the writers that change existing records still run one at a time. A database not
    /// yet upgraded to v2 lacks `crm.begin_add`: there it is [`Store::write`].
    pub fn write_adding(&mut self) -> Result<Tx<'_>> {
        let Store::Postgres(pg) = &*self else {
            return self.write();
        };
        if pg.schema.get() < 2 {
            return self.write();
        }
        pg.batch("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT crm.begin_add()")?;
        Ok(Tx {
            store: self,
            tx: Inner::Postgres { open: true },
        })
    }

    /// Starts a read transaction: every query inside sees the same snapshot. Ended with
    /// [`Tx::finish`] (or dropped), it changes nothing.
    pub fn read(&self) -> Result<Tx<'_>> {
        match self {
            Store::Sqlite(c) => {
                let tx = Transaction::new_unchecked(c, TransactionBehavior::Deferred)?;
                Ok(Tx {
                    store: self,
                    tx: Inner::Sqlite(tx),
                })
            }
            Store::Postgres(pg) => {
                pg.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
                Ok(Tx {
                    store: self,
                    tx: Inner::Postgres { open: true },
                })
            }
        }
    }
}

/// The engine's own transaction.
enum Inner<'a> {
    Sqlite(Transaction<'a>),
    /// `open` until COMMIT or ROLLBACK was sent; dropped open, it rolls back.
    Postgres {
        open: bool,
    },
}

/// A transaction on a store; it is a [`Store`] for every query made inside it. Dropped
/// without [`Tx::commit`], it rolls back.
pub struct Tx<'a> {
    store: &'a Store,
    tx: Inner<'a>,
}

impl Tx<'_> {
    /// Commits; on failure (say, the disk is full) nothing of it stays.
    pub fn commit(mut self) -> Result<()> {
        self.end("COMMIT")
    }

    /// Rolls back: nothing of it stays.
    pub fn rollback(mut self) -> Result<()> {
        self.end("ROLLBACK")
    }

    /// Ends a read transaction (rolls back: it wrote nothing).
    pub fn finish(mut self) -> Result<()> {
        self.end("ROLLBACK")
    }

    fn end(&mut self, how: &str) -> Result<()> {
        match std::mem::replace(&mut self.tx, Inner::Postgres { open: false }) {
            Inner::Sqlite(tx) => {
                if how == "COMMIT" {
                    tx.commit()?;
                } else {
                    tx.rollback()?;
                }
                Ok(())
            }
            Inner::Postgres { open } => {
                if open && let Some(pg) = self.store.postgres() {
                    pg.batch(how)?;
                }
                Ok(())
            }
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if let (Inner::Postgres { open: true }, Some(pg)) = (&self.tx, self.store.postgres()) {
            // Best effort: a broken connection has rolled back on the server already.
            let _ = pg.batch("ROLLBACK");
        }
    }
}

impl Deref for Tx<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store
    }
}
