//! F4: `kill -9` during `crm init` and its migrations, at points found by polling the files
//! (no sleeps). The database is at some schema version with exactly that version's tables,
//! never between; a rerun of `init` finishes it (exit 0) or refuses (exit 5), never leaves
//! half a schema.

use std::path::Path;

use crate::harness::{Env, PW, skip_unless_sqlite};

/// The tables each schema version must have (cumulative), as far as tests can name them.
fn tables_for(version: i64) -> Vec<&'static str> {
    let mut t = Vec::new();
    if version >= 1 {
        t.extend(["users", "audit", "customer", "contact", "opportunity"]);
    }
    if version >= 2 {
        t.extend(["import_batch", "import_change"]);
    }
    if version >= 3 {
        t.push("opportunity_stage");
    }
    t
}

/// The user version and table names of a file. Opened read-write: after a kill the WAL may
/// need recovery, which a read-only connection cannot run (any next opener runs it).
fn state(db: &Path) -> (i64, Vec<String>) {
    let c = rusqlite::Connection::open(db).expect("open");
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version");
    let names = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<Vec<String>, _>>()
        .expect("rows");
    (v, names)
}

#[derive(Clone, Copy, Debug)]
enum Kill {
    FileExists,
    WalOver(u64),
    VersionAtLeast(i64),
}

/// The committed user version as a concurrent reader sees it (None while unreadable).
fn version(db: &Path) -> Option<i64> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .ok()?;
    c.query_row("PRAGMA user_version", [], |r| r.get(0)).ok()
}

fn len(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

#[test]
fn kill_9_during_init_leaves_a_whole_version_and_a_rerun_finishes_or_refuses() {
    if skip_unless_sqlite("kills init at points of the SQLite file and WAL; reads its schema") {
        return;
    }
    let latest = {
        let env = Env::new();
        state(&env.db).0
    };
    assert!(latest >= 3);
    let mut wal_name = std::ffi::OsString::new();
    let mut versions_seen = Vec::new();
    // kill once the main file exists, once the WAL holds more and more bytes, and once a
    // reader sees each committed migration step
    let mut thresholds = vec![
        Kill::FileExists,
        Kill::WalOver(0),
        Kill::WalOver(40_000),
        Kill::WalOver(200_000),
    ];
    thresholds.extend((1..latest).map(Kill::VersionAtLeast));
    for threshold in thresholds {
        let env = Env::empty();
        wal_name.clear();
        wal_name.push(env.db.as_os_str());
        wal_name.push("-wal");
        let wal = Path::new(&wal_name).to_path_buf();
        let mut child = env.spawn(&["init", "--password-stdin"]);
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(PW.as_bytes()).expect("password");
        }
        let mut finished = false;
        loop {
            if child.try_wait().expect("try_wait").is_some() {
                finished = true;
                break;
            }
            let hit = match threshold {
                Kill::FileExists => env.db.exists(),
                Kill::WalOver(n) => len(&wal).is_some_and(|l| l > n),
                Kill::VersionAtLeast(k) => wal.exists() && version(&env.db).is_some_and(|v| v >= k),
            };
            if hit {
                break;
            }
            std::thread::yield_now();
        }
        child.kill().expect("kill -9");
        child.wait().expect("wait");
        if env.db.exists() {
            let ok: String = rusqlite::Connection::open(&env.db)
                .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
                .expect("integrity_check");
            assert_eq!(ok, "ok", "{threshold:?}");
            let (v, names) = state(&env.db);
            versions_seen.push((threshold, v, finished));
            assert!((0..=latest).contains(&v), "{threshold:?}: version {v}");
            if v == 0 {
                assert!(names.is_empty(), "{threshold:?}: version 0 with {names:?}");
            }
            for t in tables_for(v) {
                assert!(
                    names.iter().any(|n| n == t),
                    "{threshold:?}: version {v} lacks {t}: {names:?}"
                );
            }
            if v < 2 {
                assert!(
                    !names.iter().any(|n| n == "import_batch"),
                    "{threshold:?}: version {v} has a later step's table"
                );
            }
        }
        // a rerun finishes the job or refuses; never half a schema
        let r = env.run_stdin(&["init", "--password-stdin"], PW);
        assert!(
            r.code == 0 || r.code == 5,
            "{threshold:?}: rerun exit {}: {}",
            r.code,
            r.stderr
        );
        if r.code == 5 {
            r.one_error_line();
        }
        let (v, _) = state(&env.db);
        assert_eq!(v, latest, "{threshold:?}: after the rerun ({})", r.stderr);
        env.assert_whole();
        env.login("admin");
        env.run(&["add", "customer", "--name", "after"]).ok();
        assert_eq!(
            env.run(&["find", "customer", "--count"]).ok().stdout.trim(),
            "1"
        );
    }
    println!("kill points (threshold, version, finished): {versions_seen:?}");
    assert!(
        versions_seen.iter().any(|(_, v, f)| !f && *v < latest),
        "no kill landed before the last migration: {versions_seen:?}"
    );
}

fn side(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(suffix);
    p.into()
}

/// Whether an index exists, and its SQL.
fn index_sql(c: &rusqlite::Connection, name: &str) -> Option<String> {
    c.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
        [name],
        |r| r.get(0),
    )
    .ok()
}

#[test]
fn kill_9_during_an_upgrade_leaves_a_whole_version_and_the_next_command_finishes_it() {
    if skip_unless_sqlite("builds an old SQLite file and reads its schema and indexes") {
        return;
    }
    let env = Env::new();
    let big = env.customers_csv("big.csv", 20_000, "U");
    env.run(&["import", "customer", &big, "-q"]).ok();
    let latest = env.sql_int("PRAGMA user_version");
    assert_eq!(
        latest,
        crm::db::migrate::latest(),
        "a new database is at the latest step"
    );
    // a database labelled version 4: steps 5 (report indexes) and 6 (drops two of them and
    // rebuilds the audit status index with `old`) run again when it is next opened
    env.sql()
        .execute_batch("PRAGMA user_version = 4; PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("label v4");
    let template = std::fs::read(&env.db).expect("template");
    // killed at every step from 5 to the latest
    let points = [Kill::FileExists, Kill::WalOver(0), Kill::WalOver(100_000)]
        .into_iter()
        .chain((5..=latest).map(Kill::VersionAtLeast));
    let mut seen = Vec::new();
    for point in points {
        for s in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(side(&env.db, s));
        }
        std::fs::write(&env.db, &template).expect("restore v4");
        let mut child = env.spawn(&["find", "customer", "--count"]);
        let wal = side(&env.db, "-wal");
        let finished = loop {
            if child.try_wait().expect("try_wait").is_some() {
                break true;
            }
            let hit = match point {
                Kill::FileExists => true,
                Kill::WalOver(n) => len(&wal).is_some_and(|l| l > n),
                Kill::VersionAtLeast(k) => version(&env.db).is_some_and(|v| v >= k),
            };
            if hit {
                break false;
            }
            std::thread::yield_now();
        };
        child.kill().expect("kill -9");
        child.wait().expect("wait");
        {
            let c = rusqlite::Connection::open(&env.db).expect("open");
            let ok: String = c
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .expect("integrity");
            assert_eq!(ok, "ok", "{point:?}");
            let v: i64 = c
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .expect("version");
            seen.push((point, v, finished));
            let profile = index_sql(&c, "customer_profile");
            let status = index_sql(&c, "audit_customer_status").unwrap_or_default();
            // each version's own shape, never a mix
            match v {
                4 => assert!(profile.is_none(), "{point:?}: v4 with a v5 index"),
                5 => assert!(profile.is_some(), "{point:?}: v5 without its index"),
                v if (6..=latest).contains(&v) => {
                    assert!(profile.is_none(), "{point:?}: v6 kept a dropped index");
                    assert!(status.contains("old"), "{point:?}: v6 index: {status}");
                    // v7: the orders' covering index carries the currency (the v4 label
                    // keeps a template's index, so only v7 is checked)
                    let orders = index_sql(&c, "order_date_cover").unwrap_or_default();
                    assert!(v < 7 || orders.contains("currency"), "{point:?}: {orders}");
                    // v9: the settings and ownership tables (the v4 label keeps a template's
                    // tables, so only v9 is checked)
                    let tables: i64 = c
                        .query_row(
                            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('settings', 'ownership')",
                            [],
                            |r| r.get(0),
                        )
                        .expect("tables");
                    assert!(v < 9 || tables == 2, "{point:?}: {tables} tables");
                    // v10: the import batches record historical imports
                    let keeps: i64 = c
                        .query_row(
                            "SELECT COUNT(*) FROM pragma_table_info('import_batch') WHERE name = 'keep_times'",
                            [],
                            |r| r.get(0),
                        )
                        .expect("columns");
                    assert!(v < 10 || keeps == 1, "{point:?}: v{v} without keep_times");
                    // v12: the custom fields' definitions
                    let defs: i64 = c
                        .query_row(
                            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'custom_field'",
                            [],
                            |r| r.get(0),
                        )
                        .expect("tables");
                    assert!(v < 12 || defs == 1, "{point:?}: v{v} without custom_field");
                }
                _ => panic!("{point:?}: version {v}"),
            }
            let n: i64 = c
                .query_row("SELECT COUNT(*) FROM customer", [], |r| r.get(0))
                .expect("count");
            assert_eq!(n, 20_000, "{point:?}");
            // v8 adds the import trail's column, whole or not at all (the relabelled file
            // already has it: the step runs again without failing)
            let after: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM pragma_table_info('import_change') WHERE name = 'after'",
                    [],
                    |r| r.get(0),
                )
                .expect("after column");
            assert_eq!(after, 1, "{point:?}");
            // v9 makes the search index and fills it in the same transaction: every
            // customer is in it once the version says 9 (the relabelled file's own index is
            // emptied and built again)
            if v >= 9 {
                let indexed: i64 = c
                    .query_row("SELECT COUNT(*) FROM customer_search", [], |r| r.get(0))
                    .expect("index rows");
                assert_eq!(indexed, 20_000, "{point:?}");
            }
        }
        // the next command finishes the upgrade
        assert_eq!(
            env.run(&["find", "customer", "--count"]).ok().stdout.trim(),
            "20000"
        );
        assert_eq!(env.sql_int("PRAGMA user_version"), latest);
        assert!(index_sql(&env.sql(), "customer_profile").is_none());
    }
    println!("upgrade kill points (point, version, finished): {seen:?}");
    assert!(
        seen.iter().any(|(_, v, f)| !f && *v < latest),
        "no kill landed before the upgrade finished: {seen:?}"
    );
}
