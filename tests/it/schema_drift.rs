//! Migrations cannot drift: a new database and one upgraded from every earlier version have
//! the same schema, and every registry field is a column of its entity's table.
//!
//! These tests must look at the file (they compare `sqlite_master` and build old versions
//! with the frozen `SQLite` steps), so they are `SQLite`-only by nature.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::Connection;

use crate::harness::{Env, skip_unless_sqlite};

/// Replaces `env`'s database with a file at `version`, built by the frozen steps 1..=version
/// exactly as the build that shipped them did, holding `env`'s users, sessions and audit log
/// (so its login still works) and a few records of each kind that version knows.
pub fn database_at_version(env: &Env, version: i64) {
    let built = env.path(&format!("v{version}.db"));
    {
        let c = Connection::open(&built).expect("open old file");
        // A file past the search index's step held its records indexed: seeded before that
        // step, whose build indexes them, as the file's own writes would have.
        let index = crm::db::migrate::SEARCH_INDEX_STEP;
        let seeded_at = if version >= index { index - 1 } else { version };
        crm::db::migrate::run_to(&c, seeded_at).expect("frozen steps");
        c.execute("ATTACH ?1 AS cur", [env.db.to_str().expect("utf-8 path")])
            .expect("attach");
        c.execute_batch(
            "INSERT INTO main.users SELECT * FROM cur.users;
             INSERT INTO main.sessions SELECT * FROM cur.sessions;
             INSERT INTO main.audit SELECT * FROM cur.audit;
             DETACH cur;",
        )
        .expect("copy users, sessions and audit");
        seed(&c, version);
        crm::db::migrate::run_to(&c, version).expect("frozen steps after the seed");
    }
    for side in ["", "-wal", "-shm"] {
        let mut p = env.db.clone().into_os_string();
        p.push(side);
        let _ = std::fs::remove_file(p);
    }
    std::fs::rename(&built, &env.db).expect("put the old file in place");
}

/// Records as a file of `version` holds them: every later step must carry them over.
fn seed(c: &Connection, version: i64) {
    c.execute_batch(
        "CREATE TEMP TABLE t AS SELECT MIN(created_at) AS at FROM users;
         INSERT INTO customer (code, name, status, owner, created_at, updated_at)
             SELECT 'C900001', 'old customer', 'active', 'admin', at, at FROM t;
         INSERT INTO contact (customer, name, created_at, updated_at)
             SELECT 1, 'old contact', at, at FROM t;
         INSERT INTO opportunity (customer, name, stage, currency, owner, created_at, updated_at)
             SELECT 1, 'old deal', 'proposal', 'CNY', 'admin', at, at FROM t;
         INSERT INTO \"order\" (number, customer, order_date, status, amount, currency, owner,
                                created_at, updated_at)
             SELECT 'SO900001', 1, '2026-01-02', 'paid', 100000, 'CNY', 'admin', at, at FROM t;",
    )
    .expect("seed v1 records");
    if version >= 2 {
        c.execute_batch(
            "INSERT INTO import_batch (at, user, entity, file, mode, inserted, updated, unchanged,
                                       rejected)
                 SELECT at, 'admin', 'customer', 'old.csv', 'upsert', 0, 1, 0, 0 FROM t;
             INSERT INTO import_change (batch, record_id, before, after_updated_at)
                 SELECT 1, 1, '{\"status\":\"prospect\"}', at FROM t;",
        )
        .expect("seed v2 batches");
    }
    if version >= 3 {
        c.execute_batch(
            "INSERT INTO opportunity_stage (opportunity, stage, entered_at)
                 SELECT 1, 'proposal', at FROM t;",
        )
        .expect("seed v3 stage history");
    }
    if version >= 4 {
        c.execute_batch("INSERT INTO import_insert (batch, first_id, last_id) VALUES (1, 1, 1);")
            .expect("seed v4 inserted ranges");
    }
    c.execute_batch("DROP TABLE temp.t;").expect("drop temp");
}

fn strings(c: &Connection, sql: &str, arg: &str) -> Vec<String> {
    let mut st = c.prepare(sql).expect("prepare");
    st.query_map([arg], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Collapses whitespace, so a statement's layout does not count, only what it says.
fn squeeze(sql: &str) -> String {
    sql.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")")
}

/// The schema as lines: each table's options, columns (type, not null, default, key),
/// foreign keys and indexes (with their columns and partial condition), each trigger,
/// and every `sqlite_master` statement with its whitespace squeezed; plus the file's
/// application id and version.
fn schema(path: &Path) -> BTreeSet<String> {
    let c = Connection::open(path).expect("open");
    let mut out = BTreeSet::new();
    let q = |sql: &str| -> String {
        c.query_row(sql, [], |r| r.get::<_, i64>(0))
            .expect("pragma")
            .to_string()
    };
    out.insert(format!("application_id {}", q("PRAGMA application_id")));
    out.insert(format!("user_version {}", q("PRAGMA user_version")));
    let mut st = c
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master")
        .expect("master");
    let rows: Vec<(String, String, String, Option<String>)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (ty, name, table, sql) in &rows {
        out.insert(format!(
            "{ty} {name} on {table}: {}",
            squeeze(sql.as_deref().unwrap_or("(automatic)"))
        ));
        if ty != "table" {
            continue;
        }
        let opts = c
            .query_row(
                "SELECT strict, wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
                [name],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .expect("table_list");
        out.insert(format!(
            "table {name}: strict {} without_rowid {}",
            opts.0, opts.1
        ));
        for col in strings(
            &c,
            "SELECT cid || ' ' || name || ' ' || type || ' notnull=' || \"notnull\" \
             || ' default=' || coalesce(dflt_value, '-') || ' pk=' || pk \
             FROM pragma_table_xinfo(?1)",
            name,
        ) {
            out.insert(format!("column {name}.{col}"));
        }
        for fk in strings(
            &c,
            "SELECT \"from\" || ' -> ' || \"table\" || '(' || coalesce(\"to\", '') || ') on delete ' \
             || on_delete || ' on update ' || on_update FROM pragma_foreign_key_list(?1)",
            name,
        ) {
            out.insert(format!("fk {name}.{fk}"));
        }
        let indexes = strings(
            &c,
            "SELECT name || ' unique=' || \"unique\" || ' origin=' || origin || ' partial=' || partial \
             FROM pragma_index_list(?1)",
            name,
        );
        for line in indexes {
            let (index, flags) = line.split_once(' ').expect("name and flags");
            let cols = strings(
                &c,
                "SELECT group_concat(coalesce(name, '<expr>') || (CASE WHEN \"desc\" THEN ' DESC' ELSE '' END), ', ') \
                 FROM (SELECT * FROM pragma_index_xinfo(?1) WHERE key ORDER BY seqno)",
                index,
            );
            out.insert(format!("index {name}.{index}({}) {flags}", cols.join("")));
        }
    }
    out
}

fn diff(new: &BTreeSet<String>, old: &BTreeSet<String>) -> String {
    let only_new: Vec<_> = new.difference(old).collect();
    let only_old: Vec<_> = old.difference(new).collect();
    format!("only in a new database: {only_new:#?}\nonly in the upgraded one: {only_old:#?}")
}

#[test]
fn a_new_database_and_one_upgraded_from_every_earlier_version_have_the_same_schema() {
    if skip_unless_sqlite("compares sqlite_master of new and upgraded SQLite files") {
        return;
    }
    let new = Env::new();
    let latest = crm::db::migrate::latest();
    let want = schema(&new.db);
    assert!(
        want.iter()
            .any(|l| l.starts_with("trigger audit_no_update"))
    );
    for version in 1..latest {
        let env = Env::new();
        database_at_version(&env, version);
        assert_eq!(env.sql_int("PRAGMA user_version"), version);
        // opening upgrades: the records the old file held are all there
        let r = env.run(&["find", "customer", "--format", "json"]);
        let json = r.ok().json();
        assert_eq!(json[0]["code"], "C900001", "v{version}: {json}");
        assert_eq!(env.sql_int("PRAGMA user_version"), latest, "v{version}");
        let got = schema(&env.db);
        assert!(
            got == want,
            "v{version} upgraded differs:\n{}",
            diff(&want, &got)
        );
        // and the upgraded file works: a write, a report over the old order, a clean check
        env.add("customer", &["--name", "after the upgrade"]);
        let o = env.run(&["find", "order", "--format", "json"]).ok().json();
        assert_eq!(o[0]["number"], "SO900001", "v{version}: {o}");
        env.run(&["report", "sales"]).ok();
        env.run(&["check"]).ok();
    }
}

#[test]
fn every_registry_field_is_a_column_of_its_entity_table_with_its_type() {
    if skip_unless_sqlite("reads the SQLite tables' columns") {
        return;
    }
    let env = Env::new();
    let c = env.sql();
    for e in crm::schema::ENTITIES {
        let cols: Vec<(String, String)> = c
            .prepare("SELECT name, type FROM pragma_table_xinfo(?1)")
            .expect("prepare")
            .query_map([e.name], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("columns")
            .collect::<Result<_, _>>()
            .expect("columns");
        let want: Vec<(String, String)> = e
            .columns()
            .map(|f| (f.name.to_string(), f.kind.sql_type().to_string()))
            .collect();
        let (mut got_sorted, mut want_sorted) = (cols.clone(), want.clone());
        got_sorted.sort();
        want_sorted.sort();
        assert_eq!(
            got_sorted, want_sorted,
            "{}: table columns vs registry fields",
            e.name
        );
        for f in e.fields {
            if let crm::schema::Kind::Ref(target) = f.kind {
                let n: i64 = c
                    .query_row(
                        "SELECT COUNT(*) FROM pragma_foreign_key_list(?1) \
                         WHERE \"from\" = ?2 AND \"table\" = ?3 AND \"to\" = 'id'",
                        [e.name, f.name, target],
                        |r| r.get(0),
                    )
                    .expect("fk");
                assert_eq!(n, 1, "{}.{} references {target}", e.name, f.name);
            }
            let unique: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM pragma_index_list(?1) AS l \
                     WHERE l.\"unique\" AND l.partial = 0 \
                       AND (SELECT COUNT(*) FROM pragma_index_info(l.name)) = 1 \
                       AND (SELECT name FROM pragma_index_info(l.name)) = ?2",
                    [e.name, f.name],
                    |r| r.get(0),
                )
                .expect("unique");
            assert_eq!(unique > 0, f.unique, "{}.{} unique", e.name, f.name);
        }
    }
}

#[test]
fn init_upgrade_migrates_an_older_file_and_says_what_it_did() {
    if skip_unless_sqlite("makes a file at an older SQLite schema version") {
        return;
    }
    let env = Env::new();
    database_at_version(&env, 3);
    let latest = crm::db::migrate::latest();
    let r = env.run(&["init", "--upgrade", "--format", "json"]);
    r.ok();
    let j = r.json();
    assert_eq!(j["from"], 3);
    assert_eq!(j["to"], latest);
    assert_eq!(j["upgraded"], true);
    assert_eq!(env.sql_int("PRAGMA user_version"), latest);
    let again = env.run(&["init", "--upgrade"]);
    again.ok();
    assert!(again.stderr.contains("up to date"), "{}", again.stderr);
    // Nothing to upgrade is not a database to create.
    let none = Env::empty();
    none.run(&["init", "--upgrade"]).code(9).one_error_line();
    assert!(!none.db_exists());
}
