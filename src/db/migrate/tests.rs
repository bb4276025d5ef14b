//! The runner and the frozen steps: triggers, application id, the guarded column add.

use rusqlite::Connection;

use super::{TRIGGERS, add_column_if_missing, latest, run, run_to, sqlite};

fn fresh() -> Connection {
    let conn = Connection::open_in_memory().expect("memory db");
    run(&conn).expect("migrate");
    conn
}

fn strings(conn: &Connection, sql: &str) -> Vec<String> {
    let mut st = conn.prepare(sql).expect("prepare");
    st.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn the_frozen_steps_create_exactly_the_triggers_crm_accepts() {
    let conn = fresh();
    let mut got = strings(
        &conn,
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
    );
    got.sort();
    let mut want: Vec<String> = TRIGGERS.iter().map(|s| (*s).to_string()).collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn the_frozen_v1_sets_crms_application_id() {
    let conn = fresh();
    let id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .expect("application_id");
    assert_eq!(id, crate::db::APPLICATION_ID);
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version");
    assert_eq!(v, latest());
}

#[test]
fn run_to_stops_at_the_version_asked_and_run_finishes() {
    let conn = Connection::open_in_memory().expect("memory db");
    run_to(&conn, 2).expect("to v2");
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version");
    assert_eq!(v, 2);
    assert!(
        strings(
            &conn,
            "SELECT name FROM sqlite_master WHERE name = 'opportunity_stage'"
        )
        .is_empty()
    );
    run(&conn).expect("finish");
    assert_eq!(
        strings(
            &conn,
            "SELECT name FROM sqlite_master WHERE name = 'opportunity_stage'"
        ),
        ["opportunity_stage"]
    );
}

#[test]
fn a_guarded_column_add_parses_and_runs_twice_without_failing() {
    assert_eq!(
        add_column_if_missing("ALTER TABLE import_change ADD COLUMN IF NOT EXISTS after TEXT;"),
        Some(("import_change", "after", "TEXT"))
    );
    assert_eq!(
        add_column_if_missing("ALTER TABLE import_batch ADD COLUMN audit_id INTEGER;"),
        None
    );
    // quoted names are looked up unquoted, so a second run finds the column
    let conn = fresh();
    let add = r#"ALTER TABLE "order" ADD COLUMN IF NOT EXISTS "fax" TEXT;"#;
    assert_eq!(
        add_column_if_missing(add),
        Some((r#""order""#, r#""fax""#, "TEXT"))
    );
    for _ in 0..2 {
        let tx = conn.unchecked_transaction().expect("tx");
        super::apply(&tx, add).expect("add once");
        tx.commit().expect("commit");
    }
    let fax: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('order') WHERE name = 'fax'",
            [],
            |r| r.get(0),
        )
        .expect("columns");
    assert_eq!(fax, 1);
    // a file whose label was set back runs the last step again (as the upgrade tests do)
    conn.execute_batch(&format!("PRAGMA user_version = {}", latest() - 1))
        .expect("relabel");
    run(&conn).expect("rerun the last step");
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('import_change') WHERE name = 'after'",
            [],
            |r| r.get(0),
        )
        .expect("columns");
    assert_eq!(n, 1);
}

/// A guarded add the runner would not recognise would run as plain SQL and fail on `SQLite`.
#[test]
fn every_guarded_column_add_in_the_steps_is_recognised() {
    for (i, sql) in sqlite::STEPS.iter().enumerate() {
        let statements = sql.lines().filter(|l| !l.trim_start().starts_with("--"));
        for line in statements.filter(|l| l.contains("IF NOT EXISTS") && l.contains("ADD COLUMN")) {
            assert!(add_column_if_missing(line).is_some(), "v{}: {line}", i + 1);
        }
    }
}
