//! Issue 8, items 13 and 14: imports, upserts and reverts leave a trail on each record
//! (`crm audit --entity E --id N`), and tampering with the audit log that the hash chain alone
//! misses is caught by `crm check` (triggers, a truncated log) or by an anchor kept elsewhere.

use serde_json::Value as J;

use crate::harness::{Env, skip_unless_sqlite, write};

/// The audit rows of one record, as JSON.
fn trail(env: &Env, entity: &str, id: i64, extra: &[&str]) -> Vec<J> {
    let id = id.to_string();
    let mut args = vec!["audit", "--entity", entity, "--id", &id, "--format", "json"];
    args.extend_from_slice(extra);
    env.run(&args)
        .ok()
        .json()
        .as_array()
        .expect("array")
        .clone()
}

fn import(env: &Env, token: Option<&str>, name: &str, csv: &str, mode: &str) -> i64 {
    let f = env.path(name);
    write(&f, csv);
    let args = [
        "import",
        "customer",
        f.to_str().expect("path"),
        "--mode",
        mode,
        "--key",
        "code",
        "--format",
        "json",
    ];
    let r = match token {
        Some(t) => env.run_as(t, &args),
        None => env.run(&args),
    };
    r.ok().json()["batch"].as_i64().expect("batch")
}

fn customer(env: &Env, code: &str) -> i64 {
    env.id_where("customer", &[&format!("code={code}")])
}

/// (action, field, old, new, batch) of each row.
fn changes(rows: &[J]) -> Vec<(String, String, String, String, i64)> {
    let s = |v: &J| v.as_str().unwrap_or("").to_string();
    rows.iter()
        .map(|r| {
            (
                s(&r["action"]),
                s(&r["field"]),
                s(&r["old"]),
                s(&r["new"]),
                r["batch"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_record_an_import_created_or_renamed_shows_the_batch_who_when_and_values() {
    let env = Env::new();
    env.add_user("mia", "manager");
    let mia = env.token("mia");
    let b1 = import(
        &env,
        None,
        "a.csv",
        "code,name,city\nA1,Acme,北京\nA2,Beta,上海\n",
        "insert",
    );
    let a1 = customer(&env, "A1");
    let rows = trail(&env, "customer", a1, &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    // the keys every audit row has, plus the batch
    let keys: Vec<&str> = r
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "id",
        "at",
        "user",
        "action",
        "entity",
        "record_id",
        "field",
        "old",
        "new",
        "detail",
        "batch",
    ] {
        assert!(keys.contains(&k), "key {k} in {r}");
    }
    assert_eq!(
        (r["action"].as_str(), r["user"].as_str()),
        (Some("create"), Some("admin"))
    );
    assert_eq!(
        (r["batch"].as_i64(), r["record_id"].as_i64()),
        (Some(b1), Some(a1))
    );
    assert!(
        r["detail"].as_str().expect("detail").contains("a.csv"),
        "{r}"
    );
    assert!(r["at"].as_str().is_some_and(|t| t.starts_with("20")), "{r}");

    // an upsert by another user renames it and changes its city
    let b2 = import(
        &env,
        Some(&mia),
        "b.csv",
        "code,name,city\nA1,Acme Ltd,深圳\nA3,Gamma,广州\n",
        "upsert",
    );
    let rows = trail(&env, "customer", a1, &[]);
    assert_eq!(
        changes(&rows)[1..],
        [
            (
                "update".into(),
                "name".into(),
                "Acme".into(),
                "Acme Ltd".into(),
                b2
            ),
            (
                "update".into(),
                "city".into(),
                "北京".into(),
                "深圳".into(),
                b2
            ),
        ]
    );
    assert!(rows[1..].iter().all(|r| r["user"] == "mia"), "{rows:?}");
    assert!(
        rows[1]["detail"]
            .as_str()
            .expect("detail")
            .contains("b.csv")
    );
    // the table shows them too
    let t = env
        .run(&["audit", "--entity", "customer", "--id", &a1.to_string()])
        .ok()
        .stdout
        .clone();
    assert!(
        t.contains("Acme Ltd") && t.contains("b.csv") && t.contains("a.csv"),
        "{t}"
    );
    // --user and --since select among them as among stored rows
    assert_eq!(
        changes(&trail(&env, "customer", a1, &["--user", "mia"])).len(),
        2
    );
    let admin_only = trail(&env, "customer", a1, &["--user", "admin"]);
    assert_eq!(
        changes(&admin_only),
        [(
            "create".into(),
            String::new(),
            String::new(),
            String::new(),
            b1
        )]
    );
    assert!(trail(&env, "customer", a1, &["--since", "2999-01-01"]).is_empty());
    assert_eq!(
        trail(&env, "customer", a1, &["--since", "2000-01-01"]).len(),
        3
    );
    assert_eq!(
        changes(&trail(&env, "customer", a1, &["--limit", "1"]))[0].1,
        "city"
    );
    // without --entity the id's trail covers every entity's records with that id
    let all = env
        .run(&["audit", "--id", &a1.to_string(), "--format", "json"])
        .ok()
        .json();
    assert!(all.as_array().expect("array").len() >= 3, "{all}");
    // a hand edit after the import sits after it, in log order
    env.run(&["edit", "customer", &a1.to_string(), "--city", "杭州"])
        .ok();
    let rows = trail(&env, "customer", a1, &[]);
    assert_eq!(
        changes(&rows)[3],
        (
            "update".into(),
            "city".into(),
            "深圳".into(),
            "杭州".into(),
            0
        )
    );
    assert!(rows[3]["batch"].is_null());
}

#[test]
fn a_revert_leaves_the_restored_and_deleted_values_on_each_record() {
    let env = Env::new();
    import(
        &env,
        None,
        "a.csv",
        "code,name,city\nA1,Acme,北京\n",
        "insert",
    );
    let b2 = import(
        &env,
        None,
        "b.csv",
        "code,name,city\nA1,Acme Ltd,北京\nA2,Beta,上海\n",
        "upsert",
    );
    let (a1, a2) = (customer(&env, "A1"), customer(&env, "A2"));
    env.run(&["import", "revert", &b2.to_string()]).ok();
    let rows = trail(&env, "customer", a1, &[]);
    let last = changes(&rows).pop().expect("rows");
    assert_eq!(
        last,
        (
            "update".into(),
            "name".into(),
            "Acme Ltd".into(),
            "Acme".into(),
            b2
        )
    );
    assert!(
        rows.last().expect("row")["detail"]
            .as_str()
            .expect("detail")
            .starts_with("revert of import batch")
    );
    // the deleted record keeps its values in the log
    let rows = trail(&env, "customer", a2, &[]);
    assert_eq!(
        changes(&rows)
            .iter()
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>(),
        ["create", "delete"]
    );
    let old: J = serde_json::from_str(rows[1]["old"].as_str().expect("old")).expect("json");
    assert_eq!(
        (old["name"].as_str(), old["city"].as_str()),
        (Some("Beta"), Some("上海"))
    );
    assert_eq!(rows[1]["batch"].as_i64(), Some(b2));
    // one summary row for the revert, as before; the chain holds
    assert_eq!(env.audits(&[("action", "revert")]), 1);
    env.run(&["audit", "--verify"]).ok();
}

#[test]
fn an_update_recorded_before_new_values_were_kept_derives_them() {
    if skip_unless_sqlite("rewrites import_change in the SQLite file to fake an old batch") {
        return;
    }
    let env = Env::new();
    import(
        &env,
        None,
        "a.csv",
        "code,name,city\nA1,Acme,北京\nA2,Beta,上海\n",
        "insert",
    );
    let b2 = import(
        &env,
        None,
        "b.csv",
        "code,name,city\nA1,Acme Ltd,北京\nA2,Beta Co,上海\n",
        "upsert",
    );
    let (a1, a2) = (customer(&env, "A1"), customer(&env, "A2"));
    env.run(&["edit", "customer", &a1.to_string(), "--name", "Acme Group"])
        .ok();
    // as a batch from before schema v7 left it: old values only
    env.sql()
        .execute("UPDATE import_change SET after = NULL", [])
        .expect("sql");
    // A1: the name's next change (the edit) says what the batch left
    let c = changes(&trail(&env, "customer", a1, &[]));
    assert_eq!(
        c[1],
        (
            "update".into(),
            "name".into(),
            "Acme".into(),
            "Acme Ltd".into(),
            b2
        )
    );
    assert_eq!(c[2].3, "Acme Group");
    // A2: nothing changed it since, so its value now is what the batch left
    let rows = trail(&env, "customer", a2, &[]);
    assert_eq!(
        changes(&rows)[1],
        (
            "update".into(),
            "name".into(),
            "Beta".into(),
            "Beta Co".into(),
            b2
        )
    );
    assert!(
        rows[1]["detail"]
            .as_str()
            .expect("detail")
            .contains("derived"),
        "{rows:?}"
    );
}

/// Runs SQL behind crm's back, as a person with write access to the file can.
fn tamper(env: &Env, sql: &str) {
    env.sql().execute_batch(sql).expect("tamper");
}

const RESTORE_TRIGGERS: &str = "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END; CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";

#[test]
fn check_and_verify_fail_when_the_append_only_triggers_are_gone() {
    if skip_unless_sqlite("drops the SQLite audit triggers (PostgreSQL: pg_audit)") {
        return;
    }
    let env = Env::new();
    env.add("customer", &["--name", "Acme"]);
    env.run(&["check"]).ok();
    tamper(&env, "DROP TRIGGER audit_no_delete;");
    let r = env.run(&["check"]);
    r.code(9).one_error_line();
    assert!(
        r.stderr.contains("audit_triggers") && r.stderr.contains("audit_no_delete"),
        "{}",
        r.stderr
    );
    let j = env.run(&["check", "--format", "json"]).code(9).json();
    let row = j
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["check"] == "audit_triggers")
        .cloned();
    assert_eq!(row.map(|r| r["ok"].clone()), Some(J::Bool(false)));
    let r = env.run(&["audit", "--verify"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("audit_no_delete"), "{}", r.stderr);
    // crm's own trigger back, exactly: healthy again
    tamper(
        &env,
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    );
    env.run(&["check"]).ok();
    env.run(&["audit", "--verify"]).ok();
}

#[test]
fn head_prints_the_newest_entry_and_an_anchor_catches_truncation() {
    if skip_unless_sqlite("deletes audit rows in the SQLite file") {
        return;
    }
    let env = Env::new();
    env.add("customer", &["--name", "Acme"]);
    let head = env.run(&["audit", "--head"]).ok().stdout.trim().to_string();
    let (id, hash) = head.split_once(':').expect("ID:HASH");
    let max = env.audit_max_id();
    assert_eq!(id, max.to_string());
    assert_eq!(hash.len(), 64);
    let j = env
        .run(&["audit", "--head", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        (j["id"].as_i64(), j["hash"].as_str()),
        (Some(max), Some(hash))
    );
    env.run(&["audit", "--verify", "--anchor", &head]).ok();
    // more entries later: the anchor still holds
    env.add("customer", &["--name", "Beta"]);
    env.run(&["audit", "--verify", "--anchor", &head]).ok();
    // the last rows deleted (triggers put back): the chain alone cannot tell, the anchor can
    tamper(
        &env,
        &format!(
            "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_no_update; DELETE FROM audit WHERE id >= {max}; {RESTORE_TRIGGERS}"
        ),
    );
    env.run(&["audit", "--verify"]).ok();
    let r = env.run(&["audit", "--verify", "--anchor", &head]);
    r.code(9).one_error_line();
    assert!(
        r.stderr.contains(&format!("row {max}")) && r.stderr.contains("gone"),
        "{}",
        r.stderr
    );
    // new rows reuse the ids: the anchored one now has another hash
    env.add("customer", &["--name", "Gamma"]);
    let r = env.run(&["audit", "--verify", "--anchor", &head]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("anchor's hash"), "{}", r.stderr);
    // malformed anchors are usage errors; --anchor needs --verify
    env.run(&["audit", "--verify", "--anchor", "12"])
        .code(2)
        .one_error_line();
    env.run(&["audit", "--anchor", &head]).code(2);
}

#[test]
fn check_fails_on_a_log_emptied_or_cut_below_an_import() {
    if skip_unless_sqlite("deletes audit rows in the SQLite file") {
        return;
    }
    let env = Env::new();
    import(&env, None, "a.csv", "code,name\nA1,Acme\n", "insert");
    env.run(&["check"]).ok();
    // the import's own row (the newest) removed: the batch still names it
    let last = env.audit_max_id();
    tamper(
        &env,
        &format!(
            "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_no_update; DELETE FROM audit WHERE id = {last}; {RESTORE_TRIGGERS}"
        ),
    );
    let r = env.run(&["check"]);
    r.code(9).one_error_line();
    assert!(
        r.stderr.contains("audit_chain") && r.stderr.contains("import batch 1"),
        "{}",
        r.stderr
    );
    env.run(&["audit", "--verify"]).code(9).one_error_line();
    // every row removed
    let env = Env::new();
    tamper(
        &env,
        &format!(
            "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_no_update; DELETE FROM audit; {RESTORE_TRIGGERS}"
        ),
    );
    let r = env.run(&["check"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("empty"), "{}", r.stderr);
    env.run(&["audit", "--head"]).code(9).one_error_line();
    // ... and a fresh chain started in its place does not start with crm init's row
    env.add("customer", &["--name", "x"]);
    let r = env.run(&["audit", "--verify"]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("init"), "{}", r.stderr);
}

/// The chain's hash of a row, computed as crm documents it: SHA-256 over the previous hash and
/// each column, each preceded by its length (8 bytes, little-endian).
fn row_hash(prev: &str, parts: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in std::iter::once(prev).chain(parts.iter().map(String::as_str)) {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    crm::db::audit::hex(&h.finalize())
}

#[test]
fn a_rewritten_and_rechained_log_passes_the_chain_but_not_an_anchor() {
    if skip_unless_sqlite("rewrites and re-chains the audit table in the SQLite file") {
        return;
    }
    let env = Env::new();
    let id = env.add("customer", &["--name", "Acme"]);
    env.run(&["edit", "customer", &id.to_string(), "--name", "Acme 2"])
        .ok();
    let head = env.run(&["audit", "--head"]).ok().stdout.trim().to_string();
    // forge the rename's old value and recompute every hash from there on
    let conn = env.sql();
    conn.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET old = 'Forged' WHERE action = 'update' AND field = 'name';")
        .expect("forge");
    let rows: Vec<(i64, Vec<String>)> = conn
        .prepare("SELECT id, at, user, action, entity, record_id, field, old, new, detail FROM audit ORDER BY id")
        .expect("prepare")
        .query_map([], |r| {
            let mut parts = Vec::new();
            for i in 1..10 {
                let v: rusqlite::types::Value = r.get(i)?;
                parts.push(match v {
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    _ => String::new(),
                });
            }
            Ok((r.get(0)?, parts))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut prev = String::new();
    for (id, parts) in rows {
        prev = row_hash(&prev, &parts);
        conn.execute(
            "UPDATE audit SET hash = ? WHERE id = ?",
            rusqlite::params![prev, id],
        )
        .expect("rechain");
    }
    conn.execute_batch("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;")
        .expect("trigger");
    drop(conn);
    // what the file alone can show: nothing (README says so)
    env.run(&["check"]).ok();
    env.run(&["audit", "--verify"]).ok();
    // the anchor kept elsewhere catches it
    let r = env.run(&["audit", "--verify", "--anchor", &head]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("rewritten"), "{}", r.stderr);
}

#[test]
fn the_import_history_behind_the_trail_is_covered_by_the_chain() {
    if skip_unless_sqlite("rewrites the import tables in the SQLite file") {
        return;
    }
    let env = Env::new();
    import(&env, None, "a.csv", "code,name\nA1,Acme\n", "insert");
    import(&env, None, "b.csv", "code,name\nA1,Acme Ltd\n", "upsert");
    env.run(&["check"]).ok();
    // the trail's new value rewritten in the batch tables (no trigger guards them)
    tamper(
        &env,
        "UPDATE import_change SET after = '{\"name\":\"Forged\"}'",
    );
    let r = env.run(&["check"]);
    r.code(9).one_error_line();
    assert!(
        r.stderr.contains("import batch 2") && r.stderr.contains("altered"),
        "{}",
        r.stderr
    );
    env.run(&["audit", "--verify"]).code(9).one_error_line();
    // who ran a batch is covered too
    let env = Env::new();
    import(&env, None, "a.csv", "code,name\nA1,Acme\n", "insert");
    tamper(&env, "UPDATE import_batch SET user = 'nobody'");
    env.run(&["check"]).code(9).one_error_line();
}
