//! F6: a file-size limit (`ulimit -f`) smaller than the database an import would grow to.
//! crm does not ignore SIGXFSZ, so the import is killed by it (status 153 through sh); what
//! was committed before survives, nothing of the killed import is visible, the file passes
//! `integrity_check`, and the next command without the limit succeeds.

use crate::harness::{Env, skip_unless_sqlite};

#[test]
fn an_import_past_the_file_size_limit_is_killed_by_sigxfsz_and_writes_nothing() {
    if skip_unless_sqlite("a file-size limit on the growth of the SQLite file") {
        return;
    }
    let env = Env::new();
    let early = env.customers_csv("early.csv", 200, "E");
    env.run(&["import", "customer", &early, "-q"]).ok();
    let audit = env.audit_total();
    let batches = env.batch_total();
    env.customers_csv("big.csv", 20_000, "B");
    // 1024 blocks: 512 KiB in dash's units (1 MiB in bash's), far below the 20,000 rows
    let r = env.sh("ulimit -f 1024; \"$CRM\" import customer big.csv");
    assert_eq!(r.code, 128 + 25, "killed by SIGXFSZ: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    env.assert_whole();
    assert_eq!(env.count("customer"), 200);
    assert_eq!(env.batch_total(), batches);
    assert_eq!(env.audit_total(), audit);
    assert_eq!(
        env.sql_int("SELECT COUNT(*) FROM customer WHERE code LIKE 'B%'"),
        0
    );
    // the limit lifted, the same import goes through whole
    env.run(&["import", "customer", "big.csv", "-q"]).ok();
    assert_eq!(
        env.run(&["find", "customer", "--count"]).ok().stdout.trim(),
        "20200"
    );
    env.run(&["check"]).ok();
}
