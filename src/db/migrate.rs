//! Versioned migrations over `PRAGMA user_version`: each step runs in one IMMEDIATE
//! transaction with its version bump, so a database is at the old or the new version,
//! never between, and a file made by an older build opens in a newer one.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Error, Result};
use crate::schema::{ENTITIES, Entity, Kind, ident};

type Step = fn(&Transaction) -> Result<()>;

/// The migrations, in order; the database's `user_version` counts how many ran.
const STEPS: &[Step] = &[
    v1_base,
    v2_import_batches,
    v3_stage_history,
    v4_import_revert,
    v5_report_indexes,
    v6_churn_and_lean_customer_indexes,
    v7_order_currency_cover,
    v8_import_trail,
];

/// Every trigger crm creates, exactly as `sqlite_master` stores it. Opening refuses a file
/// with any other trigger: a trigger runs with crm's rights on every write (it could add an
/// admin), and `trusted_schema=OFF` only stops it from calling risky functions.
pub const TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

/// The version this build writes.
pub fn latest() -> i64 {
    i64::try_from(STEPS.len()).expect("few steps")
}

/// Runs every pending step.
pub fn run(conn: &Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest() {
        return Err(Error::storage(format!(
            "the database is at schema version {current}, newer than this crm ({})",
            latest()
        ))
        .hint("upgrade crm"));
    }
    if current == latest() {
        return Ok(());
    }
    let done = usize::try_from(current).unwrap_or(0);
    for (i, step) in (0_i64..).zip(STEPS.iter()).skip(done) {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i {
            continue; // another process ran this step while we waited for the lock
        }
        step(&tx)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}

/// The CREATE TABLE statement for an entity, from the registry.
pub fn create_table_sql(e: &Entity) -> String {
    let mut cols = vec!["\"id\" INTEGER PRIMARY KEY AUTOINCREMENT".to_string()];
    for f in e.fields {
        let mut c = format!("{} {}", ident(f.name), f.kind.sql_type());
        if f.unique {
            c.push_str(" UNIQUE");
        }
        if let Kind::Ref(target) = f.kind {
            c.push_str(&format!(" REFERENCES {}(\"id\")", ident(target)));
        }
        cols.push(c);
    }
    cols.push("\"created_at\" INTEGER NOT NULL".into());
    cols.push("\"updated_at\" INTEGER NOT NULL".into());
    format!(
        "CREATE TABLE {} (\n  {}\n) STRICT",
        e.table(),
        cols.join(",\n  ")
    )
}

fn index_sql(e: &Entity) -> Vec<String> {
    e.fields
        .iter()
        .filter(|f| {
            !f.unique && (matches!(f.kind, Kind::Ref(_) | Kind::User) || f.name == "status")
        })
        .map(|f| {
            format!(
                "CREATE INDEX {} ON {}({})",
                ident(&format!("{}_{}", e.name, f.name)),
                e.table(),
                ident(f.name)
            )
        })
        .collect()
}

fn v1_base(tx: &Transaction) -> Result<()> {
    tx.execute_batch(&format!(
        "PRAGMA application_id = {}",
        super::APPLICATION_ID
    ))?;
    tx.execute_batch(
        "CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            user TEXT,
            action TEXT NOT NULL,
            entity TEXT,
            record_id INTEGER,
            field TEXT,
            old TEXT,
            new TEXT,
            detail TEXT,
            hash TEXT NOT NULL
        ) STRICT;
        CREATE INDEX audit_entity ON audit(entity, record_id);",
    )?;
    for sql in TRIGGERS {
        tx.execute_batch(sql)?;
    }
    for e in ENTITIES {
        tx.execute_batch(&create_table_sql(e))?;
        for sql in index_sql(e) {
            tx.execute_batch(&sql)?;
        }
    }
    Ok(())
}

/// Import batches: what `crm import history` lists and `crm import revert` needs.
fn v2_import_batches(tx: &Transaction) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE import_batch (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            user TEXT NOT NULL,
            entity TEXT NOT NULL,
            file TEXT NOT NULL,
            mode TEXT NOT NULL,
            inserted INTEGER NOT NULL,
            updated INTEGER NOT NULL,
            unchanged INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            reverted_at INTEGER
        ) STRICT;
        CREATE TABLE import_change (
            batch INTEGER NOT NULL REFERENCES import_batch(id),
            record_id INTEGER NOT NULL,
            before TEXT,
            after_updated_at INTEGER NOT NULL,
            PRIMARY KEY (batch, record_id)
        ) STRICT, WITHOUT ROWID;",
    )?;
    Ok(())
}

/// The date each opportunity entered each stage, for funnel conversion and cycle times.
fn v3_stage_history(tx: &Transaction) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE opportunity_stage (
            id INTEGER PRIMARY KEY,
            opportunity INTEGER NOT NULL REFERENCES \"opportunity\"(id) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            entered_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX opportunity_stage_opp ON opportunity_stage(opportunity, entered_at);",
    )?;
    Ok(())
}

/// What bulk import and revert need beyond v2: the audit row of each batch (so revert can
/// see later changes), its encoding, key and rows read, and the ids a batch inserted kept
/// as ranges (one row per run of consecutive ids, not one per record).
fn v4_import_revert(tx: &Transaction) -> Result<()> {
    tx.execute_batch(
        "ALTER TABLE import_batch ADD COLUMN audit_id INTEGER;
        ALTER TABLE import_batch ADD COLUMN encoding TEXT;
        ALTER TABLE import_batch ADD COLUMN key_field TEXT;
        ALTER TABLE import_batch ADD COLUMN rows_read INTEGER;
        CREATE TABLE import_insert (
            batch INTEGER NOT NULL REFERENCES import_batch(id),
            first_id INTEGER NOT NULL,
            last_id INTEGER NOT NULL,
            PRIMARY KEY (batch, first_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX import_change_record ON import_change(record_id);",
    )?;
    Ok(())
}

/// Indexes that keep `crm report` under a second on a million customers: covering indexes
/// for the period breakdowns (orders by date, follow-ups by done and due time), the
/// customer dimensions (one profile index counts level, industry, source and city at once), the status history in the audit log (partial: only customer status
/// rows), and stage history walked in (opportunity, time) order. The v3 index on
/// `opportunity_stage(opportunity, entered_at)` is a prefix of the new one, so it goes.
fn v5_report_indexes(tx: &Transaction) -> Result<()> {
    tx.execute_batch(
        "DROP INDEX IF EXISTS opportunity_stage_opp;
        CREATE INDEX IF NOT EXISTS opportunity_stage_walk ON opportunity_stage(opportunity, entered_at, id, stage);
        CREATE INDEX IF NOT EXISTS audit_customer_status ON audit(record_id, at, id, new)
            WHERE entity = 'customer' AND field = 'status';
        CREATE INDEX IF NOT EXISTS customer_created ON \"customer\"(created_at);
        CREATE INDEX IF NOT EXISTS customer_owner_status_created ON \"customer\"(owner, status, created_at);
        CREATE INDEX IF NOT EXISTS customer_profile ON \"customer\"(level, industry, source, city, owner);
        CREATE INDEX IF NOT EXISTS activity_done ON \"activity\"(done_at, customer);
        CREATE INDEX IF NOT EXISTS activity_owner_done ON \"activity\"(owner, done_at);
        CREATE INDEX IF NOT EXISTS activity_owner_due ON \"activity\"(owner, due_at, done_at);
        CREATE INDEX IF NOT EXISTS order_date_cover ON \"order\"(order_date, status, owner, customer, amount);
        CREATE INDEX IF NOT EXISTS ticket_opened ON \"ticket\"(opened_at);",
    )?;
    Ok(())
}

/// Churn reads a customer's first audited status change's `old` value (its status before,
/// which an imported customer's audit log never recorded being set), so the partial index
/// of customer status rows carries `old` too.
///
/// And four customer indexes go, because each costs every write and a million-row import
/// (the v5 ones made `crm import` of a million customers 2.9× `sqlite3 .import`): one
/// index on `(owner, status, created_at)` serves what they served. `customer(owner)` is its
/// prefix; `customer(created_at)` served new customers per period, now counted from the
/// scan of that index churn makes; the `(level, industry, source, city, owner)` profile is
/// counted in one pass over the table instead (those columns lie at the start of each row);
/// and `customer(status)` is not needed for `find --where status=…`, which scans a million
/// customers in a fifth of a second.
fn v6_churn_and_lean_customer_indexes(tx: &Transaction) -> Result<()> {
    tx.execute_batch(
        "DROP INDEX IF EXISTS customer_owner;
        DROP INDEX IF EXISTS customer_created;
        DROP INDEX IF EXISTS customer_profile;
        DROP INDEX IF EXISTS customer_status;
        DROP INDEX IF EXISTS audit_customer_status;
        CREATE INDEX audit_customer_status ON audit(record_id, at, id, new, old)
            WHERE entity = 'customer' AND field = 'status';",
    )?;
    Ok(())
}

/// Reports give every amount per currency, so the sales and RFM queries over orders by date
/// read each order's currency too: the covering index carries it (without it, each of the
/// window's orders costs a row lookup, which tripled `crm report sales`).
fn v7_order_currency_cover(tx: &Transaction) -> Result<()> {
    tx.execute_batch(
        "DROP INDEX IF EXISTS order_date_cover;
        CREATE INDEX order_date_cover ON \"order\"(order_date, status, owner, customer, currency, amount);",
    )?;
    Ok(())
}

/// The trail of imports on each record (`crm audit --entity E --id N`): an updated record's
/// new values beside its old ones (`after`: the changed fields only, as JSON; NULL for rows
/// written before this step, whose new values `crm audit` derives from later changes), and
/// an index to find the batch whose inserted ranges hold an id.
/// Safe to run again on a file whose version label was set back (as the upgrade tests do).
fn v8_import_trail(tx: &Transaction) -> Result<()> {
    let has_after: bool = tx.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('import_change') WHERE name = 'after'",
        [],
        |r| r.get(0),
    )?;
    if !has_after {
        tx.execute_batch("ALTER TABLE import_change ADD COLUMN after TEXT;")?;
    }
    tx.execute_batch("CREATE INDEX IF NOT EXISTS import_insert_first ON import_insert(first_id);")?;
    Ok(())
}
