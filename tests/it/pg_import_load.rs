//! A first load into an empty table on `PostgreSQL` (streamed into the staging table,
//! written once, its plain indexes set aside and made again): the same outcomes as on
//! `SQLite`, the indexes whole after it, a kill leaving nothing, and the set-aside
//! refused to anyone outside such an import.

use std::fmt::Write as _;

use crate::harness::{Env, write};
use crate::pg_harness::{self, PgDb};
use crate::pg_import::{assert_import_left_nothing, pg_env, wait_for_backend};
use postgres::error::SqlState;

/// The customer table's indexes: name, oid and definition.
fn indexes(db: &PgDb) -> Vec<(String, u32, String)> {
    db.admin()
        .query(
            "SELECT c.relname::text, c.oid, pg_get_indexdef(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'crm.customer'::regclass ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[test]
fn pg_first_load_sets_plain_indexes_aside_and_makes_them_again() {
    // More than a chunk: straight into the table (row security off for the load: every
    // policy of an importing role says `true`); less: through the staging table.
    first_load("pg_first_load_direct", 20_000);
    first_load("pg_first_load_staged", 8_000);
}

/// A load of `rows` customers into an empty table on both engines: the same outcomes,
/// rejects and records, the plain index made anew, row security on, revertible.
fn first_load(test: &str, rows: usize) {
    let Some(db) = pg_harness::fresh(test) else {
        return;
    };
    let pg = pg_env(&db);
    let lite = Env::new();
    // A code repeated from the start late in the file (with more than a chunk, the rows
    // written so far must be in the table to find it), rows with no code (generated).
    let mut csv = String::from("name,code,status\n");
    for i in 0..rows {
        let code = match i {
            i if i == rows - 2_000 => "L000005".to_string(),
            i if i % 7_000 == 3 => String::new(),
            i => format!("L{i:06}"),
        };
        let _ = writeln!(csv, "n{i},{code},{}", ["prospect", "active"][i % 2]);
    }
    for e in [&pg, &lite] {
        write(&e.path("big.csv"), &csv);
    }
    let before = indexes(&db);
    assert!(
        before
            .iter()
            .any(|(n, ..)| n == "customer_owner_status_created"),
        "{before:?}"
    );
    let args = [
        "import",
        "customer",
        "big.csv",
        "--on-error",
        "skip",
        "--rejects",
        "r.csv",
        "--format",
        "json",
    ];
    let p = pg.run_env(&args, &[("CRM_TEST_PG_DEFER_ROWS", "1")]);
    let l = lite.run(&args);
    let (mut pj, mut lj) = (p.json(), l.json());
    for j in [&mut pj, &mut lj] {
        j.as_object_mut().unwrap().remove("seconds");
    }
    assert_eq!((p.code, &pj), (l.code, &lj));
    assert_eq!(pj["rejected"], 1, "{pj}");
    assert_eq!(
        std::fs::read_to_string(pg.path("r.csv")).unwrap(),
        std::fs::read_to_string(lite.path("r.csv")).unwrap()
    );
    let out = pg.run(&["export", "customer"]);
    assert_eq!(out.stdout, lite.run(&["export", "customer"]).stdout);
    // The same indexes, the plain one made anew (a new oid), the key and unique kept.
    let after = indexes(&db);
    let strip = |v: &[(String, u32, String)]| -> Vec<(String, String)> {
        v.iter().map(|(n, _, d)| (n.clone(), d.clone())).collect()
    };
    assert_eq!(strip(&after), strip(&before));
    for ((name, old, _), (_, new, _)) in before.iter().zip(&after) {
        assert_eq!(
            old != new,
            name == "customer_owner_status_created",
            "{name}: {old} -> {new}"
        );
    }
    let rls: bool = db
        .admin()
        .query_one(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'crm.customer'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(rls, "row security is on again");
    pg.run(&["check"]).ok();
    // Revertible like any import.
    for e in [&pg, &lite] {
        e.run(&["import", "revert", "1"]).ok();
    }
    assert_eq!(
        pg.run(&["export", "customer"]).stdout,
        lite.run(&["export", "customer"]).stdout
    );
    pg.run(&["check"]).ok();
}

#[test]
fn pg_killed_first_load_leaves_nothing_and_the_indexes_whole() {
    let Some(db) = pg_harness::fresh("pg_killed_first_load_leaves_nothing") else {
        return;
    };
    let env = pg_env(&db);
    let before = indexes(&db);
    let f = env.customers_csv("big.csv", 200_000, "K");
    let mut child = env.spawn(&["import", "customer", &f]);
    // Kill it while it writes its rows into the table or makes the indexes again.
    let mut admin = db.admin();
    let seen = wait_for_backend(
        &mut admin,
        &mut child,
        "state = 'active' AND (query ILIKE '%import_restore_indexes%' OR query ILIKE 'INSERT INTO \"customer\"%' OR query ILIKE 'COPY \"customer\"%')",
        2_000_000,
    );
    assert!(seen, "the import was never seen writing its staged rows");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_import_left_nothing(&mut admin);
    assert_eq!(indexes(&db), before);
    let rls: bool = admin
        .query_one(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'crm.customer'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(rls, "row security is on after a killed load");
    env.run(&["check"]).ok();
}

/// Opens an import batch of `user` for customers in `tx`; returns its id.
fn open_batch(tx: &mut postgres::Transaction<'_>, user: &str) -> i64 {
    let b: i64 = tx
        .query_one(
            "INSERT INTO crm.import_batch (at, \"user\", entity, file, mode, inserted, updated, unchanged, rejected) VALUES (0, $1, 'customer', 'x', 'insert', 0, 0, 0, 0) RETURNING id",
            &[&user],
        )
        .unwrap()
        .get(0);
    tx.execute("SELECT crm.begin_import($1)", &[&b]).unwrap();
    b
}

/// Ends batch `b` with its audit entry, as `crm import` does, so it may commit.
fn audit_batch(tx: &mut postgres::Transaction<'_>, b: i64) {
    let a: i64 = tx
        .query_one(
            "SELECT crm.audit_append('import', 'customer', NULL, NULL, NULL, NULL, $1)",
            &[&format!("batch {b}: x")],
        )
        .unwrap()
        .get(0);
    tx.execute(
        "UPDATE crm.import_batch SET audit_id = $1 WHERE id = $2",
        &[&a, &b],
    )
    .unwrap();
}

#[test]
#[allow(clippy::too_many_lines)] // one story: who may set what aside, and when
fn pg_index_set_aside_only_in_an_import_of_an_empty_table() {
    let Some(db) = pg_harness::setup("pg_index_set_aside_only_in_an_import") else {
        return;
    };
    let before = indexes(&db);
    let mut mgr = pg_harness::login(&db, "manager");
    let defer = "SELECT crm.import_defer_indexes('customer')";
    let code = |e: postgres::Error| e.code().cloned();
    // No import open, or a forged switch: refused.
    let e = mgr.execute(defer, &[]).unwrap_err();
    assert_eq!(code(e), Some(SqlState::INSUFFICIENT_PRIVILEGE));
    let mut tx = mgr.transaction().unwrap();
    tx.batch_execute("SET LOCAL crm.import_batch = '1'")
        .unwrap();
    let e = tx.execute(defer, &[]).unwrap_err();
    assert_eq!(code(e), Some(SqlState::INSUFFICIENT_PRIVILEGE));
    drop(tx);
    // A note of the caller's own (definitions to run as the owner): refused.
    let mut tx = mgr.transaction().unwrap();
    open_batch(&mut tx, "manager");
    tx.batch_execute(
        "CREATE TEMP TABLE crm_import_deferred (entity text, name text PRIMARY KEY, def text) ON COMMIT DROP",
    )
    .unwrap();
    let e = tx.execute(defer, &[]).unwrap_err();
    assert_eq!(code(e), Some(SqlState::INSUFFICIENT_PRIVILEGE));
    drop(tx);
    // Set aside in the caller's open import and not made again: the commit is refused.
    let mut tx = mgr.transaction().unwrap();
    let b = open_batch(&mut tx, "manager");
    let n: i32 = tx.query_one(defer, &[]).unwrap().get(0);
    assert!(n >= 1, "{n}");
    audit_batch(&mut tx, b);
    let e = tx.commit().unwrap_err();
    let why = e
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert!(why.contains("not made again"), "{e:?}");
    assert_eq!(indexes(&db), before);
    // Made again: it commits, with the same indexes.
    let mut tx = mgr.transaction().unwrap();
    let b = open_batch(&mut tx, "manager");
    tx.query_one(defer, &[]).unwrap();
    let n: i32 = tx
        .query_one("SELECT crm.import_restore_indexes('customer')", &[])
        .unwrap()
        .get(0);
    assert!(n >= 1, "{n}");
    audit_batch(&mut tx, b);
    tx.commit().unwrap();
    let strip = |v: Vec<(String, u32, String)>| -> Vec<(String, String)> {
        v.into_iter().map(|(n, _, d)| (n, d)).collect()
    };
    assert_eq!(strip(indexes(&db)), strip(before));
    // Row security off for the load of a user all of whose policies say `true`, and on
    // again before the commit (or no commit); a sales user's stays on.
    let rls = |c: &mut postgres::Transaction<'_>| -> bool {
        c.query_one(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'crm.customer'::regclass",
            &[],
        )
        .unwrap()
        .get(0)
    };
    let direct = "SELECT crm.import_direct('customer')";
    let mut tx = mgr.transaction().unwrap();
    let b = open_batch(&mut tx, "manager");
    assert!(tx.query_one(direct, &[]).unwrap().get::<_, bool>(0));
    assert!(!rls(&mut tx));
    audit_batch(&mut tx, b);
    let e = tx.commit().unwrap_err();
    let why = e
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert!(why.contains("row security"), "{e:?}");
    let mut tx = mgr.transaction().unwrap();
    let b = open_batch(&mut tx, "manager");
    assert!(tx.query_one(direct, &[]).unwrap().get::<_, bool>(0));
    tx.query_one("SELECT crm.import_restore_indexes('customer')", &[])
        .unwrap();
    assert!(rls(&mut tx));
    audit_batch(&mut tx, b);
    tx.commit().unwrap();
    let mut sales = pg_harness::login(&db, "sales");
    let mut tx = sales.transaction().unwrap();
    let e = tx.query_one(direct, &[]).unwrap_err();
    assert_eq!(code(e), Some(SqlState::INSUFFICIENT_PRIVILEGE));
    drop(tx);
    let mut tx = sales.transaction().unwrap();
    if let Ok(b) = tx.query_one(
        "INSERT INTO crm.import_batch (at, \"user\", entity, file, mode, inserted, updated, unchanged, rejected) VALUES (0, 'sales', 'customer', 'x', 'insert', 0, 0, 0, 0) RETURNING id",
        &[],
    ) {
        let b: i64 = b.get(0);
        tx.execute("SELECT crm.begin_import($1)", &[&b]).unwrap();
        assert!(!tx.query_one(direct, &[]).unwrap().get::<_, bool>(0));
        assert!(rls(&mut tx));
    }
    drop(tx);
    // A reader in the table: its indexes stay, the import is not kept waiting.
    let mut reader = pg_harness::login(&db, "viewer");
    let mut rt = reader.transaction().unwrap();
    rt.query("SELECT count(*) FROM crm.customer", &[]).unwrap();
    let mut tx = mgr.transaction().unwrap();
    open_batch(&mut tx, "manager");
    let n: i32 = tx.query_one(defer, &[]).unwrap().get(0);
    assert_eq!(n, 0);
    drop(tx);
    drop(rt);
    // A table that holds records keeps its indexes.
    pg_harness::add_customer(&mut mgr, "C-1", "manager");
    let mut tx = mgr.transaction().unwrap();
    open_batch(&mut tx, "manager");
    let e = tx.execute(defer, &[]).unwrap_err();
    assert_eq!(code(e), Some(SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE));
}
