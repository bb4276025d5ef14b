//! crm's schema on `PostgreSQL` (`src/db/migrate/postgres/v1.sql`): it applies in one
//! transaction, refuses an initialised database cleanly, and equals what `SQLite`'s steps
//! make, table by table: columns in order with crm's types, NOT NULL and defaults, unique keys,
//! foreign keys with their delete action, and indexes. Runs on the test cluster
//! (`pg_harness`).

use std::collections::{BTreeMap, BTreeSet};

use crm::db::migrate::postgres::{ONLY_HERE, STEPS, security};
use postgres::error::SqlState;

use crate::pg_harness;

/// One table as both engines can describe it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// (name, crm type: `integer` or `text`, NOT NULL, default), in order.
    columns: Vec<(String, String, bool, Option<String>)>,
    /// The column lists of the primary key and of every unique index.
    uniques: BTreeSet<Vec<String>>,
    /// (columns, referenced table, referenced columns, on delete).
    foreign: BTreeSet<(Vec<String>, String, Vec<String>, String)>,
    /// (name, columns, partial) of every other index.
    indexes: BTreeSet<(String, Vec<String>, bool)>,
}

type Schema = BTreeMap<String, Table>;

fn sqlite_schema() -> Schema {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    crm::db::migrate::run(&conn).unwrap();
    let strings = |sql: &str, arg: &str| -> Vec<String> {
        let mut st = conn.prepare(sql).unwrap();
        st.query_map([arg], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let mut schema = Schema::new();
    let tables = strings(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name <> ?",
        "",
    );
    // The search index's FTS5 tables and their shadow tables are SQLite's own kind of
    // table: compared by name only (`search_tables`).
    let virtual_tables = strings(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND name <> ?",
        "",
    );
    for name in tables {
        if virtual_tables
            .iter()
            .any(|v| name == *v || name.starts_with(&format!("{v}_")))
        {
            continue;
        }
        let mut t = Table::default();
        let mut st = conn
            .prepare("SELECT name, type, \"notnull\", pk, dflt_value FROM pragma_table_info(?) ORDER BY cid")
            .unwrap();
        let cols: Vec<(String, String, bool, i64, Option<String>)> = st
            .query_map([&name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (c, ty, notnull, k, default) in cols {
            let crm_type = match ty.as_str() {
                "INTEGER" => "integer",
                "TEXT" => "text",
                other => panic!("{name}.{c}: SQLite type {other}"),
            };
            t.columns
                .push((c.clone(), crm_type.into(), notnull || k > 0, default));
            if k > 0 {
                pk.push((k, c));
            }
        }
        pk.sort();
        t.uniques.insert(pk.into_iter().map(|(_, c)| c).collect());
        let mut st = conn
            .prepare("SELECT name, \"unique\", partial FROM pragma_index_list(?)")
            .unwrap();
        let idx: Vec<(String, bool, bool)> = st
            .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for (iname, unique, partial) in idx {
            let cols = strings(
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
                &iname,
            );
            if unique {
                t.uniques.insert(cols);
            } else {
                t.indexes.insert((iname, cols, partial));
            }
        }
        let mut st = conn
            .prepare("SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq")
            .unwrap();
        let fks: Vec<(i64, String, String, String, String)> = st
            .query_map([&name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let mut by_id: BTreeMap<i64, (Vec<String>, String, Vec<String>, String)> = BTreeMap::new();
        for (id, to_table, from, to, on_delete) in fks {
            let e = by_id
                .entry(id)
                .or_insert_with(|| (vec![], to_table, vec![], on_delete));
            e.0.push(from);
            e.2.push(to);
        }
        t.foreign = by_id.into_values().collect();
        schema.insert(name, t);
    }
    schema
}

fn pg_schema(client: &mut postgres::Client) -> Schema {
    let mut schema = Schema::new();
    let tables = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'crm' AND table_type = 'BASE TABLE'",
            &[],
        )
        .unwrap();
    for row in tables {
        let name: String = row.get(0);
        if ONLY_HERE.contains(&name.as_str()) || name.ends_with("_search") {
            continue;
        }
        let mut t = Table::default();
        for c in client
            .query(
                "SELECT column_name::text, data_type::text, is_nullable = 'NO', column_default::text FROM information_schema.columns WHERE table_schema = 'crm' AND table_name = $1 ORDER BY ordinal_position",
                &[&name],
            )
            .unwrap()
        {
            let (col, ty, notnull, default): (String, String, bool, Option<String>) =
                (c.get(0), c.get(1), c.get(2), c.get(3));
            let crm_type = match ty.as_str() {
                "bigint" => "integer",
                "text" => "text",
                other => panic!("{name}.{col}: PostgreSQL type {other}"),
            };
            t.columns.push((col, crm_type.into(), notnull, default));
        }
        let cols = |rel: &str, keys: &str| {
            format!(
                "array(SELECT a.attname::text FROM unnest({keys}) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.attnum ORDER BY k.n)"
            )
        };
        for i in client
            .query(
                &format!(
                    "SELECT ci.relname::text, i.indisunique, i.indpred IS NOT NULL, {} FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'crm' AND c.relname = $1",
                    cols("i.indrelid", "i.indkey::int2[]")
                ),
                &[&name],
            )
            .unwrap()
        {
            let (iname, unique, partial, columns): (String, bool, bool, Vec<String>) =
                (i.get(0), i.get(1), i.get(2), i.get(3));
            if unique {
                t.uniques.insert(columns);
            } else {
                t.indexes.insert((iname, columns, partial));
            }
        }
        for f in client
            .query(
                &format!(
                    "SELECT {}, cf.relname::text, {}, CASE co.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' ELSE co.confdeltype::text END FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_class cf ON cf.oid = co.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE co.contype = 'f' AND n.nspname = 'crm' AND c.relname = $1",
                    cols("co.conrelid", "co.conkey"),
                    cols("co.confrelid", "co.confkey")
                ),
                &[&name],
            )
            .unwrap()
        {
            t.foreign.insert((f.get(0), f.get(1), f.get(2), f.get(3)));
        }
        schema.insert(name, t);
    }
    schema
}

/// The search index's tables on `SQLite`: the FTS5 tables (not their shadow tables).
fn search_tables_sqlite() -> BTreeSet<String> {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    crm::db::migrate::run(&conn).unwrap();
    let mut st = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The search index's tables on `PostgreSQL`: those of an id and a GIN-indexed tsvector,
/// the id a key that goes with its record.
fn search_tables_pg(client: &mut postgres::Client) -> BTreeSet<String> {
    client
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'crm' AND c.relkind = 'r'
                AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 't' AND a.atttypid = 'tsvector'::regtype)
                AND EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam WHERE i.indrelid = c.oid AND am.amname = 'gin')
                AND EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conrelid = c.oid AND co.contype = 'f' AND co.confdeltype = 'c')",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn pg_schema_equals_sqlite() {
    let Some(db) = pg_harness::fresh("pg_schema_equals_sqlite") else {
        return;
    };
    db.init().unwrap();
    let pg = pg_schema(&mut db.admin());
    let lite = sqlite_schema();
    assert_eq!(
        pg.keys().collect::<Vec<_>>(),
        lite.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (name, t) in &lite {
        assert_eq!(
            &pg[name], t,
            "table {name}: PostgreSQL (left) vs SQLite (right)"
        );
    }
    assert_eq!(
        search_tables_pg(&mut db.admin()),
        search_tables_sqlite(),
        "the same search index tables"
    );
    // SQLite's tables check nothing beyond types (STRICT): neither may PostgreSQL's.
    let checks: i64 = db
        .admin()
        .query_one(
            "SELECT count(*) FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'crm' AND co.contype = 'c' AND c.relname::text <> ALL($1)",
            &[&ONLY_HERE.to_vec()],
        )
        .unwrap()
        .get(0);
    assert_eq!(checks, 0, "CHECK constraints that SQLite lacks");
}

#[test]
fn pg_init_is_one_transaction_and_refuses_an_initialised_database() {
    let Some(db) = pg_harness::fresh("pg_init_is_one_transaction") else {
        return;
    };
    // A failure after the steps leaves nothing behind: no schema, no roles.
    {
        let mut admin = db.admin();
        let mut tx = admin.transaction().unwrap();
        for step in STEPS {
            tx.batch_execute(step).unwrap();
        }
        tx.batch_execute(&security::sql(&db.name)).unwrap();
        assert!(tx.batch_execute("SELECT 1 / 0").is_err());
        drop(tx);
        let left: i64 = admin
            .query_one(
                "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'crm') + (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'crm\\_' || $1 || '\\_%')",
                &[&db.name.replace('_', "\\_")],
            )
            .unwrap()
            .get(0);
        assert_eq!(left, 0, "a rolled-back init leaves no schema and no roles");
    }
    db.init().unwrap();
    let err = db.init().expect_err("a second init must fail");
    assert_eq!(err.code(), Some(&SqlState::DUPLICATE_SCHEMA), "{err}");
    let mut admin = db.admin();
    let version: i64 = admin
        .query_one("SELECT version FROM crm.schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, i64::try_from(STEPS.len()).unwrap());
    // and the security can be applied again over itself (every migration run does)
    admin.batch_execute(&security::sql(&db.name)).unwrap();
    admin.batch_execute(&security::sql(&db.name)).unwrap();
}
