//! The writing side of an import on `PostgreSQL`: the rows staged or sent straight into
//! the table, the staging table written to the table, and the end of the batch (the
//! indexes and row security set aside for a first load made whole again).

use std::fmt::Write;

use super::{PgBulk, trace};
use crate::db::Store;
use crate::db::records::{Draft, field_list};
use crate::error::Result;
use crate::schema::{Value, ident};

/// Staged rows from which a load into an empty table sets the plain indexes aside and
/// makes them again at the end: below it, keeping them costs less than making them.
const DEFER_ROWS: u64 = 65_536;

/// `DEFER_ROWS`; test builds (feature `test-clock`) take `CRM_TEST_PG_DEFER_ROWS`, so a
/// test can exercise the set-aside on a small file.
fn defer_rows() -> u64 {
    #[cfg(feature = "test-clock")]
    if let Some(n) = std::env::var("CRM_TEST_PG_DEFER_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    DEFER_ROWS
}

impl PgBulk {
    /// Moves the table's identity past the ids the import gave (as the writer does), so a
    /// row added without crm's id (`psql`) does not collide with them; makes the indexes
    /// set aside for the load again.
    pub fn end(&self, conn: &Store) -> Result<()> {
        if self.deferred.get() {
            let t0 = trace::start();
            conn.value::<i64>(
                "SELECT crm.import_restore_indexes(?)",
                crate::vals![self.e.name],
            )?;
            self.deferred.set(false);
            trace::lap("restore indexes", t0);
        }
        conn.value::<i64>("SELECT crm.next_record_id(?)", crate::vals![self.e.name])?;
        trace::report(self.began);
        Ok(())
    }

    /// One staged row: its place in the file, the record it updates or the id it takes.
    pub(super) fn stage_row(&mut self, rid: Option<i64>, nid: Option<i64>, d: Draft) -> Vec<Value> {
        self.ord += 1;
        let mut row = Vec::with_capacity(d.values.len() + 3);
        row.push(Value::Integer(self.ord));
        row.push(rid.map_or(Value::Null, Value::Integer));
        row.push(nid.map_or(Value::Null, Value::Integer));
        row.extend(d.values);
        row
    }

    /// One row straight into the table (`direct`): its id, values and times.
    pub(super) fn table_row(&self, id: i64, d: Draft) -> Vec<Value> {
        let mut row = Vec::with_capacity(d.values.len() + 3);
        row.push(Value::Integer(id));
        row.extend(d.values);
        row.push(Value::Integer(self.now));
        row.push(Value::Integer(self.now));
        row
    }

    /// Writes the staged rows: the updates, then the inserts in file order, and empties
    /// the staging table. A large first load into an empty table sets the table's plain
    /// indexes aside first (made again by [`PgBulk::end`], in the same transaction).
    pub(super) fn drain(&mut self, conn: &Store) -> Result<()> {
        if self.staged == 0 {
            return Ok(());
        }
        let t0 = trace::start();
        if self.stream && self.set_aside && !self.written && self.staged >= defer_rows() {
            // SECURITY DEFINER (`migrate::postgres::import_indexes`): refuses unless the
            // table is empty and this user's batch is open in this transaction.
            let n: i64 = conn.value(
                "SELECT crm.import_defer_indexes(?)",
                crate::vals![self.e.name],
            )?;
            self.deferred.set(n > 0);
        }
        let t = self.e.table();
        let now = self.now;
        let cols = field_list(self.e);
        let sets: Vec<String> = self
            .e
            .fields
            .iter()
            .map(|f| format!("{c} = s.{c}", c = ident(f.name)))
            .collect();
        let sel: Vec<String> = self
            .e
            .fields
            .iter()
            .map(|f| format!("s.{}", ident(f.name)))
            .collect();
        // The ids are explicit: the order only lays the rows out. A streamed load is staged
        // in file order by this one session and a temporary table is read back in the order
        // it was written (no synchronized scans on local buffers), so it needs no sort.
        let order = if self.stream { "" } else { " ORDER BY s.ord" };
        let mut sql = String::new();
        if self.updates {
            let _ = write!(
                sql,
                "UPDATE {t} SET {}, \"updated_at\" = GREATEST({now}, {t}.\"updated_at\") FROM crm_import_stage s WHERE s.rid IS NOT NULL AND {t}.\"id\" = s.rid; ",
                sets.join(", ")
            );
        }
        if self.inserts {
            let _ = write!(
                sql,
                "INSERT INTO {t} (\"id\", {cols}, \"created_at\", \"updated_at\") SELECT s.nid, {}, {now}, {now} FROM crm_import_stage s WHERE s.rid IS NULL{order}; ",
                sel.join(", ")
            );
        }
        sql.push_str("TRUNCATE crm_import_stage");
        conn.batch(&sql)?;
        if self.docs.is_some() {
            // The records are written: their index rows, replacing the updated ones'.
            crate::db::search::pg_stage_write(conn, self.e, self.updates)?;
        }
        self.updates = false;
        self.inserts = false;
        self.staged = 0;
        self.written = true;
        trace::lap("write", t0);
        Ok(())
    }
}
