//! Setting a `PostgreSQL` database up for crm and telling whether it is: the frozen steps of
//! `migrate::postgres` and the security generated for this database, in one transaction.

use crate::db::Store;
use crate::db::migrate::postgres::{STEPS, security};
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
    for step in STEPS {
        pg.batch(step)?;
    }
    pg.batch(&security::sql(&pg.dbname))?;
    Ok(())
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
/// stage history, the sessions) but are not, or have no policy at all.
pub fn unprotected_tables(s: &Store) -> Result<Vec<String>> {
    let mut want: Vec<String> = crate::schema::ENTITIES
        .iter()
        .map(|e| e.name.to_string())
        .collect();
    want.extend(["audit", "opportunity_stage", "sessions"].map(String::from));
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
