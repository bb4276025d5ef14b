//! The `PostgreSQL` engine: one synchronous client per process (the `postgres` crate: a
//! CLI runs one command on one connection, so an async runtime would only add weight), its
//! statements prepared once and cached, crm's tables found through `search_path = crm`.
//!
//! The client sits in a `RefCell` because the store is shared as `&Store` (as `SQLite`'s
//! connection is) while the client needs `&mut` for each call; crm is single-threaded and
//! never holds a borrow across a call, so a borrow never fails.

pub mod accounts;
pub mod conninfo;
mod copy_in;
pub mod error;
pub mod placeholders;
pub mod setup;
mod tls;
pub mod value;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Statement};

use crate::db::row::Row;
use crate::error::{Error, Result};
use crate::schema::{Value, ValueRef};
pub use conninfo::ConnInfo;
use value::{Cell, CellRef, Param};

/// An open connection to a crm database on `PostgreSQL`.
pub struct Pg {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    /// The database's name: what its role names are namespaced by.
    pub dbname: String,
    /// The schema version crm found when it opened the database (0: not read).
    pub schema: std::cell::Cell<i64>,
    /// The `crm.audit_detail` this transaction has set now (`audit::with_audit_detail`), so
    /// that a detail already set for a whole operation (a merge) is not set again per write.
    pub audit_detail: RefCell<Option<String>>,
}

impl Pg {
    /// Connects and points `search_path` at crm's schema; the session's time zone is the
    /// local one, in which the audit triggers show date-times.
    pub fn connect(info: &ConnInfo) -> Result<Pg> {
        Pg::connect_with(info, None)
    }

    /// As [`Pg::connect`], with the busy timeout (`lock_timeout`) too when given. The
    /// session's settings travel in the startup packet's `options` (as `PGOPTIONS` would),
    /// not as `SET` statements after it: a `crm` command is one short process, and each
    /// round trip it saves is a wait on a busy machine.
    pub fn connect_with(info: &ConnInfo, busy: Option<std::time::Duration>) -> Result<Pg> {
        let zone = local_zone().filter(|z| Path::new("/usr/share/zoneinfo").join(z).is_file());
        let with = |zone: Option<&str>| {
            let mut info = info.clone();
            // work_mem: reports' `NOT IN (subquery)` and their sorts stay hashed and in
            // memory for a million rows (the 4 MB default turns a NOT IN into a scan per row).
            let mut options = info.config.get_options().unwrap_or_default().to_string();
            options.push_str(" -c search_path=crm,pg_catalog -c work_mem=64MB");
            if let Some(busy) = busy {
                let _ = write!(options, " -c lock_timeout={}", lock_timeout_ms(busy));
            }
            if let Some(z) = zone {
                let _ = write!(options, " -c TimeZone={z}");
            }
            info.config.options(options.trim_start());
            tls::connect(&info)
        };
        let client = match with(zone.as_deref()) {
            // A zone this machine knows and the server does not: connect without it.
            Err(e) if zone.is_some() && e.message.contains("TimeZone") => with(None)?,
            other => other?,
        };
        let pg = Pg {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            dbname: info.dbname().to_string(),
            schema: std::cell::Cell::new(0),
            audit_detail: RefCell::new(None),
        };
        if zone.is_none() {
            pg.set_local_time_zone()?;
        }
        // A test build with a fixed clock tells the server its time: a test database's
        // `crm.now()` (replaced by the test harness as its owner) stamps the audit with it.
        // Release builds never set it, and crm's own `crm.now()` never reads it.
        #[cfg(feature = "test-clock")]
        if std::env::var_os("CRM_TEST_NOW").is_some() {
            pg.batch(&format!("SET crm.test_now = '{}'", crate::clock::now()))?;
        }
        Ok(pg)
    }

    /// Sets the session's time zone to this process's when the startup packet could not
    /// name it: a zone the server does not know falls back to the current UTC offset.
    fn set_local_time_zone(&self) -> Result<()> {
        if let Some(zone) = local_zone()
            && self.batch(&format!("SET TIME ZONE '{zone}'")).is_ok()
        {
            return Ok(());
        }
        let secs = chrono::Local::now().offset().local_minus_utc();
        self.batch(&format!(
            "SET TIME ZONE INTERVAL '{}{:02}:{:02}' HOUR TO MINUTE",
            if secs < 0 { '-' } else { '+' },
            secs.abs() / 3600,
            secs.abs() % 3600 / 60
        ))
    }

    /// How long a statement waits for another writer's lock before it fails as busy (exit
    /// 8), as `SQLite`'s busy timeout: crm's writers queue on the audit log's lock.
    pub fn set_busy_timeout(&self, busy: std::time::Duration) -> Result<()> {
        self.batch(&format!("SET lock_timeout = {}", lock_timeout_ms(busy)))
    }

    fn prepared(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&placeholders::numbered(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Runs a statement; returns how many rows it changed.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let stmt = self.prepared(sql)?;
        let args: Vec<Param<'_>> = params.iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|p| p as _).collect();
        Ok(self.client.borrow_mut().execute(&stmt, &refs)?)
    }

    /// Runs statements without parameters.
    pub fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    /// Every row of a statement run in one round trip: Parse, Bind, Execute and Sync go
    /// out together on the unnamed statement, each parameter typed `text`. For the few
    /// statements every command runs once as it opens (the schema's state, who the session
    /// is): preparing them first would cost a round trip each, and a named statement on
    /// the server kept for nothing. Its error is the server's own, so that the caller may
    /// read its SQLSTATE.
    pub fn rows_once(
        &self,
        sql: &str,
        params: &[&str],
    ) -> std::result::Result<Vec<Row>, postgres::Error> {
        let typed: Vec<(&(dyn ToSql + Sync), postgres::types::Type)> = params
            .iter()
            .map(|p| (p as &(dyn ToSql + Sync), postgres::types::Type::TEXT))
            .collect();
        let rows = self.client.borrow_mut().query_typed(sql, &typed)?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.try_get::<_, Cell>(i).map(|c| c.0))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map(Row)
            })
            .collect()
    }

    /// Every row of a query, read before the caller sees any (so the caller may query
    /// again while it walks them).
    pub fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut all = Vec::new();
        self.stream(sql, params, |r| {
            all.push(r);
            Ok(())
        })?;
        Ok(all)
    }

    /// Runs a query and calls `f` with each row as it arrives and the number of columns,
    /// the rows never all held: what [`Pg::stream`] and [`Pg::scan_refs`] share.
    fn each_raw(
        &self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(&postgres::Row, usize) -> Result<()>,
    ) -> Result<()> {
        let stmt = self.prepared(sql)?;
        let args: Vec<Param<'_>> = params.iter().map(Param).collect();
        let mut client = self
            .client
            .try_borrow_mut()
            .map_err(|_| Error::internal("a query was made while another streamed its rows"))?;
        let mut rows = client.query_raw(&stmt, args.iter())?;
        let n = stmt.columns().len();
        while let Some(r) = rows.next()? {
            f(&r, n)?;
        }
        Ok(())
    }

    /// Streams a query's rows to `f` as they arrive (export of a million rows). `f` must
    /// not use the store: the connection is busy with the stream until it ends.
    pub fn stream(
        &self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        self.each_raw(sql, params, |r, n| {
            let cells = (0..n)
                .map(|i| r.try_get::<_, Cell>(i).map(|c| c.0))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            f(Row(cells))
        })
    }

    /// Streams a query's rows to `f` as [`Pg::stream`] does, each row's first `N` cells
    /// borrowed from it (`NULL` past its last column): the reports' scans over a million
    /// rows, where copying each cell into an owned row cost more than the report's work.
    pub fn scan_refs<const N: usize>(
        &self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(&[ValueRef<'_>]) -> Result<()>,
    ) -> Result<()> {
        self.each_raw(sql, params, |r, n| {
            let n = n.min(N);
            let mut owned: [Option<CellRef<'_>>; N] = [const { None }; N];
            for (i, c) in owned.iter_mut().enumerate().take(n) {
                *c = Some(r.try_get::<_, CellRef<'_>>(i)?);
            }
            let mut cells = [ValueRef::Null; N];
            for (cell, c) in cells.iter_mut().zip(&owned) {
                if let Some(c) = c {
                    *cell = c.get();
                }
            }
            f(&cells[..n])
        })
    }
}

/// `lock_timeout` for a busy timeout: 0 would mean "wait forever" to `PostgreSQL`; crm's 0
/// means "do not wait".
fn lock_timeout_ms(busy: std::time::Duration) -> u128 {
    busy.as_millis().clamp(1, u128::from(u32::MAX))
}

/// This process's time zone as `TZ` or `/etc/localtime` name it, so date-times the server
/// formats (the audit triggers' old and new values) read as crm shows them on `SQLite`;
/// only names of plain characters (safe in a startup option and a quoted literal).
fn local_zone() -> Option<String> {
    std::env::var("TZ")
        .ok()
        .map(|t| t.trim_start_matches(':').to_string())
        .filter(|t| !t.is_empty() && !t.starts_with('/'))
        .or_else(|| {
            let target = std::fs::read_link("/etc/localtime").ok()?;
            let t = target.to_str()?;
            Some(t.split_once("zoneinfo/")?.1.to_string())
        })
        .filter(|t| {
            !t.contains("..")
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_/+-".contains(c))
        })
}
