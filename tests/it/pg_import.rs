//! `crm import` on `PostgreSQL` (COPY into a staging table, set-based writes, the batch
//! audited once): the same files give the same summary, rejects, export and batches as on
//! `SQLite`; the audit chain verifies; a killed import leaves nothing; a manager with psql
//! cannot use the per-batch audit to change records unrecorded.

use crate::harness::{Env, PW, write};
use crate::pg_cli::url_of;
use crate::pg_harness::{self, PgDb};
use postgres::error::SqlState;

/// A crm database on the test cluster, set up and logged in as `admin` through the binary.
pub fn pg_env(db: &PgDb) -> Env {
    let mut env = Env::empty();
    env.db = url_of(db).into();
    env.run_stdin(&["init", "--admin", "admin", "--password-stdin"], PW)
        .ok();
    env.login("admin");
    env
}

/// The import summary without what differs run to run (the time it took).
fn summary(env: &Env, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let r = env.run(&all);
    let mut j = r.json();
    if let Some(o) = j.as_object_mut() {
        o.remove("seconds");
    }
    (r.code, j)
}

/// Runs the same imports on both engines; returns them for further comparison.
fn both(test: &str) -> Option<(PgDb, Env, Env)> {
    let db = pg_harness::fresh(test)?;
    let pg = pg_env(&db);
    let lite = Env::new();
    Some((db, pg, lite))
}

/// Both engines export the same customers, as CSV and as JSON.
fn same_exports(pg: &Env, lite: &Env) {
    for format in ["csv", "json"] {
        let p = pg.run(&["export", "customer", "--format", format]);
        let l = lite.run(&["export", "customer", "--format", format]);
        assert_eq!(p.ok().stdout, l.stdout, "export {format}");
    }
}

/// Writes `content` as `name` in both environments.
fn put(envs: [&Env; 2], name: &str, content: &str) {
    for e in envs {
        write(&e.path(name), content);
    }
}

#[test]
fn pg_imports_like_sqlite_in_every_mode() {
    let Some((_db, pg, lite)) = both("pg_imports_like_sqlite_in_every_mode") else {
        return;
    };
    // Generated codes, a given code repeated in the file, an unknown owner, a bad phone,
    // a required field missing, a code taken by an existing record.
    put(
        [&pg, &lite],
        "a.csv",
        "name,owner,code,phone,city\nAcme,admin,,,深圳\nBeta,admin,C000009,13812345678,\nGamma,nobody,,,\nDelta,admin,C000009,,\n,admin,,,\nEps,admin,\"C0,10\",,\"two\nlines\"\nZeta,admin,,123,\n",
    );
    put(
        [&pg, &lite],
        "b.csv",
        "code,name,phone,city\nC000001,Acme2,13900000000,\nC000009,Beta,13812345678,\nC000777,New,,北京\nC000777,New again,,\nC000002,Tab\there,,\n",
    );
    put(
        [&pg, &lite],
        "c.jsonl",
        "{\"code\":\"C000001\",\"city\":\"上海\"}\n{\"code\":\"NOPE\",\"city\":\"x\"}\n{\"code\":\"C000009\"}\n{\"code\":\"C000001\",\"city\":\"again\"}\n",
    );
    put(
        [&pg, &lite],
        "d.json",
        "[{\"name\":\"J1\",\"code\":\"C000777\"},{\"name\":\"J2\"},{\"name\":\"J3\",\"owner\":\"admin\"}]",
    );
    let runs: Vec<Vec<&str>> = vec![
        vec![
            "customer",
            "a.csv",
            "--on-error",
            "skip",
            "--rejects",
            "a.rej.csv",
        ],
        vec![
            "customer",
            "b.csv",
            "--mode",
            "upsert",
            "--on-error",
            "skip",
            "--rejects",
            "b.rej.csv",
        ],
        vec![
            "customer",
            "c.jsonl",
            "--mode",
            "update",
            "--on-error",
            "skip",
            "--rejects",
            "c.rej.jsonl",
        ],
        vec!["customer", "d.json", "--on-error", "skip"],
        // Abort: nothing written, every bad row reported, exit 4.
        vec!["customer", "a.csv"],
        vec!["customer", "d.json", "--dry-run"],
    ];
    for args in &runs {
        let (pc, pj) = summary(&pg, args);
        let (lc, lj) = summary(&lite, args);
        assert_eq!(pc, lc, "exit of {args:?}: {pj} vs {lj}");
        assert_eq!(pj, lj, "summary of {args:?}");
    }
    for f in ["a.rej.csv", "b.rej.csv", "c.rej.jsonl"] {
        let p = std::fs::read_to_string(pg.path(f)).unwrap();
        let l = std::fs::read_to_string(lite.path(f)).unwrap();
        assert_eq!(p, l, "rejects {f}");
        assert!(p.lines().count() > 1, "{f} has rejects: {p}");
    }
    same_exports(&pg, &lite);
    let hist = |e: &Env| {
        let mut j = e.run(&["import", "history", "--format", "json"]).json();
        for b in j.as_array_mut().unwrap() {
            b.as_object_mut().unwrap().remove("at");
        }
        j
    };
    assert_eq!(hist(&pg), hist(&lite));
    pg.run(&["check"]).ok();
}

#[test]
fn pg_import_batch_tables_and_audit_chain() {
    let Some(db) = pg_harness::fresh("pg_import_batch_tables_and_audit_chain") else {
        return;
    };
    let env = pg_env(&db);
    let f = env.customers_csv("c.csv", 3000, "B");
    env.run(&["import", "customer", &f]).ok();
    write(
        &env.path("u.csv"),
        "code,city\nB000005,北京\nB002999,上海\n",
    );
    env.run(&["import", "customer", "u.csv", "--mode", "update"])
        .ok();
    let mut admin = db.admin();
    // One range for the inserts, one change per updated record, written by the database.
    let ranges: Vec<(i64, i64)> = admin
        .query(
            "SELECT first_id, last_id FROM crm.import_insert ORDER BY batch",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(ranges, vec![(1, 3000)]);
    let changed: i64 = admin
        .query_one(
            "SELECT count(*) FROM crm.import_change WHERE batch = 2",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(changed, 2);
    // Audited per batch: no per-field rows for the imported records, one entry per batch.
    let per_field: i64 = admin
        .query_one(
            "SELECT count(*) FROM crm.audit WHERE entity = 'customer' AND record_id IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(per_field, 0);
    let entries: i64 = admin
        .query_one(
            "SELECT count(*) FROM crm.audit WHERE action = 'import'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(entries, 2);
    // The record's trail shows the import's change; the chain verifies. (B000005 is the
    // sixth row: id 6.)
    let trail = env.run(&[
        "audit", "--entity", "customer", "--id", "6", "--format", "json",
    ]);
    let t = trail.ok().stdout.clone();
    assert!(t.contains("北京"), "{t}");
    env.run(&["check"]).ok();
    // An ordinary edit afterwards is audited per field again (the skip ended with the batch).
    admin
        .execute("UPDATE crm.customer SET city = '广州' WHERE id = 8", &[])
        .unwrap();
    let after: i64 = admin
        .query_one(
            "SELECT count(*) FROM crm.audit WHERE entity = 'customer' AND record_id = 8 AND field = 'city'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(after, 1);
}

#[test]
fn pg_revert_restores_like_sqlite() {
    let Some((_db, pg, lite)) = both("pg_revert_restores_like_sqlite") else {
        return;
    };
    put([&pg, &lite], "a.csv", "name,code\nA,C1\nB,C2\n");
    put([&pg, &lite], "b.csv", "code,name,city\nC1,A2,x\nC3,C,y\n");
    for e in [&pg, &lite] {
        e.run(&["import", "customer", "a.csv"]).ok();
        e.run(&["import", "customer", "b.csv", "--mode", "upsert"])
            .ok();
        e.run(&["import", "revert", "2"]).ok();
    }
    let p = pg.run(&["export", "customer"]);
    assert_eq!(p.stdout, lite.run(&["export", "customer"]).stdout);
    assert!(
        p.stdout.contains(",A,") && !p.stdout.contains("C3"),
        "{}",
        p.stdout
    );
    pg.run(&["check"]).ok();
}

#[test]
fn pg_killed_import_leaves_nothing() {
    let Some(db) = pg_harness::fresh("pg_killed_import_leaves_nothing") else {
        return;
    };
    let env = pg_env(&db);
    let f = env.customers_csv("big.csv", 400_000, "K");
    let mut child = env.spawn(&["import", "customer", &f]);
    // Wait until the import has written into its staging table at least once (its
    // transaction is open and holds rows), then kill it.
    let mut admin = db.admin();
    let seen = wait_for_backend(
        &mut admin,
        &mut child,
        "xact_start IS NOT NULL AND (query ILIKE '%crm_import_stage%' OR query ILIKE 'COPY%')",
        6000,
    );
    assert!(seen, "the import never reached its staging table");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_import_left_nothing(&mut admin);
    env.run(&["check"]).ok();
}

#[test]
fn pg_manager_cannot_use_the_import_skip_unrecorded() {
    let Some(db) = pg_harness::setup("pg_manager_cannot_use_the_import_skip_unrecorded") else {
        return;
    };
    let mut m = pg_harness::login(&db, "manager");
    let id: i64 = m
        .query_one(
            "INSERT INTO crm.customer (code, name, owner, created_at, updated_at) VALUES ('C-1', 'one', 'manager', 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let audited = |db: &PgDb| -> i64 {
        db.admin()
            .query_one("SELECT count(*) FROM crm.audit", &[])
            .unwrap()
            .get(0)
    };
    let before = audited(&db);
    // Setting the switch by hand: every write then fails, nothing changes.
    let mut tx = m.transaction().unwrap();
    tx.batch_execute("SET LOCAL crm.import_batch = '1'")
        .unwrap();
    let e = tx
        .execute(
            "UPDATE crm.customer SET name = 'sneaky' WHERE id = $1",
            &[&id],
        )
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}");
    drop(tx);
    // Someone else's batch, or one not made in this transaction, cannot be opened.
    let mut tx = m.transaction().unwrap();
    let b: i64 = tx
        .query_one(
            "INSERT INTO crm.import_batch (at, \"user\", entity, file, mode, inserted, updated, unchanged, rejected) VALUES (0, 'admin', 'customer', 'x', 'insert', 0, 0, 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let e = tx
        .execute("SELECT crm.begin_import($1)", &[&b])
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}");
    drop(tx);
    // Their own open batch: the changes land in the batch tables, written by the database,
    // and the transaction cannot commit without the batch's audit entry.
    let mut tx = m.transaction().unwrap();
    let b: i64 = tx
        .query_one(
            "INSERT INTO crm.import_batch (at, \"user\", entity, file, mode, inserted, updated, unchanged, rejected) VALUES (0, 'manager', 'customer', 'x', 'insert', 0, 0, 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    tx.execute("SELECT crm.begin_import($1)", &[&b]).unwrap();
    tx.execute(
        "UPDATE crm.customer SET name = 'sneaky' WHERE id = $1",
        &[&id],
    )
    .unwrap();
    let recorded: i64 = tx
        .query_one(
            "SELECT count(*) FROM crm.import_change WHERE batch = $1 AND record_id = $2",
            &[&b, &id],
        )
        .unwrap()
        .get(0);
    assert_eq!(recorded, 1);
    // Without the batch's audit entry the transaction cannot commit.
    assert!(
        tx.commit().is_err(),
        "a batch without its audit entry committed"
    );
    // Nor can a recorded change be rewritten, nor a record deleted under a batch.
    let e = m
        .execute("UPDATE crm.import_change SET after = '{}'", &[])
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}");
    let mut tx = m.transaction().unwrap();
    let b: i64 = tx
        .query_one(
            "INSERT INTO crm.import_batch (at, \"user\", entity, file, mode, inserted, updated, unchanged, rejected) VALUES (0, 'manager', 'customer', 'x', 'insert', 0, 0, 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    tx.execute("SELECT crm.begin_import($1)", &[&b]).unwrap();
    let e = tx
        .execute("DELETE FROM crm.customer WHERE id = $1", &[&id])
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}");
    drop(tx);
    // Nothing changed, and no audit row went missing or appeared.
    let name: String = db
        .admin()
        .query_one("SELECT name FROM crm.customer WHERE id = $1", &[&id])
        .unwrap()
        .get(0);
    assert_eq!(name, "one");
    assert_eq!(audited(&db), before);
}

#[test]
fn pg_repeats_across_chunks_like_sqlite() {
    let Some((_db, pg, lite)) = both("pg_repeats_across_chunks_like_sqlite") else {
        return;
    };
    // More rows than two chunks of the set-based path (8192): codes repeated from the
    // first chunk late in the file, rows without a code (generated), then an upsert of
    // the same file into the now full table.
    let mut csv = String::from("name,code\n");
    for i in 0..40_000 {
        let code = match i {
            30_000 => "X000005".to_string(),
            // Not the last row: an id that a refused last row uses up on SQLite is not seen
            // by `crm.next_record_id` (it counts from the largest id held), so a later
            // import would number from one lower on PostgreSQL.
            39_000 => "X016390".to_string(),
            i if i % 10_000 == 7 => String::new(),
            i => format!("X{i:06}"),
        };
        csv.push_str(&format!("n{i},{code}\n"));
    }
    put([&pg, &lite], "big.csv", &csv);
    for args in [
        vec![
            "customer",
            "big.csv",
            "--on-error",
            "skip",
            "--rejects",
            "r1.csv",
        ],
        vec![
            "customer",
            "big.csv",
            "--mode",
            "upsert",
            "--on-error",
            "skip",
            "--rejects",
            "r2.csv",
        ],
    ] {
        let (pc, pj) = summary(&pg, &args);
        let (lc, lj) = summary(&lite, &args);
        assert_eq!((pc, &pj), (lc, &lj), "{args:?}");
        assert!(pj["rejected"].as_i64().unwrap() >= 2, "{pj}");
    }
    for f in ["r1.csv", "r2.csv"] {
        assert_eq!(
            std::fs::read_to_string(pg.path(f)).unwrap(),
            std::fs::read_to_string(lite.path(f)).unwrap(),
            "{f}"
        );
    }
    let p = pg.run(&["export", "customer", "--format", "json"]);
    let l = lite.run(&["export", "customer", "--format", "json"]);
    let differ: Vec<(&str, &str)> = p
        .stdout
        .lines()
        .zip(l.stdout.lines())
        .filter(|(a, b)| a != b)
        .take(3)
        .collect();
    assert!(differ.is_empty(), "exports differ: {differ:?}");
    assert_eq!(p.stdout.len(), l.stdout.len());
    pg.run(&["check"]).ok();
}

/// Polls until another session of the test database matches `cond` (a `pg_stat_activity`
/// condition) or `child` ends; whether one was seen.
pub fn wait_for_backend(
    admin: &mut postgres::Client,
    child: &mut std::process::Child,
    cond: &str,
    tries: usize,
) -> bool {
    let sql = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND {cond}"
    );
    for _ in 0..tries {
        let n: i64 = admin.query_one(&sql, &[]).unwrap().get(0);
        if n > 0 {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::yield_now();
    }
    false
}

/// After a killed import: once the server has ended the dead client's transaction, no
/// record, batch, inserted range or open import is left.
pub fn assert_import_left_nothing(admin: &mut postgres::Client) {
    for _ in 0..6000 {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                &[],
            )
            .unwrap()
            .get(0);
        if n == 0 {
            break;
        }
        std::thread::yield_now();
    }
    for t in ["customer", "import_batch", "import_insert", "import_open"] {
        let n: i64 = admin
            .query_one(&format!("SELECT count(*) FROM crm.{t}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{t} after a killed import");
    }
}

/// A valid unified social credit code numbered `n` (its checksum computed as crm checks it).
fn credit(n: usize) -> String {
    let first17 = format!("91110000{n:09}");
    let check = crm::schema::kinds::credit_check_char(&first17).expect("a checksum");
    format!("{first17}{check}")
}

#[test]
fn pg_credit_codes_judged_set_based_like_sqlite() {
    let Some((_db, pg, lite)) = both("pg_credit_codes_judged_set_based_like_sqlite") else {
        return;
    };
    // A customer holding a credit code before the import.
    for e in [&pg, &lite] {
        e.run(&[
            "add",
            "customer",
            "--name",
            "Old",
            "--credit-code",
            &credit(1),
        ])
        .ok();
    }
    // More rows than a chunk (8192): a credit code repeated from the first chunk late in
    // the file, one the existing customer holds, one row whose code and credit code are
    // both taken (the code is named, as the writer names it), rows without one.
    let mut csv = String::from("code,name,credit_code\n");
    for i in 0..9_000 {
        let cc = match i {
            8_500 => credit(101),
            8_600 => credit(1),
            i if i % 3 == 0 => String::new(),
            i => credit(100 + i),
        };
        let code = if i == 8_700 {
            "X000100".to_string()
        } else {
            format!("X{i:06}")
        };
        let cc = if i == 8_700 { credit(200) } else { cc };
        csv.push_str(&format!("{code},n{i},{cc}\n"));
    }
    put([&pg, &lite], "cc.csv", &csv);
    let args = [
        "customer",
        "cc.csv",
        "--on-error",
        "skip",
        "--rejects",
        "r.csv",
    ];
    let (lc, lj) = summary(&lite, &args);
    let mut all = vec!["import"];
    all.extend_from_slice(&args);
    all.extend_from_slice(&["--format", "json"]);
    // On PostgreSQL the rows go set-based (the chunks are traced), not one by one.
    let run = pg.run_env(&all, &[("CRM_IMPORT_TRACE", "1")]);
    assert!(
        run.stderr.contains("import trace: chunks"),
        "{}",
        run.stderr
    );
    let mut pj = run.json();
    pj.as_object_mut().unwrap().remove("seconds");
    assert_eq!((run.code, &pj), (lc, &lj));
    assert_eq!(pj["rejected"], 3, "{pj}");
    let rejects = std::fs::read_to_string(pg.path("r.csv")).unwrap();
    assert_eq!(
        rejects,
        std::fs::read_to_string(lite.path("r.csv")).unwrap()
    );
    assert!(rejects.contains("repeats an earlier row"), "{rejects}");
    assert!(rejects.contains("code: 'X000100'"), "{rejects}");
    same_exports(&pg, &lite);
    pg.run(&["check"]).ok();
}

/// A writer that runs alone (an import, a bulk edit) claims no id: asking for the next id
/// after each record takes no lock per record, which in a long import's transaction filled
/// the server's lock table ("out of shared memory" after ~19,000 rows here).
#[test]
fn pg_next_id_takes_no_lock_per_record_outside_adders() {
    let Some(db) = pg_harness::fresh("pg_next_id_takes_no_lock_per_record_outside_adders") else {
        return;
    };
    let _env = pg_env(&db);
    let mut admin = db.admin();
    let mut tx = admin.transaction().unwrap();
    for n in 1..=200_i64 {
        tx.query_one(
            "SELECT crm.claim_record_id('customer', $1)",
            &[&n.to_string()],
        )
        .unwrap();
    }
    let locks: i64 = tx
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(locks, 0);
    // Adders still claim: one lock for the number handed out.
    tx.execute("SELECT set_config('crm.adding', 'on', true)", &[])
        .unwrap();
    tx.query_one("SELECT crm.claim_record_id('customer', NULL)", &[])
        .unwrap();
    let locks: i64 = tx
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(locks, 1);
}
