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

/// The statements of each shipped step (comments aside), as SHA-256: files made by earlier
/// builds ran exactly these, so a changed statement is drift. Change a step by adding one.
/// Every step has its hash here (a new step adds its own); only a step that has not shipped
/// yet (the newest, on its branch) may change, with its hash.
const SHIPPED: &[&str] = &[
    // v1
    "7d5e485f3ab3d4fabd01570442a1194a327d8e220be801d00320c23b302341dc",
    // v2
    "3906267edd8641c6b3b63c0eab491982bc1f583433c6c9265e12b217af9d1afe",
    // v3
    "f766855cdea052aab83d943b105f75cc80fc41b53476462c0207f40a83a0bcb0",
    // v4
    "37f75a4d604297097ba5dbafb30e4572e346c090c3059c9b8fe8a9b12c60655c",
    // v5
    "eddf20178f6875371eaadef664a04305372e198e3652d5d962d08252582cbd6a",
    // v6
    "e784add789fcb162d631501c0ded92c8587ee032a915bb504f3e0f70235d385d",
    // v7
    "2a501e21a4e6fa85ff378826b468f8c48ebcbfa9de7b320adec282f5dd817143",
    // v8
    "853e17cc704cb58b1ce3029010a56b02101abeaf13e96e08f9e894f1c049a512",
    // v9
    "768c78d2235c3dd4290322ec8273135f87a91ba3adf2469e0503337bc2222781",
    // v10
    "36ce11e178d37d310740a4071637890993af6ba4bd9db909a8863a5d85f59209",
    // v11
    "e151ddb1d5ed875efa75b1e1f8238a4e500bfc04a27ae0b3dc14131db128189c",
    // v12: the merge log (`MERGE_LOG_STEP`)
    "502af5ab28f54c5f624cf91529f2f531a66b5de1b00356bacbcfbdd42f570fcf",
    // v13: tokens for automation (`TOKENS_STEP`)
    "2c2557a3dada324f4293ca61f3a21cc1b8047cba1d62c47cfa170cf821625b43",
    // v14: credit_code unique (`db::credit_unique::SQLITE_STEP`)
    "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a",
    // v15: custom fields (`CUSTOM_FIELD_STEP`)
    "793a317c38494d22204e17fcb55588cb8170824233a64e18644b9d8f86500b3d",
];

/// The same for `PostgreSQL`'s steps, from the first release that runs on `PostgreSQL`.
const SHIPPED_PG: &[&str] = &[
    // v1
    "3a834144d43899acc1f3f487855588ce5448658ad69d5612f501e3bc4a208ae2",
    // v2
    "d406fce8f7ff1441b674aedd97eea6b535326e30279af6b55f0a3fec5fa05a94",
    // v3
    "617aedd7c63459a55b5db00b1532b0ae24b3c6f5ff34d175c1b2425844ccf843",
    // v4
    "35e4c39ba3f85de4c05621159b2e817a08ee19b947e7c400b55281f03dc08f85",
    // v5
    "9a01625367c931cd99572e5df4ea5d8e2ffc691bdedc75f9f47c63575ef47220",
    // v6
    "7693b18cd204f9aa41121256a191d857652ef300eeb124b2d1e6b4862f3762b8",
    // v7: the merge log (`MERGE_LOG_STEP`)
    "04ccfd7d5106c099ff9db3606ec1c8f517ebfeb869b9d8a12bace9b726466ee5",
    // v8: tokens for automation (`TOKENS_STEP`)
    "f06c02fed46d3108f2359702b1504acf5a0d91804ce9e8514147c1e6ce0b6269",
    // v9: credit_code unique (`db::credit_unique::POSTGRES_STEP`)
    "e9e86a90dd5bc1ef3b0e22eb2c5f5885f3c69382d756c9e2e6f6758e7b69afa2",
    // v10: custom fields (`CUSTOM_FIELD_STEP`)
    "bbdd7ee5dfc0f499045ba03508db01c7ceea2dcde1ed27b10bacf5f78fc047cd",
    // v11: the audit triggers' helpers cheap per row (`AUDIT_HELPERS_STEP`)
    "28eceb2af66e39c5b2ab38e5774c5920b3c10b3a741ea20e7c6073e0c99b2276",
];

/// Each step's statements (comments aside) as SHA-256.
fn step_hashes(steps: &[&str]) -> Vec<String> {
    use sha2::{Digest, Sha256};
    steps
        .iter()
        .map(|sql| {
            let statements: Vec<&str> = sql
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect();
            format!("{:x}", Sha256::digest(statements.join("\n")))
        })
        .collect()
}

#[test]
fn shipped_postgres_steps_are_never_edited() {
    let got = step_hashes(crate::db::migrate::postgres::STEPS);
    assert_eq!(
        got.len(),
        SHIPPED_PG.len(),
        "add the new step's hash to SHIPPED_PG: {got:#?}"
    );
    for (i, want) in SHIPPED_PG.iter().enumerate() {
        assert_eq!(
            got.get(i).map(String::as_str),
            Some(*want),
            "postgres v{} changed after it shipped: add a new step instead\nall: {got:#?}",
            i + 1
        );
    }
}

#[test]
fn shipped_steps_are_never_edited() {
    let got = step_hashes(sqlite::STEPS);
    assert_eq!(
        got.len(),
        SHIPPED.len(),
        "add the new step's hash to SHIPPED: {got:#?}"
    );
    for (i, want) in SHIPPED.iter().enumerate() {
        assert_eq!(
            got.get(i).map(String::as_str),
            Some(*want),
            "v{} changed after it shipped: add a new step instead\nall: {got:#?}",
            i + 1
        );
    }
}

#[test]
fn the_tokens_step_makes_the_tokens_table() {
    let conn = Connection::open_in_memory().expect("memory db");
    run_to(&conn, sqlite::TOKENS_STEP - 1).expect("before");
    let tokens = "SELECT name FROM sqlite_master WHERE name = 'tokens'";
    assert!(strings(&conn, tokens).is_empty());
    run_to(&conn, sqlite::TOKENS_STEP).expect("the step");
    assert_eq!(strings(&conn, tokens), ["tokens"]);
    assert!(
        crate::db::migrate::postgres::STEPS
            [usize::try_from(crate::db::migrate::postgres::TOKENS_STEP - 1).expect("step")]
        .contains("CREATE TABLE crm.tokens")
    );
}

#[test]
fn the_custom_field_step_makes_its_table() {
    let step = usize::try_from(super::CUSTOM_FIELD_STEP).expect("a step") - 1;
    assert!(sqlite::STEPS[step].contains("CREATE TABLE IF NOT EXISTS custom_field"));
}
