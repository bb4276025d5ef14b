//! Setting a `PostgreSQL` database up for crm and telling whether it is: the frozen steps of
//! `migrate::postgres` and the security generated for this database, in one transaction.

use postgres::error::SqlState;

use super::Pg;
use crate::db::Store;
use crate::db::migrate::postgres::{STEPS, security};
use crate::db::row::Row;
use crate::error::{Error, Result};
use crate::vals;

/// Whether crm's schema is there (its version table exists).
pub fn is_initialised(s: &Store) -> Result<bool> {
    let found: Option<String> =
        s.value("SELECT to_regclass('crm.schema_version')::text", vals![])?;
    Ok(found.is_some())
}

/// Creates crm's schema, tables, group roles, grants, policies and triggers. Fails with a
/// conflict (exit 5) on a database that has them already, changing nothing.
pub fn create(s: &Store) -> Result<()> {
    let Some(pg) = s.postgres() else {
        return Err(Error::internal("setup::create is for PostgreSQL"));
    };
    if is_initialised(s)? {
        return Err(Error::conflict(format!(
            "{} is already a crm database",
            pg.dbname
        )));
    }
    run_steps(s, 0)?;
    pg.batch(&security::sql(&pg.dbname))?;
    Ok(())
}

/// Runs the steps after `done` in order, each followed by its version (step 1 records its
/// own, since it creates the table that holds it).
fn run_steps(s: &Store, done: usize) -> Result<()> {
    let Some(pg) = s.postgres() else {
        return Err(Error::internal("setup::run_steps is for PostgreSQL"));
    };
    for (n, step) in (1_i64..).zip(STEPS).skip(done) {
        pg.batch(step)?;
        if n == crate::db::migrate::postgres::SEARCH_INDEX_STEP {
            // The index's tokens are cut by crm, not SQL: the records already there.
            crate::db::search::build(s)?;
        }
        if n == crate::db::credit_unique::POSTGRES_STEP {
            crate::db::credit_unique::warn(&crate::db::credit_unique::ensure(s)?);
        }
        if n > 1 {
            s.execute("UPDATE crm.schema_version SET version = ?", vals![n])?;
        }
    }
    Ok(())
}

/// Where an initialised database stands against this crm: its schema version, the steps
/// this crm has, and whether its security is the one this crm generates. One query: every
/// command reads it when it opens the database.
pub struct State {
    pub version: i64,
    pub known: i64,
    pub security_current: bool,
}

impl State {
    /// Whether the database needs `crm init --upgrade` before this crm may use it.
    pub fn behind(&self) -> bool {
        self.version < self.known || (self.version == self.known && !self.security_current)
    }
}

const STATE: &str = "SELECT (SELECT MAX(version) FROM crm.schema_version), pg_catalog.obj_description('crm'::regnamespace, 'pg_namespace')";

pub fn state(s: &Store) -> Result<State> {
    state_of(&s.query_one(STATE, vals![])?)
}

fn state_of(row: &Row) -> Result<State> {
    let label: Option<String> = row.get(1)?;
    Ok(State {
        version: row.get(0)?,
        known: i64::try_from(STEPS.len()).expect("few steps"),
        security_current: label.as_deref()
            == Some(security::label(&security::fingerprint()).as_str()),
    })
}

/// The state of the database a command opens, or None when crm's schema is not there: the
/// first thing every command asks, in one round trip (a missing schema or version table
/// answers with its own error, where asking `to_regclass` first cost a statement more).
pub fn opened_state(pg: &Pg) -> Result<Option<State>> {
    match pg.rows_once(STATE, &[]) {
        Ok(rows) => {
            let row = rows
                .first()
                .ok_or_else(|| Error::internal("the schema state query gave no row"))?;
            state_of(row).map(Some)
        }
        Err(e)
            if e.code().is_some_and(|c| {
                *c == SqlState::INVALID_SCHEMA_NAME || *c == SqlState::UNDEFINED_TABLE
            }) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// What `upgrade` did.
pub struct Upgraded {
    pub from: i64,
    pub to: i64,
    /// Whether anything was applied (false: the database was current already).
    pub changed: bool,
}

/// `crm init --db URL --upgrade`: brings a database made by an older crm to this one, in
/// one transaction: the steps it lacks, then this build's security (grants, policies,
/// triggers, functions), generated anew. Run by the role that owns crm's schema (the one
/// that ran `crm init`); for another, `PostgreSQL` refuses (exit 7) and nothing changes.
/// A database already current is left alone.
pub fn upgrade(s: &Store) -> Result<Upgraded> {
    let Some(pg) = s.postgres() else {
        return Err(Error::internal("setup::upgrade is for PostgreSQL"));
    };
    pg.batch("BEGIN")?;
    let done = (|| {
        // Upgrades of one database run one at a time, and no crm writer runs meanwhile.
        s.execute(
            "LOCK TABLE crm.schema_version IN ACCESS EXCLUSIVE MODE",
            vals![],
        )?;
        let before = state(s)?;
        if before.version > before.known {
            return Err(Error::storage(format!(
                "{} was upgraded by a newer crm (schema {}; this crm knows {})",
                pg.dbname, before.version, before.known
            ))
            .hint("use a crm at least as new as the one that upgraded it"));
        }
        let changed = before.behind();
        if changed {
            run_steps(s, usize::try_from(before.version).unwrap_or(usize::MAX))?;
            pg.batch(&security::sql(&pg.dbname))?;
            s.execute(
                "SELECT crm.audit_append('upgrade', NULL, NULL, 'schema', ?, ?, ?)",
                vals![
                    before.version.to_string(),
                    before.known.to_string(),
                    format!("security {}", security::fingerprint())
                ],
            )?;
        }
        Ok(Upgraded {
            from: before.version,
            to: before.known,
            changed,
        })
    })();
    match done {
        Ok(u) => {
            pg.batch("COMMIT")?;
            Ok(u)
        }
        Err(e) => {
            let _ = pg.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// `crm init` on `PostgreSQL`: in one transaction, crm's schema and security, the first
/// admin's row and login role, and the audit row that says so (written as the role that
/// ran it, `pg:ROLE`, since no crm user exists before it). Run by a role that may create
/// roles and schemas; on an initialised database nothing changes and it is exit 5.
pub fn init(s: &Store, admin: &str, password: &str, now: i64) -> Result<()> {
    let Some(pg) = s.postgres() else {
        return Err(Error::internal("setup::init is for PostgreSQL"));
    };
    pg.batch("BEGIN")?;
    let done = (|| {
        create(s)?;
        let id = crate::db::users::insert(s, admin, "admin", "", now)?;
        super::accounts::add_login(s, id, admin, password)?;
        s.execute(
            "SELECT crm.audit_append('user_add', 'user', ?, 'role', NULL, 'admin', ?)",
            vals![id, format!("init: {admin}")],
        )?;
        Ok(())
    })();
    match done {
        Ok(()) => pg.batch("COMMIT"),
        Err(e) => {
            let _ = pg.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The schema version the database is at.
pub fn version(s: &Store) -> Result<i64> {
    s.value("SELECT MAX(version) FROM crm.schema_version", vals![])
}

/// The tables that must be under row-level security (every entity's, the audit log, the
/// stage history, the sessions, the tokens) but are not, or have no policy at all.
pub fn unprotected_tables(s: &Store) -> Result<Vec<String>> {
    let mut want: Vec<String> = crate::schema::ENTITIES
        .iter()
        .map(|e| e.name.to_string())
        .collect();
    want.extend(["audit", "opportunity_stage", "sessions", "tokens"].map(String::from));
    want.extend(crate::db::search::entities().map(|e| format!("{}_search", e.name)));
    let mut bad = Vec::new();
    for t in want {
        let row = s.query_opt(
            "SELECT c.relrowsecurity, (SELECT COUNT(*) FROM pg_catalog.pg_policies p WHERE p.schemaname = 'crm' AND p.tablename = c.relname) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'crm' AND c.relname = ?",
            vals![t.clone()],
        )?;
        let ok = match row {
            Some(r) => r.get::<bool>(0)? && r.get::<i64>(1)? > 0,
            None => false,
        };
        if !ok {
            bad.push(t);
        }
    }
    Ok(bad)
}
