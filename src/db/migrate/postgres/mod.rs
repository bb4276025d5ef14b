//! `PostgreSQL`'s migrations: one frozen SQL file per step (`vN.sql`), which create and
//! change crm's tables in the schema `crm`, and the security (`security`, `logins`): group
//! roles, grants, row-level security, audit triggers and login management, generated from
//! the registry and `auth::allowed` and applied again after every step.
//!
//! The engine (`db::postgres::setup`) runs each pending step, then
//! `security::sql(current_database)`, in one transaction, writing each step's number to
//! `crm.schema_version` after it (step 1 writes its own: it makes the table). `crm init`
//! runs them all; `crm init --upgrade`, run by the schema's owner, runs those a database made
//! by an older crm lacks, and the security anew when its fingerprint (the schema's comment)
//! is another build's; every other command refuses such a database (exit 9) with that hint. Step 1 begins with
//! `CREATE SCHEMA crm`, so running it on an initialised database fails (SQLSTATE 42P06,
//! `duplicate_schema`) before it changes anything: what `crm init` reports as exit 5.
//!
//! What the engine's writes must do with it: call `crm.begin_write()` first in each write
//! transaction (READ COMMITTED), as `SQLite` takes BEGIN IMMEDIATE (`crm.begin_add()` in one
//! that only adds records: adders run side by side, v2); leave record changes'
//! audit rows to the triggers and write its other rows (login, export, …) through
//! `crm.audit_append`; give each record it adds the id `crm.next_record_id(entity)` returns
//! (`ids`: `SQLite`'s AUTOINCREMENT, counted in the transaction); set the session's `TimeZone` to the local zone, in which the
//! triggers show date-times; add users with `crm.add_login` (a SCRAM verifier, never the
//! password) after their `crm.users` row.

pub mod ids;
pub mod import_indexes;
pub mod logins;
pub mod names;
pub mod search_security;
pub mod security;
pub mod tokens;

/// The steps, in order. Add a step by adding a file: never edit one that shipped.
pub const STEPS: &[&str] = &[
    include_str!("v1.sql"),
    include_str!("v2.sql"),
    include_str!("v3.sql"),
    include_str!("v4.sql"),
    include_str!("v5.sql"),
    include_str!("v6.sql"),
    include_str!("v7.sql"),
    include_str!("v8.sql"),
    include_str!("v9.sql"),
    include_str!("v10.sql"),
    include_str!("v11.sql"),
];

/// The step that makes the search index (`db::search`): the records already there are
/// indexed after it, in its transaction.
pub const SEARCH_INDEX_STEP: i64 = 5;

/// The step that makes the merge log (`db::merge`).
pub const MERGE_LOG_STEP: i64 = 7;

/// The step that makes the tokens for automation (`crm token`, `db::tokens`).
pub const TOKENS_STEP: i64 = 8;

/// The step that makes the custom fields' table and functions (`db::fields`).
pub const CUSTOM_FIELD_STEP: i64 = 10;

/// The step that makes the audit triggers' helpers cheap per row (PL/pgSQL, inlinable).
pub const AUDIT_HELPERS_STEP: i64 = 11;

/// The schema that holds crm's tables in a `PostgreSQL` database.
pub const SCHEMA: &str = "crm";

/// Tables only `PostgreSQL` has: what the security needs and `SQLite` keeps elsewhere
/// (`PRAGMA user_version`; no login roles, for users or tokens; the imports open in this transaction, see
/// `security::audit_trigger`; the audit rows a transaction queues until its COMMIT chains
/// them, `v2.sql`). Every other table exists on both engines.
pub const ONLY_HERE: [&str; 5] = [
    "schema_version",
    "login",
    "import_open",
    "audit_pending",
    "token_login",
];
