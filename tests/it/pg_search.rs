//! The search index on `PostgreSQL` (`crm.<entity>_search`, v3; `db::search::pg`): the
//! set-based import (streamed straight into the table with its indexes set aside, and
//! staged updates), its revert, `crm copy` into a server database and the upgrade of a
//! database from before the index all leave an index that answers `crm find` as a scan
//! of the values would, and that `crm check` finds whole; `crm check` finds one that lost
//! a row or holds other tokens; the index rows follow their records' row security.

use crm::auth::{Action, ROLES, Role, allowed};
use std::fmt::Write as _;

use crm::schema::Entity;

use crate::harness::{Env, PW, write};
use crate::pg_cli::url_of;
use crate::pg_harness::{self, add_customer, login, setup};

/// Rows of the big file: more than an import chunk (8192), so the first load goes
/// straight into the table.
const ROWS: usize = 9000;

/// An environment on a fresh database, initialised, its admin logged in.
fn on_server(test: &str) -> Option<(pg_harness::PgDb, Env)> {
    let db = pg_harness::fresh(test)?;
    let mut env = Env::empty();
    env.db = url_of(&db).into();
    env.run_stdin(&["init", "--password-stdin"], PW).ok();
    env.login("admin");
    Some((db, env))
}

fn count(env: &Env, text: &str) -> usize {
    let r = env.run(&["find", "customer", text, "--count"]);
    r.ok();
    r.stdout.trim().parse().expect("a count")
}

/// What a scan of the values finds: names, codes and phones containing `text` (the
/// phone's digits for a digit query), as `find` must.
fn scan(rows: &[(String, String, String)], text: &str) -> usize {
    rows.iter()
        .filter(|(name, code, phone)| {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            name.contains(text)
                || code.to_lowercase().contains(&text.to_lowercase())
                || phone.contains(text)
                || digits.contains(text)
        })
        .count()
}

/// What the index must answer, queried both ways; and `crm check` finds it whole.
#[track_caller]
fn agrees(env: &Env, rows: &[(String, String, String)]) {
    for q in ["张伟", "赵", "k00123", "00000123"] {
        assert_eq!(count(env, q), scan(rows, q), "find customer {q}");
    }
    let zhang = rows.iter().filter(|r| r.0.starts_with("张伟")).count();
    assert_eq!(count(env, "zhangwei"), zhang, "pinyin");
    assert_eq!(count(env, "zw"), zhang, "pinyin initials");
    env.run(&["check"]).ok();
}

#[test]
fn pg_bulk_import_and_its_revert_keep_the_index() {
    let Some((_db, env)) = on_server("pg_bulk_import_and_its_revert_keep_the_index") else {
        return;
    };
    let names = ["张伟科技", "李娜贸易", "王芳"];
    let mut rows: Vec<(String, String, String)> = (0..ROWS)
        .map(|i| {
            (
                format!("{}{i}", names[i % 3]),
                format!("K{i:05}"),
                format!("0755-{i:08}"),
            )
        })
        .collect();
    let f = env.path("big.csv");
    let mut csv = String::from("name,code,phone\n");
    for (n, c, p) in &rows {
        let _ = writeln!(csv, "{n},{c},{p}");
    }
    write(&f, csv);
    // A first load into the empty table: COPY straight into it, plain indexes set aside.
    env.run_env(
        &["import", "customer", f.to_str().unwrap()],
        &[("CRM_TEST_PG_DEFER_ROWS", "1000")],
    )
    .ok();
    let first = rows.clone();
    agrees(&env, &rows);
    // Updates by key, staged: the index rows of the changed records are replaced.
    let mut csv = String::from("code,name\n");
    for (i, row) in rows.iter_mut().enumerate().take(1000) {
        row.0 = format!("赵六商店{i}");
        let _ = writeln!(csv, "{},{}", row.1, row.0);
    }
    write(&f, csv);
    env.run(&[
        "import",
        "customer",
        f.to_str().unwrap(),
        "--mode",
        "update",
        "--key",
        "code",
    ])
    .ok();
    agrees(&env, &rows);
    // Reverting the update brings the old tokens back; reverting the load, nothing.
    let batches = env.read_json(&["import", "history"]);
    let mut ids: Vec<i64> = batches
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["batch"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    env.run(&["import", "revert", &ids[1].to_string()]).ok();
    agrees(&env, &first);
    env.run(&["import", "revert", &ids[0].to_string()]).ok();
    agrees(&env, &[]);
}

#[test]
fn pg_check_finds_an_index_that_lost_a_row_or_holds_other_tokens() {
    let Some((db, env)) = on_server("pg_check_finds_a_stale_index") else {
        return;
    };
    let a = env.add("customer", &["--name", "被删索引"]);
    let b = env.add("customer", &["--name", "被改索引"]);
    env.run(&["check"]).ok();
    let mut admin = db.admin();
    admin
        .execute(
            "UPDATE crm.customer_search SET t = array_to_tsvector('{x}') WHERE id = $1",
            &[&b],
        )
        .unwrap();
    let r = env.run(&["check", "--format", "json"]);
    r.code(9);
    assert!(
        r.stdout
            .contains("1 records whose values the index does not hold"),
        "{}",
        r.stdout
    );
    admin
        .execute("DELETE FROM crm.customer_search WHERE id = $1", &[&a])
        .unwrap();
    let r = env.run(&["check", "--format", "json"]);
    r.code(9);
    assert!(r.stdout.contains("1 records not indexed"), "{}", r.stdout);
}

#[test]
fn pg_an_upgrade_from_before_the_index_builds_it() {
    let Some((db, env)) = on_server("pg_an_upgrade_from_before_the_index_builds_it") else {
        return;
    };
    let id = env.add(
        "customer",
        &["--name", "升级之前", "--phone", "138-0000-1234"],
    );
    // What a crm from before v5 leaves: no index tables, schema version 4, its security —
    // and none of what the later steps make (v6 only replaces a function): each later
    // step's objects are listed here, or the upgrade meets them already there.
    let mut drops: String = crm::db::search::entities()
        .map(crm::schema::Entity::search_table)
        .fold(String::new(), |acc, t| acc + "DROP TABLE crm." + &t + ";");
    drops.push_str(
        "DROP TABLE crm.merge_log, crm.tokens, crm.token_login, crm.custom_field CASCADE;
         DROP INDEX crm.customer_credit_code_unique;
         DO $$ DECLARE f regprocedure; BEGIN
           FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                    WHERE p.pronamespace = 'crm'::regnamespace
                      AND p.proname IN ('my_token', 'actor', 'custom_field_add',
                                        'custom_field_drop', 'custom_shown', 'custom_audit')
           LOOP EXECUTE 'DROP FUNCTION ' || f || ' CASCADE'; END LOOP;
         END $$;",
    );
    db.admin()
        .batch_execute(&format!(
            "{drops} UPDATE crm.schema_version SET version = 4; COMMENT ON SCHEMA crm IS 'crm security 0000000000000000';"
        ))
        .unwrap();
    env.run(&["find", "customer", "升级"]).code(9);
    let r = env.run(&["init", "--upgrade", "--format", "json"]);
    r.ok();
    assert_eq!(r.json()["upgraded"], true);
    for q in ["升级", "shengji", "sj", "00001234"] {
        let found = env.read_json(&["find", "customer", q]);
        assert_eq!(found[0]["id"], id, "find {q}: {found}");
    }
    env.run(&["check"]).ok();
}

#[test]
fn pg_a_copy_to_a_server_is_indexed_there() {
    let Some(db) = pg_harness::fresh("pg_a_copy_to_a_server_is_indexed_there") else {
        return;
    };
    let mut src = Env::empty();
    src.db = src.path("src.db");
    src.run_stdin(&["init", "--password-stdin"], PW).ok();
    src.login("admin");
    let id = src.add(
        "customer",
        &["--name", "复制过去", "--phone", "021-5555-9876"],
    );
    let url = url_of(&db);
    src.run_stdin(&["copy", "--to", &url, "--password-stdin"], PW)
        .ok();
    let mut dst = Env::empty();
    dst.db = url.into();
    dst.login("admin");
    for q in ["复制", "fuzhi", "fz", "55559876"] {
        let found = dst.read_json(&["find", "customer", q]);
        assert_eq!(found[0]["id"], id, "find {q}: {found}");
    }
    dst.run(&["check"]).ok();
}

#[test]
fn pg_index_rows_follow_their_records_row_security() {
    let Some(db) = setup("pg_index_rows_follow_their_records_row_security") else {
        return;
    };
    let mut bob = login(&db, "bob");
    let theirs = add_customer(&mut bob, "C-BOB", "bob");
    let mut sales = login(&db, "sales");
    let mine = add_customer(&mut sales, "C-MINE", "sales");
    // crm writes the index rows; here the superuser stands in for it.
    db.admin()
        .batch_execute(
            "INSERT INTO crm.customer_search SELECT id, array_to_tsvector('{c}') FROM crm.customer",
        )
        .unwrap();
    let customer = Entity::get("customer").unwrap();
    for r in ROLES {
        let role = Role::parse(r).unwrap();
        let mut c = login(&db, r);
        let records: i64 = c
            .query_one("SELECT count(*) FROM crm.customer", &[])
            .map_or(0, |r| r.get(0));
        let rows: i64 = c
            .query_one("SELECT count(*) FROM crm.customer_search", &[])
            .map_or(0, |r| r.get(0));
        assert_eq!(
            rows, records,
            "{r} reads index rows of records it cannot read"
        );
        // Writing another owner's index row: only where the role may change their records.
        let may = allowed(role, Action::Update, Some(customer), Some(false));
        let deleted = c.execute("DELETE FROM crm.customer_search WHERE id = $1", &[&theirs]);
        assert_eq!(
            deleted.as_ref().is_ok_and(|n| *n == 1),
            may,
            "{r} deleting another's index row: {deleted:?}"
        );
        if may {
            c.execute(
                "INSERT INTO crm.customer_search VALUES ($1, array_to_tsvector('{c}'))",
                &[&theirs],
            )
            .unwrap();
        } else {
            assert!(
                c.execute(
                    "INSERT INTO crm.customer_search VALUES ($1, array_to_tsvector('{c}'))",
                    &[&theirs],
                )
                .is_err(),
                "{r} wrote another's index row"
            );
        }
    }
    // A deleted record's index row goes with it, whoever deletes it.
    if allowed(Role::Sales, Action::Delete, Some(customer), Some(true)) {
        sales
            .execute("DELETE FROM crm.customer WHERE id = $1", &[&mine])
            .unwrap();
        let left: i64 = db
            .admin()
            .query_one(
                "SELECT count(*) FROM crm.customer_search WHERE id = $1",
                &[&mine],
            )
            .unwrap()
            .get(0);
        assert_eq!(left, 0);
    }
}
