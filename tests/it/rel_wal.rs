//! L6: a large import ends with `wal_checkpoint(TRUNCATE)`, so the `-wal` file is small again
//! even while another connection keeps the database open (which stops `SQLite` from removing
//! the WAL on close).

use crate::harness::{Env, skip_unless_sqlite};

fn wal_len(env: &Env) -> u64 {
    let mut wal = env.db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

#[test]
fn the_wal_shrinks_after_a_large_import() {
    if skip_unless_sqlite("the SQLite WAL file's size") {
        return;
    }
    let env = Env::new();
    // an idle reader holds the database open, as a long-lived GUI or a second shell would
    let witness = env.sql();
    let _: i64 = witness
        .query_row("SELECT COUNT(*) FROM customer", [], |r| r.get(0))
        .expect("read");
    // control: a smaller import leaves its pages in the WAL (no truncating checkpoint)
    let small = env.customers_csv("small.csv", 3_000, "S");
    env.run(&["import", "customer", &small, "-q"]).ok();
    let after_small = wal_len(&env);
    assert!(after_small > 256 * 1024, "control: WAL {after_small} bytes");
    let big = env.customers_csv("big.csv", 20_000, "B");
    env.run(&["import", "customer", &big, "-q"]).ok();
    let after_big = wal_len(&env);
    println!("WAL after 3,000 rows: {after_small} bytes; after 20,000 rows: {after_big} bytes");
    assert!(
        after_big < 64 * 1024,
        "WAL after a 20,000-row import: {after_big} bytes"
    );
    let n: i64 = witness
        .query_row("SELECT COUNT(*) FROM customer", [], |r| r.get(0))
        .expect("read");
    assert_eq!(n, 23_000, "everything committed is visible");
    let ok: String = witness
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(ok, "ok");
}
