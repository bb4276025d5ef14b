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

use crate::error::Result;

/// An open store, on one engine.
pub enum Store {
    Sqlite(Connection),
}

impl Store {
    /// The `SQLite` connection, for the engine's code in `db/`.
    pub(in crate::db) fn sqlite(&self) -> &Connection {
        match self {
            Store::Sqlite(c) => c,
        }
    }

    /// Starts a write transaction. On `SQLite` it is `BEGIN IMMEDIATE`, so concurrent
    /// writers wait for the lock (busy timeout) instead of failing at their first write.
    pub fn write(&mut self) -> Result<Tx<'_>> {
        let store: &Store = self;
        let tx = Transaction::new_unchecked(store.sqlite(), TransactionBehavior::Immediate)?;
        Ok(Tx { store, tx })
    }

    /// Starts a read transaction: every query inside sees the same snapshot. Ended with
    /// [`Tx::finish`] (or dropped), it changes nothing.
    pub fn read(&self) -> Result<Tx<'_>> {
        let tx = Transaction::new_unchecked(self.sqlite(), TransactionBehavior::Deferred)?;
        Ok(Tx { store: self, tx })
    }
}

/// A transaction on a store; it is a [`Store`] for every query made inside it. Dropped
/// without [`Tx::commit`], it rolls back.
pub struct Tx<'a> {
    store: &'a Store,
    tx: Transaction<'a>,
}

impl Tx<'_> {
    /// Commits; on failure (say, the disk is full) nothing of it stays.
    pub fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }

    /// Rolls back: nothing of it stays.
    pub fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback()?)
    }

    /// Ends a read transaction (rolls back: it wrote nothing).
    pub fn finish(self) -> Result<()> {
        Ok(self.tx.finish()?)
    }
}

impl Deref for Tx<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store
    }
}
