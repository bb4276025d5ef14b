//! A first load's search index built on a second thread (`SQLite`): a large import into an
//! empty table cuts each new record's index row and hands it to a thread that
//! fills an FTS5 table of the same definition in a private temporary database; at the end
//! of the import its index tables are copied into the database's, inside the import's one
//! transaction (a rollback or a kill leaves nothing: the temporary file is unlinked).
//!
//! Why: filling FTS5 is most of the cost of indexing a record (its pending-terms hash is a
//! cache miss a token), and the import's writer already keeps one core busy. Copying the
//! finished index's pages costs a fraction of building it, and an empty index (checked
//! through its shadow tables: no segment, no record) takes them as they are: the same
//! tokens, the same segments, the same answers.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::Connection;

use super::Docs;
use crate::error::{Error, Result};
use crate::schema::Entity;

/// Records handed over at a time.
const BATCH: usize = 1024;
/// Batches waiting for the thread at most (about 600 KB each: cut rows are larger than
/// the values they are cut from).
const QUEUE: usize = 2;
/// The temporary index's pending-terms hash: fewer, larger segments to merge than the
/// default 1 MB. Its entries take about three times this (FTS5 counts their data, not
/// their allocations): with the thread's page cache about 16 MiB beside the import's (a
/// 16 MiB hash made a 1,000,000-row import peak at 131 MiB, over its 128 MiB budget; 4 MiB
/// 127 MiB). The FTS5 inserts of 100,000 rows took 1.51 s of CPU with 2 MiB, 1.50 s with
/// 4 MiB and 1.56 s with 8 MiB in one run; 1.53 s with 1 MiB and 1.52 s with 16 MiB
/// against 1.17 s with 4 MiB in a quieter one.
const HASH_BYTES: i64 = 2 << 20;

/// Records' index rows (`Docs`), one after the other.
#[derive(Default)]
struct Batch {
    ids: Vec<i64>,
    text: String,
    /// Per record, where its index row ends in `text`.
    ends: Vec<usize>,
}

/// An index being built beside an import.
pub struct Side {
    pub entity: &'static str,
    batch: Batch,
    /// The index rows are cut here, on the import's thread: the thread's FTS5 inserts are
    /// the import's longest chain (perf, 100,000 rows: 58% of the CPU against the writer's
    /// 23%), so cutting beside them would only lengthen it.
    docs: Docs,
    send: Option<SyncSender<Batch>>,
    /// Batches the thread is done with, emptied.
    spent: Receiver<Batch>,
    thread: Option<JoinHandle<Result<Connection>>>,
}

/// The shadow tables of an FTS5 table that hold its index (`_config` holds settings only).
const SHADOWS: [&str; 3] = ["_data", "_idx", "_docsize"];

impl Side {
    /// Starts the thread when `e`'s index is empty: no record indexed, no segment (only the
    /// structure and averages records a new FTS5 table writes).
    pub fn start(c: &Connection, e: &'static Entity) -> Result<Option<Side>> {
        let name = format!("{}_search", e.name);
        let shadow = |s: &str| format!("\"{name}{s}\"");
        let indexed: Option<i64> = c
            .query_row(
                &format!("SELECT 1 FROM {} LIMIT 1", shadow("_docsize")),
                [],
                |r| r.get(0),
            )
            .ok();
        let segments: i64 = c.query_row(
            &format!(
                "SELECT COUNT(*) FROM {} WHERE id NOT IN (1, 10)",
                shadow("_data")
            ),
            [],
            |r| r.get(0),
        )?;
        let terms: i64 = c.query_row(
            &format!("SELECT COUNT(*) FROM {}", shadow("_idx")),
            [],
            |r| r.get(0),
        )?;
        if indexed.is_some() || segments > 0 || terms > 0 {
            return Ok(None);
        }
        let sql: String = c.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
            [&name],
            |r| r.get(0),
        )?;
        // The thread is the slower side: a deeper queue would only hold more rows in memory.
        let (send, recv) = sync_channel::<Batch>(QUEUE);
        // Batches come back emptied, to be filled again: their buffers are allocated once
        // (freed on the other thread, a new one per batch left the import's memory peak
        // to the allocator's timing).
        let (back, spent) = sync_channel::<Batch>(QUEUE + 2);
        let table = e.search_table();
        let thread = std::thread::spawn(move || build(&sql, &table, &recv, &back));
        Ok(Some(Side {
            entity: e.name,
            batch: Batch::default(),
            docs: Docs::default(),
            send: Some(send),
            spent,
            thread: Some(thread),
        }))
    }

    /// Takes a new record's values (the entity's fields, in order).
    pub fn push(&mut self, e: &Entity, id: i64, values: &[crate::schema::Value]) {
        let b = &mut self.batch;
        b.ids.push(id);
        b.text.push_str(self.docs.doc(e, values));
        b.ends.push(b.text.len());
        if b.ids.len() >= BATCH {
            self.send();
        }
    }

    fn send(&mut self) {
        let next = self.spent.try_recv().unwrap_or_default();
        let b = std::mem::replace(&mut self.batch, next);
        // A thread that stopped has an error, which `finish` reports.
        if self.send.as_ref().is_some_and(|s| s.send(b).is_err()) {
            self.send = None;
        }
    }

    /// Waits for the thread and copies its index into `c`'s (in the caller's transaction).
    pub fn finish(mut self, c: &Connection) -> Result<()> {
        self.send();
        self.send = None;
        let built = self
            .thread
            .take()
            .expect("joined once")
            .join()
            .map_err(|_| Error::internal("the search index thread panicked"))??;
        let name = format!("{}_search", self.entity);
        for s in SHADOWS {
            let table = format!("\"{name}{s}\"");
            let mut read = built.prepare(&format!("SELECT * FROM {table}"))?;
            let n = read.column_count();
            let marks = vec!["?"; n].join(", ");
            let mut write =
                c.prepare(&format!("INSERT OR REPLACE INTO {table} VALUES ({marks})"))?;
            let mut rows = read.query([])?;
            while let Some(r) = rows.next()? {
                for i in 0..n {
                    write.raw_bind_parameter(
                        i + 1,
                        rusqlite::types::ToSqlOutput::Borrowed(r.get_ref(i)?),
                    )?;
                }
                write.raw_execute()?;
            }
        }
        // FTS5 keeps a table's structure between statements; a savepoint rolled back over
        // it makes it read the copied one.
        c.execute_batch(&format!(
            "SAVEPOINT crm_side; DELETE FROM \"{name}\" WHERE rowid = -1; ROLLBACK TO crm_side; RELEASE crm_side"
        ))?;
        Ok(())
    }
}

/// The thread: makes the table in a private temporary database and fills it.
fn build(
    sql: &str,
    table: &str,
    recv: &Receiver<Batch>,
    back: &SyncSender<Batch>,
) -> Result<Connection> {
    let c = Connection::open("")?;
    c.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -4096",
    )?;
    c.execute_batch(sql)?;
    c.execute(
        &format!("INSERT INTO {table} ({table}, rank) VALUES ('hashsize', ?)"),
        [HASH_BYTES],
    )?;
    c.execute_batch("BEGIN")?;
    {
        let mut insert = c.prepare(&format!("INSERT INTO {table} (rowid, t) VALUES (?1, ?2)"))?;
        for mut b in recv {
            let mut from = 0;
            for (id, &end) in b.ids.iter().zip(&b.ends) {
                insert.execute(rusqlite::params![id, &b.text[from..end]])?;
                from = end;
            }
            b.ids.clear();
            b.text.clear();
            b.ends.clear();
            // Full (the import is not taking them back fast enough): this one is dropped.
            let _ = back.try_send(b);
        }
    }
    c.execute_batch("COMMIT")?;
    Ok(c)
}
