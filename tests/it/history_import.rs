//! Historical imports (`crm import … --keep-times`, admin and manager): `created_at` on
//! insert and the history fields a rule would set (`closed_at`, `resolved_at`, a stage's
//! entry time, `last_contacted_at`) come from the file, validated, the batch marked; reports
//! over the imported history come out right.

use crate::harness::{Env, write};

/// Imports `csv` into `entity` as `args` say and returns the JSON summary.
fn import(env: &Env, entity: &str, csv: &str, args: &[&str]) -> (i32, serde_json::Value) {
    let f = env.path(&format!("{entity}.csv"));
    write(&f, csv);
    let mut a = vec![
        "import",
        entity,
        f.to_str().expect("path"),
        "--format",
        "json",
    ];
    a.extend_from_slice(args);
    let r = env.run(&a);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_default())
}

const DEALS: &str = "customer,name,stage,amount,created_at,closed_at\n\
    C000001,deal A,won,1000,2026-01-05,2026-02-10 10:00\n\
    C000001,deal B,won,2000,2026-03-01,2026-04-15 09:00\n\
    C000001,deal C,negotiation,500,2026-05-01,\n";

#[test]
fn imported_history_keeps_its_times_and_reports_show_its_months() {
    let env = Env::new();
    env.add("customer", &["--name", "Acme"]);
    // Without --keep-times the columns are crm's own: refused before anything is read.
    let (code, _) = import(&env, "opportunity", DEALS, &[]);
    assert_eq!(code, 2);
    let (code, s) = import(&env, "opportunity", DEALS, &["--keep-times"]);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["inserted"], 3);
    let a = env.record("opportunity", 1);
    assert!(
        a["created_at"]
            .as_str()
            .expect("created_at")
            .starts_with("2026-01-05T"),
        "{a}"
    );
    assert!(
        a["closed_at"]
            .as_str()
            .expect("closed_at")
            .starts_with("2026-02-10T10:00:00"),
        "{a}"
    );
    let c = env.record("opportunity", 3);
    assert!(
        c["created_at"]
            .as_str()
            .expect("created_at")
            .starts_with("2026-05-01T"),
        "{c}"
    );
    assert!(c["closed_at"].is_null(), "{c}");
    // The stage was entered when the deal closed (open: when it was created).
    for (id, when) in [(1, "2026-02-10T10:00:00"), (3, "2026-05-01T")] {
        let shown = env.read_json(&["show", "opportunity", &id.to_string()]);
        let entered = shown["stages"][0]["entered_at"]
            .as_str()
            .expect("entered_at");
        assert!(entered.starts_with(when), "{shown}");
    }
    // Sales by month puts each won deal in the month it was won, not the import's.
    let r = env.read_json(&[
        "report",
        "sales",
        "--by",
        "month",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
    ]);
    let won: Vec<(String, String)> = r["by_group"]
        .as_array()
        .expect("by_group")
        .iter()
        .filter(|g| g["won_count"].as_i64() > Some(0))
        .map(|g| {
            (
                g["period"].as_str().expect("period").to_string(),
                g["won_amount"].as_str().expect("amount").to_string(),
            )
        })
        .collect();
    assert_eq!(
        won,
        [
            ("2026-02".to_string(), "1000.00".to_string()),
            ("2026-04".to_string(), "2000.00".to_string())
        ],
        "{r}"
    );
    // The batch records that it kept the file's times.
    let batches = env.read_json(&["import", "history"]);
    assert_eq!(batches[0]["keep_times"], true, "{batches}");
}

#[test]
fn times_in_the_future_or_before_creation_are_row_errors() {
    let env = Env::new();
    env.add("customer", &["--name", "Acme"]);
    let csv = "customer,name,stage,amount,created_at,closed_at\n\
        C000001,future,prospecting,1,2099-01-01,\n\
        C000001,closed early,won,1,2026-03-01,2026-02-01\n\
        C000001,closes later,won,1,2026-03-01,2099-02-01\n\
        C000001,fine,won,1,2026-03-01,2026-03-02\n";
    let (code, s) = import(
        &env,
        "opportunity",
        csv,
        &["--keep-times", "--on-error", "skip"],
    );
    assert_eq!(code, 4, "{s}");
    assert_eq!(s["inserted"], 1, "{s}");
    // Each error names its column and why.
    let errors: Vec<String> = s["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e["column"].as_str().unwrap_or("?"),
                e["message"].as_str().expect("message")
            )
        })
        .collect();
    assert_eq!(errors.len(), 3, "{s}");
    assert!(
        errors[0].contains("created_at") && errors[0].contains("in the future"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("closed_at") && errors[1].contains("before created_at"),
        "{errors:?}"
    );
    assert!(
        errors[2].contains("closed_at") && errors[2].contains("in the future"),
        "{errors:?}"
    );
}

#[test]
fn tickets_and_customers_keep_their_history_and_only_admin_and_manager_may() {
    let env = Env::new();
    env.add_user("boss", "manager");
    let boss = env.token("boss");
    let f = env.path("customers.csv");
    write(
        &f,
        "name,created_at,last_contacted_at\nOld Co,2020-05-01 08:00,2021-06-01 09:30\n",
    );
    env.run_as(
        &boss,
        &[
            "import",
            "customer",
            f.to_str().expect("path"),
            "--keep-times",
        ],
    )
    .ok();
    let c = env.record("customer", 1);
    assert!(
        c["created_at"]
            .as_str()
            .expect("created")
            .starts_with("2020-05-01T08:00"),
        "{c}"
    );
    assert!(
        c["last_contacted_at"]
            .as_str()
            .expect("contacted")
            .starts_with("2021-06-01T09:30"),
        "{c}"
    );
    let (code, s) = import(
        &env,
        "ticket",
        "customer,subject,status,created_at,opened_at,resolved_at\n\
         C000001,broken,resolved,2021-01-04 09:00,2021-01-04 09:00,2021-01-06 17:00\n",
        &["--keep-times"],
    );
    assert_eq!(code, 0, "{s}");
    let t = env.record("ticket", 1);
    assert!(
        t["resolved_at"]
            .as_str()
            .expect("resolved")
            .starts_with("2021-01-06T17:00"),
        "{t}"
    );
    // Sales and service import nothing, with or without history.
    env.add_user("li", "sales");
    let li = env.token("li");
    env.run_as(
        &li,
        &[
            "import",
            "customer",
            f.to_str().expect("path"),
            "--keep-times",
        ],
    )
    .code(7);
    assert_eq!(env.count("customer"), 1);
}
