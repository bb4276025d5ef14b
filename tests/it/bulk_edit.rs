//! `crm edit ENTITY --where …`: every match in one transaction through the one writer (rules
//! applied to each, each audited), roles as for single edits; and `crm user edit NAME
//! --disable --transfer-to OTHER`.

use crate::harness::Env;

fn customers(env: &Env, n: usize, city: &str) -> Vec<i64> {
    (0..n)
        .map(|i| {
            env.add(
                "customer",
                &["--name", &format!("{city}{i}"), "--city", city],
            )
        })
        .collect()
}

#[test]
fn a_bulk_edit_changes_every_match_once_and_audits_each_record() {
    let env = Env::new();
    let sz = customers(&env, 3, "深圳");
    customers(&env, 2, "北京");
    let before = env.audit_total();
    let r = env.run(&[
        "edit",
        "customer",
        "--where",
        "city=深圳",
        "--set",
        "level=A",
        "--add-tag",
        "vip",
        "--format",
        "json",
    ]);
    r.ok();
    assert_eq!(r.json(), serde_json::json!({"matched": 3, "changed": 3}));
    assert_eq!(env.count_where("customer", &["level=A"]), 3);
    assert_eq!(env.count_where("customer", &["tags=vip"]), 3);
    assert_eq!(env.count_where("customer", &["city=北京", "level=A"]), 0);
    // One audit row per record and field, nothing else.
    for id in &sz {
        let id = id.to_string();
        for field in ["level", "tags"] {
            assert_eq!(
                env.audits(&[("entity", "customer"), ("record_id", &id), ("field", field)]),
                1,
                "{id} {field}"
            );
        }
    }
    assert_eq!(env.audit_total(), before + 6);
    // Again: every record matches, none changes; -q prints nothing at all.
    let r = env.run(&[
        "edit",
        "customer",
        "--where",
        "city=深圳",
        "--set",
        "level=A",
        "-q",
    ]);
    r.ok();
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));
    // The count for a person, on stderr; --remove-tag and --unset.
    let r = env.run(&[
        "edit",
        "customer",
        "--where",
        "level=A",
        "--remove-tag",
        "vip",
        "--unset",
        "level",
    ]);
    r.ok();
    assert!(
        r.stderr.contains("changed 3 customer records (3 matched)"),
        "{}",
        r.stderr
    );
    assert_eq!(env.count_where("customer", &["tags=vip"]), 0);
}

#[test]
fn without_where_only_all_and_dry_run_writes_nothing() {
    let env = Env::new();
    customers(&env, 2, "深圳");
    env.run(&["edit", "customer", "--set", "level=B"])
        .code(2)
        .one_error_line();
    env.run(&[
        "edit",
        "customer",
        "1",
        "--where",
        "city=深圳",
        "--set",
        "level=B",
    ])
    .code(2);
    env.run(&["edit", "customer", "1", "--set", "level=B"])
        .code(2);
    env.run(&[
        "edit",
        "customer",
        "--where",
        "city=深圳",
        "--set",
        "nope=1",
    ])
    .code(2);
    let audits = env.audit_total();
    let r = env.run(&[
        "edit",
        "customer",
        "--all",
        "--set",
        "level=B",
        "--dry-run",
        "--format",
        "json",
    ]);
    r.ok();
    assert_eq!(r.json(), serde_json::json!({"matched": 2, "changed": 2}));
    assert_eq!(env.count_where("customer", &["level=B"]), 0);
    assert_eq!(env.audit_total(), audits);
    env.run(&["edit", "customer", "--all", "--set", "level=B", "--yes"])
        .ok();
    assert_eq!(env.count_where("customer", &["level=B"]), 2);
}

#[test]
fn one_bad_record_and_nothing_is_written() {
    let env = Env::new();
    customers(&env, 2, "深圳");
    env.run(&["edit", "customer", "--all", "--set", "level=Z"])
        .code(4);
    // Two records cannot share one code: the second is refused by name, the first undone.
    let r = env.run(&["edit", "customer", "--all", "--set", "code=C999"]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("customer 2"), "{}", r.stderr);
    assert_eq!(env.count_where("customer", &["code=C999"]), 0);
    // A required field cannot be cleared.
    env.run(&["edit", "customer", "--all", "--unset", "name"])
        .code(4);
    assert_eq!(env.count_where("customer", &["name~深圳"]), 2);
}

#[test]
fn a_bulk_stage_change_fills_probability_closed_at_and_stage_history() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "Acme"]).to_string();
    let opps: Vec<i64> = (0..3)
        .map(|i| {
            env.add(
                "opportunity",
                &["--customer", &c, "--name", &format!("deal {i}")],
            )
        })
        .collect();
    env.run(&[
        "edit",
        "opportunity",
        "--where",
        "stage=prospecting",
        "--set",
        "stage=won",
    ])
    .ok();
    for id in opps {
        let o = env.record("opportunity", id);
        assert_eq!(o["stage"], "won");
        assert_eq!(o["probability"], 100, "{o}");
        assert!(o["closed_at"].is_string(), "{o}");
        let shown = env.read_json(&["show", "opportunity", &id.to_string()]);
        let stages: Vec<&str> = shown["stages"]
            .as_array()
            .unwrap_or_else(|| panic!("stages in {shown}"))
            .iter()
            .map(|s| s["stage"].as_str().expect("stage"))
            .collect();
        assert_eq!(stages, ["prospecting", "won"]);
    }
}

#[test]
fn sales_bulk_edit_only_what_they_own() {
    let env = Env::new();
    env.add_user("li", "sales");
    env.add_user("wang", "sales");
    env.add_user("vi", "viewer");
    let li = env.token("li");
    for name in ["甲", "乙"] {
        env.run_as(&li, &["add", "customer", "--name", name, "--city", "深圳"])
            .ok();
    }
    customers(&env, 1, "深圳"); // admin's
    // A match li does not own: refused (7), nothing changed.
    env.run_as(
        &li,
        &[
            "edit",
            "customer",
            "--where",
            "city=深圳",
            "--set",
            "level=A",
        ],
    )
    .code(7)
    .one_error_line();
    assert_eq!(env.count_where("customer", &["level=A"]), 0);
    // Their own: changed.
    env.run_as(
        &li,
        &[
            "edit", "customer", "--where", "owner=li", "--set", "level=A",
        ],
    )
    .ok();
    assert_eq!(env.count_where("customer", &["level=A"]), 2);
    // Giving them away is not theirs to do.
    env.run_as(
        &li,
        &[
            "edit",
            "customer",
            "--where",
            "owner=li",
            "--set",
            "owner=wang",
        ],
    )
    .code(7);
    let vi = env.token("vi");
    env.run_as(
        &vi,
        &[
            "edit", "customer", "--where", "owner=li", "--set", "level=B",
        ],
    )
    .code(7);
    // A manager moves them.
    env.add_user("boss", "manager");
    let boss = env.token("boss");
    env.run_as(
        &boss,
        &[
            "edit",
            "customer",
            "--where",
            "owner=li",
            "--set",
            "owner=wang",
            "--yes",
        ],
    )
    .ok();
    assert_eq!(env.count_where("customer", &["owner=wang"]), 2);
}

#[test]
fn disabling_a_user_transfers_their_open_work_in_one_go() {
    let env = Env::new();
    env.add_user("li", "sales");
    env.add_user("wang", "sales");
    let li = env.token("li");
    let c = env
        .run_as(&li, &["add", "customer", "--name", "甲", "-q"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let add = |entity: &str, args: &[&str]| -> i64 {
        let mut a = vec!["add", entity, "-q"];
        a.extend_from_slice(args);
        env.run_as(&li, &a).ok().stdout.trim().parse().expect("id")
    };
    let open = add("opportunity", &["--customer", &c, "--name", "open"]);
    let won = add(
        "opportunity",
        &["--customer", &c, "--name", "won", "--stage", "won"],
    );
    let plan = add(
        "activity",
        &[
            "--customer",
            &c,
            "--subject",
            "call back",
            "--due-at",
            "2030-01-02 10:00",
        ],
    );
    let done = add(
        "activity",
        &[
            "--customer",
            &c,
            "--subject",
            "called",
            "--done-at",
            "2020-01-02 10:00",
        ],
    );
    let r = env.run(&[
        "user",
        "edit",
        "li",
        "--disable",
        "--transfer-to",
        "wang",
        "--format",
        "json",
    ]);
    r.ok();
    let out = r.json();
    assert_eq!(
        out["transferred"],
        serde_json::json!({"customer": 1, "opportunity": 1, "activity": 1, "ticket": 0}),
        "{out}"
    );
    let c: i64 = c.parse().expect("id");
    assert_eq!(env.record("customer", c)["owner"], "wang");
    assert_eq!(env.record("opportunity", open)["owner"], "wang");
    assert_eq!(env.record("opportunity", won)["owner"], "li");
    assert_eq!(env.record("activity", plan)["owner"], "wang");
    assert_eq!(env.record("activity", done)["owner"], "li");
    assert_eq!(
        env.audits(&[("entity", "customer"), ("field", "owner"), ("new", "wang")]),
        1
    );
    // li is disabled; a transfer to a disabled or unknown user, or to oneself, is refused.
    env.run_as(&li, &["whoami"]).code(6);
    env.run(&["user", "edit", "wang", "--transfer-to", "li"])
        .code(5);
    env.run(&["user", "edit", "wang", "--transfer-to", "nobody"])
        .code(3);
    env.run(&["user", "edit", "wang", "--transfer-to", "wang"])
        .code(2);
    // Open tickets go with their service user.
    env.add_user("s1", "service");
    env.add_user("s2", "service");
    let t_open = env.add(
        "ticket",
        &[
            "--customer",
            &c.to_string(),
            "--subject",
            "broken",
            "--assignee",
            "s1",
        ],
    );
    let t_closed = env.add(
        "ticket",
        &[
            "--customer",
            &c.to_string(),
            "--subject",
            "fixed",
            "--assignee",
            "s1",
            "--status",
            "closed",
        ],
    );
    env.run(&["user", "edit", "s1", "--disable", "--transfer-to", "s2"])
        .ok();
    assert_eq!(env.record("ticket", t_open)["assignee"], "s2");
    assert_eq!(env.record("ticket", t_closed)["assignee"], "s1");
}
