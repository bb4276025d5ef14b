//! Issue 8, for scripts and CI harnesses: import row errors in the JSON summary, a JSON
//! result from every command that has no record to print, currencies as ISO 4217 codes, and
//! one definition of a neglected customer for `agenda` and `report activities`.

use crate::harness::{Env, PW, skip_unless_sqlite, write};

#[test]
fn import_json_summary_lists_row_errors_and_no_plain_lines() {
    let env = Env::new();
    let csv = env.path("c.csv");
    write(&csv, "name,level,email\nA,A,a@x.com\n,B,\nC,Z,c@x.com\n");
    let r = env.run(&[
        "import",
        "customer",
        csv.to_str().unwrap(),
        "--format",
        "json",
    ]);
    r.code(4).one_error_line();
    let j = r.json();
    for k in [
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "ignored_columns",
    ] {
        assert!(j.get(k).is_some(), "key {k} kept: {j}");
    }
    assert_eq!(j["rejected"], 2);
    assert_eq!(j["errors_truncated"], 0);
    let errors = j["errors"].as_array().expect("errors array");
    assert_eq!(errors.len(), 2, "{j}");
    assert_eq!(errors[0]["line"], 3);
    assert!(
        errors[0]["message"].as_str().unwrap().contains("required"),
        "{j}"
    );
    assert_eq!(errors[1]["line"], 4);
    assert_eq!(errors[1]["column"], "level");
    assert_eq!(errors[1]["field"], "level");
    assert!(
        errors[1]["message"].as_str().unwrap().contains("'Z'"),
        "{j}"
    );
    // One machine-readable stream: the plain `  line N:` lines are not printed as well.
    assert!(!r.stderr.contains("line 3"), "{}", r.stderr);
    assert!(!r.stderr.contains("line 4"), "{}", r.stderr);
    // Without JSON the person still gets them.
    let plain = env.run(&["import", "customer", csv.to_str().unwrap()]);
    plain.code(4);
    assert!(plain.stderr.contains("  line 4:"), "{}", plain.stderr);

    // JSON input: the record index as well.
    let js = env.path("c.json");
    write(&js, r#"[{"name":"ok"},{"name":"bad","level":"Q"}]"#);
    let j = env
        .run(&[
            "import",
            "customer",
            js.to_str().unwrap(),
            "--format",
            "json",
        ])
        .code(4)
        .json();
    assert_eq!(j["errors"][0]["index"], 1, "{j}");
    assert_eq!(j["errors"][0]["field"], "level", "{j}");
    assert!(j["errors"][0]["line"].is_u64(), "{j}");
}

#[test]
fn import_json_errors_are_capped() {
    let env = Env::new();
    let mut s = String::from("name,level\n");
    for i in 0..1005 {
        s.push_str(&format!("n{i},Z\n"));
    }
    let csv = env.path("many.csv");
    write(&csv, s);
    let j = env
        .run(&[
            "import",
            "customer",
            csv.to_str().unwrap(),
            "--format",
            "json",
        ])
        .code(4)
        .json();
    assert_eq!(j["rejected"], 1005);
    assert_eq!(j["errors"].as_array().expect("errors").len(), 1000);
    assert_eq!(j["errors_truncated"], 5);
}

#[test]
fn commands_without_a_record_print_a_json_result() {
    let env = Env::new();
    // audit --verify: success is an object, not silence.
    let head = env.run(&["audit", "--head"]).ok().stdout.trim().to_string();
    let r = env.run(&["audit", "--verify", "--format", "json"]);
    let j = r.ok().json();
    assert_eq!(j["ok"], true);
    assert!(j["rows"].as_i64().unwrap() >= 1, "{j}");
    assert_eq!(j["head"], head.as_str());
    let anchored = env
        .run(&["audit", "--verify", "--anchor", &head, "--format", "json"])
        .ok()
        .json();
    assert_eq!(anchored["ok"], true);

    let j = env
        .run_stdin(
            &[
                "user",
                "add",
                "bob",
                "--role",
                "sales",
                "--password-stdin",
                "--format",
                "json",
            ],
            PW,
        )
        .ok()
        .json();
    assert_eq!(
        (j["user"].as_str(), j["role"].as_str()),
        (Some("bob"), Some("sales"))
    );
    let j = env
        .run(&[
            "user", "edit", "bob", "--role", "manager", "--format", "json",
        ])
        .ok()
        .json();
    assert_eq!(j["user"], "bob");
    assert_eq!(j["changed"], serde_json::json!(["role"]));
    let j = env
        .run_stdin(
            &[
                "user",
                "passwd",
                "bob",
                "--password-stdin",
                "--format",
                "json",
            ],
            "another long password\n",
        )
        .ok()
        .json();
    assert_eq!(j["password_changed"], true);

    let id = env.add("customer", &["--name", "甲"]);
    let j = env
        .run(&[
            "delete",
            "customer",
            &id.to_string(),
            "--yes",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(j["deleted"], serde_json::json!([id]));
    assert_eq!(j["entity"], "customer");

    let bk = env.path("b.db");
    let j = env
        .run(&["backup", bk.to_str().unwrap(), "--format", "json"])
        .ok()
        .json();
    assert!(j["backup"].as_str().unwrap().ends_with("b.db"), "{j}");

    // done on an activity already done: the record again, as after the first done.
    let c = env.add("customer", &["--name", "乙"]);
    let a = env.add(
        "activity",
        &[
            "--customer",
            &c.to_string(),
            "--subject",
            "call",
            "--type",
            "call",
        ],
    );
    env.run(&["done", "activity", &a.to_string()]).ok();
    let j = env
        .run(&["done", "activity", &a.to_string(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(j["id"], a);

    let j = env.run(&["logout", "--format", "json"]).ok().json();
    assert_eq!(j["logged_out"], true);
    let j = env
        .run_stdin(
            &[
                "login",
                "--user",
                "admin",
                "--password-stdin",
                "--format",
                "json",
            ],
            PW,
        )
        .ok()
        .json();
    assert_eq!(j["user"], "admin");
    // Without --format json these stay messages on stderr, stdout empty.
    let r = env.run(&["audit", "--verify"]);
    assert!(r.ok().stdout.is_empty(), "{}", r.stdout);
}

fn currency_of(env: &Env, id: i64) -> serde_json::Value {
    env.run(&["show", "opportunity", &id.to_string(), "--format", "json"])
        .ok()
        .json()["currency"]
        .clone()
}

#[test]
fn currency_is_an_iso_code_never_null() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "甲"]).to_string();
    let opp = |cur: &str| {
        env.run(&[
            "add",
            "opportunity",
            "--customer",
            &c,
            "--name",
            "o",
            "--amount",
            "10",
            "--currency",
            cur,
            "-q",
        ])
    };
    for (typed, code) in [
        ("eur", "EUR"),
        ("人民币", "CNY"),
        ("美元", "USD"),
        (" hkd ", "HKD"),
        ("", "CNY"),
    ] {
        let id: i64 = opp(typed).ok().stdout.trim().parse().expect("id");
        assert_eq!(currency_of(&env, id), code, "{typed}");
    }
    let r = opp("XYZ");
    r.code(4).one_error_line();
    assert!(r.stderr.contains("'XYZ'"), "{}", r.stderr);

    // Never cleared: --unset and a blank value are refused like a key's.
    let r = env.run(&["edit", "opportunity", "1", "--unset", "currency"]);
    r.code(4).one_error_line();
    assert!(r.stderr.contains("currency"), "{}", r.stderr);
    env.run(&["edit", "opportunity", "1", "--currency", " "])
        .code(4);
    assert_eq!(currency_of(&env, 1), "EUR");
    env.run(&["edit", "opportunity", "1", "--currency", "gbp"])
        .ok();
    assert_eq!(currency_of(&env, 1), "GBP");

    // Import: an empty cell takes the default, a bad one is a row error naming the value.
    let csv = env.path("o.csv");
    write(
        &csv,
        format!("customer,name,amount,currency\n{c},a,1,\n{c},b,1,jpy\n{c},d,1,元宝\n"),
    );
    let j = env
        .run(&[
            "import",
            "opportunity",
            csv.to_str().unwrap(),
            "--on-error",
            "skip",
            "--format",
            "json",
        ])
        .code(4)
        .json();
    assert_eq!(
        (j["inserted"].as_i64(), j["rejected"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(j["errors"][0]["field"], "currency");
    assert!(
        j["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("'元宝'"),
        "{j}"
    );
    let rows = env
        .run(&[
            "find",
            "opportunity",
            "--where",
            "name=a",
            "--columns",
            "currency",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(rows[0]["currency"], "CNY");
    let rows = env
        .run(&["find", "opportunity", "--where", "currency=jpy", "--count"])
        .ok()
        .stdout
        .clone();
    assert_eq!(rows.trim(), "1");
}

#[test]
fn reports_group_legacy_currencies_upper_cased() {
    if skip_unless_sqlite("stores legacy currency values behind crm's back") {
        return;
    }
    let env = Env::new();
    let c = env.add("customer", &["--name", "甲"]).to_string();
    for _ in 0..3 {
        env.add(
            "opportunity",
            &[
                "--customer",
                &c,
                "--name",
                "o",
                "--amount",
                "10",
                "--currency",
                "EUR",
            ],
        );
    }
    // A database written before currencies were checked: `eur`, ` EUR`, and no currency.
    env.sql()
        .execute_batch(
            "UPDATE opportunity SET currency = 'eur' WHERE id = 1; \
             UPDATE opportunity SET currency = ' Eur' WHERE id = 2;",
        )
        .expect("legacy values");
    // Funnel reads each record, sales groups in SQL: both give one EUR row with all three.
    for (report, key) in [("funnel", "open_amount"), ("sales", "forecast_amount")] {
        let j = env.run(&["report", report, "--format", "json"]).ok().json();
        let eur: Vec<&serde_json::Value> = j["amounts"]
            .as_array()
            .expect("amounts")
            .iter()
            .filter(|r| {
                r["currency"]
                    .as_str()
                    .is_some_and(|c| c.eq_ignore_ascii_case("eur"))
            })
            .collect();
        assert_eq!(eur.len(), 1, "{report}: {j}");
        assert_eq!(eur[0]["currency"], "EUR", "{report}: {j}");
        assert_eq!(eur[0][key], "30.00", "{report}: {j}");
    }
}

#[test]
fn agenda_and_report_count_the_same_neglected_customers() {
    let env = Env::new();
    let now = "2026-12-01T09:00:00+08:00";
    let demo = env.path("demo.db");
    let run = |args: &[&str]| {
        let o = env
            .cmd()
            .env("CRM_TEST_NOW", now)
            .env("CRM_DB", &demo)
            .args(args)
            .output()
            .expect("run crm");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")
    };
    let d = demo.to_str().unwrap();
    let o = env
        .cmd()
        .env("CRM_TEST_NOW", now)
        .env("CRM_DB", &demo)
        .args(["demo", "--path", d])
        .output()
        .expect("demo");
    assert_eq!(o.status.code(), Some(0));
    // The demo's customers were all added "now"; three were last followed up months ago
    // (the rest never, and are new): neglected means quiet for 30 days by the last follow-up,
    // or by the creation when there was none.
    let agenda = run(&["agenda", "--format", "json"]);
    let report = run(&["report", "activities", "--format", "json"]);
    assert_eq!(agenda["totals"]["customers"], 3, "{agenda}");
    assert_eq!(report["summary"]["neglected_customers"], 3, "{report}");
    let mut a: Vec<&str> = agenda["customers"]
        .as_array()
        .expect("customers")
        .iter()
        .filter_map(|c| c["customer"].as_str().or(c["number"].as_str()))
        .collect();
    let mut r: Vec<&str> = report["neglected"]
        .as_array()
        .expect("neglected")
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    a.sort_unstable();
    r.sort_unstable();
    assert_eq!(a, r);
    // Two days later (the demo's customers now two days old, never followed up) a customer
    // added that day with no follow-up is in neither list either.
    let later = "2026-12-03T09:00:00+08:00";
    let at_later = |args: &[&str], stdin: &str| {
        let o = env
            .cmd()
            .env("CRM_TEST_NOW", later)
            .env("CRM_DB", &demo)
            .args(args)
            .write_stdin(stdin.to_string())
            .output()
            .expect("run crm");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    at_later(
        &["login", "--user", "admin", "--password-stdin"],
        "demo-password\n",
    );
    at_later(&["add", "customer", "--name", "新客户", "-q"], "");
    let agenda: serde_json::Value =
        serde_json::from_str(&at_later(&["agenda", "--format", "json"], "")).expect("json");
    let report: serde_json::Value =
        serde_json::from_str(&at_later(&["report", "activities", "--format", "json"], ""))
            .expect("json");
    assert_eq!(agenda["totals"]["customers"], 3, "{agenda}");
    assert_eq!(report["summary"]["neglected_customers"], 3, "{report}");
    // Both helps state the one definition.
    for args in [["agenda", "--help"], ["report", "activities"]] {
        let mut a: Vec<&str> = args.to_vec();
        if args[0] == "report" {
            a.push("--help");
        }
        let h = env.run(&a).ok().stdout.clone();
        assert!(h.contains("added over 30 days ago"), "{h}");
    }
}
