//! What imports, reverts and report saves leave in the audit log and the batch tables is the
//! same on both engines (`CRM_TEST_ENGINE`); the `pg_` tests here check, on a `PostgreSQL`
//! database of their own, that the settings which shape that audit never hide a change.

use std::fs::write;

use serde_json::Value as J;

use crate::harness::Env;
use crate::pg_harness::{add_customer, login, setup};

fn import(env: &Env, token: Option<&str>, entity: &str, csv: &str, extra: &[&str]) -> i64 {
    let f = env.path(&format!("{entity}-{}.csv", csv.len()));
    write(&f, csv).expect("write the file");
    let mut args = vec![
        "import",
        entity,
        f.to_str().expect("path"),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let r = match token {
        Some(t) => env.run_as(t, &args),
        None => env.run(&args),
    };
    r.ok().json()["batch"].as_i64().expect("batch")
}

fn trail(env: &Env, entity: &str, id: i64) -> Vec<J> {
    let id = id.to_string();
    env.run(&["audit", "--entity", entity, "--id", &id, "--format", "json"])
        .ok()
        .json()
        .as_array()
        .expect("array")
        .clone()
}

#[test]
fn an_activity_import_records_its_rows_once_and_audits_the_customer_it_changes() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "乙", "--code", "C1"]);
    let b1 = import(
        &env,
        None,
        "activity",
        "customer,subject,type,done_at\nC1,电话,call,2026-03-01T10:00:00+08:00\n",
        &[],
    );
    let a = env.id_where("activity", &["subject=电话"]);
    // The customer's last contact, derived from the activity, is audited with its cause.
    let derived = trail(&env, "customer", c)
        .into_iter()
        .filter(|r| r["field"] == "last_contacted_at")
        .collect::<Vec<_>>();
    assert_eq!(derived.len(), 1, "{derived:?}");
    assert_eq!(
        derived[0]["detail"].as_str(),
        Some(format!("derived: follows activity {a}").as_str())
    );
    // An update by a second batch: one change on the activity's trail, never two.
    let csv = format!("id,subject\n{a},回访\n");
    let b2 = import(
        &env,
        None,
        "activity",
        &csv,
        &["--mode", "update", "--key", "id"],
    );
    let rows = trail(&env, "activity", a);
    let of_b2: Vec<&J> = rows.iter().filter(|r| r["batch"] == b2).collect();
    assert_eq!(of_b2.len(), 1, "{rows:?}");
    assert_eq!(
        (of_b2[0]["field"].as_str(), of_b2[0]["new"].as_str()),
        (Some("subject"), Some("回访"))
    );
    let history = env.read_json(&["import", "history"]);
    let counts: Vec<(i64, i64)> = history
        .as_array()
        .expect("batches")
        .iter()
        .map(|b| {
            (
                b["inserted"].as_i64().unwrap(),
                b["updated"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [(0, 1), (1, 0)]);
    // Both reverts: the activity goes (one delete row holding its values), the customer's
    // last contact with it.
    env.run(&["import", "revert", &b2.to_string()]).ok();
    env.run(&["import", "revert", &b1.to_string()]).ok();
    assert!(env.record("customer", c)["last_contacted_at"].is_null());
    let rows = trail(&env, "activity", a);
    let deletes: Vec<&J> = rows.iter().filter(|r| r["action"] == "delete").collect();
    assert_eq!(deletes.len(), 1, "{rows:?}");
    let old: J = serde_json::from_str(deletes[0]["old"].as_str().expect("old")).expect("json");
    assert_eq!(old["subject"].as_str(), Some("电话"));
    env.run(&["audit", "--verify"]).ok();
}

#[test]
fn a_managers_revert_is_refused_when_a_record_changed_since() {
    let env = Env::new();
    env.add_user("max", "manager");
    let max = env.token("max");
    let b = import(
        &env,
        Some(&max),
        "customer",
        "code,name\nC1,甲\nC2,乙\n",
        &["--key", "code"],
    );
    env.run(&["edit", "customer", "C1", "--name", "甲乙"]).ok();
    let r = env.run_as(&max, &["import", "revert", &b.to_string()]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("changed since"), "{}", r.stderr);
    assert_eq!(env.count_where("customer", &["name=甲乙"]), 1);
}

#[test]
fn a_revert_of_order_lines_by_a_manager_gives_the_order_its_plain_amount_back() {
    let env = Env::new();
    env.add_user("max", "manager");
    let max = env.token("max");
    env.add("customer", &["--name", "丙", "--code", "C1"]);
    env.add(
        "product",
        &["--name", "笔", "--code", "P1", "--unit-price", "5.00"],
    );
    env.add(
        "order",
        &["--customer", "C1", "--number", "SO2", "--amount", "100.00"],
    );
    let amount = || env.find("order", &["number=SO2"])[0]["amount"].clone();
    let b = import(
        &env,
        Some(&max),
        "order_line",
        "order,product,quantity\nSO2,P1,3\n",
        &[],
    );
    assert_eq!(amount(), "15.00");
    env.run_as(&max, &["import", "revert", &b.to_string()]).ok();
    assert_eq!(amount(), "100.00");
}

#[test]
fn pg_a_crm_database_stamps_the_audit_with_the_servers_clock() {
    let Some(db) = setup("pg_a_crm_database_stamps_the_audit_with_the_servers_clock") else {
        return;
    };
    // A test build's setting means nothing to a crm database's own crm.now().
    let mut admin = login(&db, "admin");
    admin.batch_execute("SET crm.test_now = '1'").unwrap();
    let id = add_customer(&mut admin, "C-1", "admin");
    let at: i64 = admin
        .query_one(
            "SELECT min(at) FROM crm.audit WHERE entity = 'customer' AND record_id = $1",
            &[&id],
        )
        .unwrap()
        .get(0);
    assert!(at > 1_700_000_000, "forged audit time {at}");
}

#[test]
fn pg_a_report_save_never_hides_a_change_from_the_audit() {
    let Some(db) = setup("pg_a_report_save_never_hides_a_change_from_the_audit") else {
        return;
    };
    let mut c = login(&db, "admin");
    let id = add_customer(&mut c, "C-1", "admin");
    let count =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[&id]).unwrap().get(0) };
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("SELECT set_config('crm.report_save', 'by hand', true)")
        .unwrap();
    // Anything but the segment is audited field by field as always …
    tx.execute(
        "UPDATE crm.customer SET name = 'x', segment = 'y' WHERE id = $1",
        &[&id],
    )
    .unwrap();
    // … and the segment alone goes into the run's one entry, which the database writes.
    tx.execute(
        "UPDATE crm.customer SET segment = 'z' WHERE id = $1",
        &[&id],
    )
    .unwrap();
    tx.commit().unwrap();
    let fields = "SELECT count(*) FROM crm.audit WHERE entity = 'customer' AND record_id = $1 AND action = 'update'";
    assert_eq!(
        count(&mut c, fields),
        2,
        "name and segment of the first update"
    );
    let runs: Vec<String> = c
        .query(
            "SELECT detail FROM crm.audit WHERE action = 'segment' ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        runs,
        [
            "by hand; 0 customers changed",
            "by hand; 1 customers changed"
        ]
    );
}

#[test]
fn pg_a_whole_record_delete_keeps_every_value() {
    let Some(db) = setup("pg_a_whole_record_delete_keeps_every_value") else {
        return;
    };
    let mut c = login(&db, "admin");
    let id = add_customer(&mut c, "C-1", "admin");
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("SELECT set_config('crm.audit_whole', 'on', true)")
        .unwrap();
    tx.execute("DELETE FROM crm.customer WHERE id = $1", &[&id])
        .unwrap();
    tx.commit().unwrap();
    let rows: Vec<(Option<String>, Option<String>)> = c
        .query(
            "SELECT field, old FROM crm.audit WHERE action = 'delete' AND record_id = $1",
            &[&id],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [(
            None,
            Some(r#"{"code":"C-1","name":"C-1","owner":"admin"}"#.to_string())
        )]
    );
}
