//! `crm config`: every key listed with its default, values checked by kind, changes
//! audited, admin only (SPEC "Settings"). Runs on both engines.

use crate::harness::Env;

#[test]
fn config_lists_every_key_with_value_and_default_and_changes_are_audited() {
    let env = Env::new();
    let list = env.run(&["--format", "json", "config", "list"]).ok().json();
    let rows = list.as_array().expect("an array");
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    for k in [
        "phone.region",
        "pool.no_followup_days",
        "pool.no_deal_days",
        "pool.max_per_user",
        "pool.daily_claims",
        "pool.reclaim_after_days",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    let region = rows.iter().find(|r| r["key"] == "phone.region").unwrap();
    assert_eq!(region["value"], "CN");
    assert_eq!(region["default"], "CN");

    env.run(&["config", "set", "pool.no_followup_days", " 45 "])
        .ok();
    env.run(&["config", "set", "phone.region", "us"]).ok();
    assert_eq!(
        env.run(&["config", "get", "pool.no_followup_days"])
            .ok()
            .stdout,
        "45\n"
    );
    let got = env
        .run(&["--format", "json", "config", "get", "phone.region"])
        .ok()
        .json();
    assert_eq!(got["value"], "US");
    assert_eq!(got["default"], "CN");
    assert_eq!(
        env.audits(&[
            ("action", "config"),
            ("field", "pool.no_followup_days"),
            ("old", "30"),
            ("new", "45")
        ]),
        1
    );

    env.run(&["config", "unset", "pool.no_followup_days"]).ok();
    assert_eq!(
        env.run(&["config", "get", "pool.no_followup_days"])
            .ok()
            .stdout,
        "30\n"
    );
    assert_eq!(
        env.audits(&[
            ("action", "config"),
            ("field", "pool.no_followup_days"),
            ("old", "45"),
            ("new", "30")
        ]),
        1
    );
}

#[test]
fn config_refuses_unknown_keys_bad_values_and_non_admins_changing_nothing() {
    let env = Env::new();
    env.run(&["config", "set", "pool.nope", "1"])
        .code(2)
        .one_error_line();
    env.run(&["config", "get", "nope"]).code(2);
    for (key, bad) in [
        ("pool.no_followup_days", "-3"),
        ("pool.no_followup_days", "ten"),
        ("pool.count_won", "maybe"),
        ("phone.region", "USA"),
        ("pool.exempt_levels", "A,Z"),
        ("pool.open_work", "elsewhere"),
    ] {
        let r = env.run(&["config", "set", key, bad]);
        r.code(4).one_error_line();
        assert!(r.stderr.contains(key), "{}", r.stderr);
    }
    env.add_user("sam", "sales");
    env.add_user("mia", "manager");
    for who in ["sam", "mia"] {
        let t = env.token(who);
        env.run_as(&t, &["config", "set", "pool.max_per_user", "3"])
            .code(7)
            .one_error_line();
        env.run_as(&t, &["config", "list"]).code(7);
    }
    let list = env.run(&["--format", "json", "config", "list"]).ok().json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r["value"] == r["default"] && r["set"] == false),
        "a refused change changed something: {list}"
    );
    assert_eq!(env.audits(&[("action", "config")]), 0);
}
