//! A fresh `PostgreSQL` database per test on the one throwaway cluster of the run
//! (`.ci/run` starts it and exports its URL as `CRM_TEST_PG`, a superuser connection).
//! Without one a test prints `SKIPPED: …` and passes, except in CI, where a missing
//! cluster is a failure. Each database is dropped at the end with the roles made for it
//! (roles are cluster-wide; their names carry the database's namespace).

#![allow(dead_code)]

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use crm::auth::{ROLES, Role};
use crm::db::migrate::postgres::{STEPS, names, security};
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

/// The password of every login role the tests make.
pub const PW: &str = "correct horse battery";

/// One test's database on the shared cluster.
pub struct PgDb {
    pub name: String,
    base: Config,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A new empty database, or None (after printing why) when no cluster is configured.
pub fn fresh(test: &str) -> Option<PgDb> {
    let Ok(url) = std::env::var("CRM_TEST_PG") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CRM_TEST_PG is unset in CI: .ci/run must start the test cluster"
        );
        println!("SKIPPED: no PostgreSQL (CRM_TEST_PG unset): {test}");
        return None;
    };
    let base = Config::from_str(&url).expect("CRM_TEST_PG is a PostgreSQL URL");
    let name = format!(
        "crm_t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = base.connect(NoTls).expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    Some(PgDb { name, base })
}

/// The database of one `Env` under `CRM_TEST_ENGINE=postgres`: there a missing cluster is
/// an error, never a skip.
pub fn fresh_for_engine() -> PgDb {
    assert!(
        std::env::var_os("CRM_TEST_PG").is_some(),
        "CRM_TEST_ENGINE=postgres needs CRM_TEST_PG (a superuser URL of a test cluster; .ci/run starts one)"
    );
    fresh("Env").expect("a test database")
}

impl PgDb {
    /// This database's URL for crm (`--db`/`CRM_DB`): the cluster's URL from `CRM_TEST_PG`
    /// with this database's name in place of the one there.
    pub fn url(&self) -> String {
        let base = std::env::var("CRM_TEST_PG").expect("CRM_TEST_PG");
        let (head, query) = base.split_once('?').unwrap_or((&base, ""));
        let (prefix, _) = head.rsplit_once('/').expect("a URL with a database");
        if query.is_empty() {
            format!("{prefix}/{}", self.name)
        } else {
            format!("{prefix}/{}?{query}", self.name)
        }
    }

    /// Whether `crm init` has set this database up (crm's users table is there).
    pub fn is_set_up(&self) -> bool {
        self.admin()
            .query_one("SELECT to_regclass('crm.users') IS NOT NULL", &[])
            .is_ok_and(|r| r.get(0))
    }

    /// A superuser connection to this database.
    pub fn admin(&self) -> Client {
        let mut c = self.base.clone();
        c.dbname(&self.name);
        c.connect(NoTls).expect("connect as the superuser")
    }

    /// A connection as a login role with the test password.
    pub fn login(&self, role: &str) -> Result<Client, postgres::Error> {
        self.login_with(role, PW)
    }

    /// A connection as a login role with its password (a token's secret).
    pub fn login_with(&self, role: &str, password: &str) -> Result<Client, postgres::Error> {
        let mut c = self.base.clone();
        c.dbname(&self.name).user(role).password(password);
        c.connect(NoTls)
    }

    /// Makes this database's audit time follow the fixed clock of a test build
    /// (`CRM_TEST_NOW`, which such a build passes as the session's `crm.test_now`), as
    /// `crm.now()`'s own comment allows the schema's owner: on `SQLite` the audit takes crm's
    /// clock, so reports that read audit times (churn) see the same times on both engines.
    /// Without the setting, the server's clock as in a release database.
    pub fn follow_test_clock(&self) {
        self.admin()
            .batch_execute(
                "CREATE OR REPLACE FUNCTION crm.now() RETURNS bigint LANGUAGE sql STABLE
                 SET search_path = pg_catalog AS $$
                   SELECT coalesce(nullif(current_setting('crm.test_now', true), '')::bigint,
                                   floor(extract(epoch FROM transaction_timestamp()))::bigint)
                 $$",
            )
            .expect("replace crm.now() in the test database");
    }

    /// Runs every step and the security in one transaction, as `crm init` will.
    pub fn init(&self) -> Result<(), postgres::Error> {
        let mut admin = self.admin();
        let mut tx = admin.transaction()?;
        for step in STEPS {
            tx.batch_execute(step)?;
        }
        tx.batch_execute(&security::sql(&self.name))?;
        tx.commit()
    }

    /// Adds a crm user with its login role in its group, as `crm user add` will: the user's
    /// row, then `crm.add_login` (here called by the superuser; `pg_logins` calls it as a
    /// crm admin). Returns the login role's name.
    pub fn add_user(&self, name: &str, role: Role) -> String {
        let login = names::login_role(&self.name, name);
        let mut admin = self.admin();
        let id: i64 = admin
            .query_one(
                "INSERT INTO crm.users (name, role, password_hash, created_at, updated_at) VALUES ($1, $2, '', 0, 0) RETURNING id",
                &[&name, &role.as_str()],
            )
            .expect("add the user")
            .get(0);
        admin
            .execute("SELECT crm.add_login($1, $2, $3)", &[&id, &login, &PW])
            .expect("create the login role");
        login
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let Ok(mut admin) = self.base.connect(NoTls) else {
            return;
        };
        let _ = admin.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
        let ns = names::namespace(&self.name).replace('_', "\\_");
        let roles: Vec<String> = admin
            .query(
                "SELECT rolname::text FROM pg_roles WHERE rolname LIKE $1 OR rolname LIKE $2",
                &[&format!("crm\\_{ns}\\_%"), &format!("%@{ns}")],
            )
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .unwrap_or_default();
        for r in roles {
            let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", names::quote_ident(&r)));
        }
    }
}

/// A database set up with a user of every role (named after it) plus a second sales user.
pub fn setup(test: &str) -> Option<PgDb> {
    let db = fresh(test)?;
    db.init().unwrap();
    for r in ROLES {
        db.add_user(r, Role::parse(r).unwrap());
    }
    db.add_user("bob", Role::Sales);
    Some(db)
}

pub fn login(db: &PgDb, user: &str) -> Client {
    db.login(&names::login_role(&db.name, user))
        .unwrap_or_else(|e| panic!("login as {user}: {e}"))
}

#[track_caller]
pub fn denied(r: Result<u64, postgres::Error>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(
        e.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{what}: {e}"
    );
}

pub fn add_customer(c: &mut Client, code: &str, owner: &str) -> i64 {
    c.query_one(
        "INSERT INTO crm.customer (code, name, owner, created_at, updated_at) VALUES ($1, $1, $2, 0, 0) RETURNING id",
        &[&code, &owner],
    )
    .unwrap()
    .get(0)
}
