//! `crm merge ENTITY KEEP DUP…`: references re-pointed (from the registry), KEEP's empty
//! fields filled, duplicates deleted, audited; `--prefer`, `--dry-run`, confirmation;
//! `crm merge history` and `revert` (exact, refused when a record changed since, once);
//! roles; the search index after merge and revert.

use serde_json::{Value, json};

use crate::harness::Env;

/// KEEP (1) and a duplicate (2) with a contact, an opportunity, an activity and a ticket.
fn two_customers(env: &Env) -> (i64, i64) {
    let keep = env.add(
        "customer",
        &["--name", "彩虹网络有限公司", "--city", "北京"],
    );
    let dup = env.add(
        "customer",
        &[
            "--name",
            "彩虹网络重复客户",
            "--email",
            "info@caihong.cn",
            "--city",
            "上海",
            "--tags",
            "vip",
        ],
    );
    env.add(
        "contact",
        &["--customer", &dup.to_string(), "--name", "张伟"],
    );
    env.add(
        "opportunity",
        &["--customer", &dup.to_string(), "--name", "大单"],
    );
    env.add(
        "activity",
        &["--customer", &dup.to_string(), "--subject", "回访"],
    );
    env.add(
        "ticket",
        &["--customer", &dup.to_string(), "--subject", "坏了"],
    );
    (keep, dup)
}

fn count_of(env: &Env, entity: &str, customer: i64) -> i64 {
    env.count_where(entity, &[&format!("customer={customer}")])
}

fn found(env: &Env, text: &str) -> i64 {
    env.read_json(&["find", "customer", text, "--count"])
        .as_i64()
        .expect("count")
}

#[test]
fn a_merge_repoints_every_reference_fills_keep_and_deletes_the_duplicate() {
    let env = Env::new();
    let (keep, dup) = two_customers(&env);
    assert_eq!(found(&env, "重复客户"), 1);
    let r = env.run(&[
        "merge",
        "customer",
        &keep.to_string(),
        &dup.to_string(),
        "--yes",
        "--format",
        "json",
    ]);
    r.ok();
    let j = r.json();
    assert_eq!(j["merge"], 1);
    assert_eq!(j["keep"], keep);
    assert_eq!(j["merged"], json!([dup]));
    assert_eq!(
        j["fields"],
        json!({"email": "info@caihong.cn", "tags": "vip"})
    );
    assert_eq!(
        j["repointed"],
        json!({"contact": 1, "opportunity": 1, "activity": 1, "ticket": 1})
    );
    for entity in ["contact", "opportunity", "activity", "ticket"] {
        assert_eq!(count_of(&env, entity, keep), 1, "{entity}");
        assert_eq!(count_of(&env, entity, dup), 0, "{entity}");
    }
    assert!(!env.exists("customer", dup));
    let k = env.record("customer", keep);
    assert_eq!(k["city"], "北京", "KEEP's own value stays");
    assert_eq!(k["email"], "info@caihong.cn");
    assert_eq!(k["tags"], json!(["vip"]));
    // The search index follows: the duplicate's name is no longer found.
    assert_eq!(found(&env, "重复客户"), 0);
    assert_eq!(found(&env, "彩虹网络有限公司"), 1);
    // Audited in the merge's name with the old values.
    assert_eq!(
        env.audits(&[("action", "merge"), ("record_id", &keep.to_string())]),
        1
    );
    let dup_s = dup.to_string();
    assert_eq!(
        env.audits(&[
            ("action", "delete"),
            ("entity", "customer"),
            ("record_id", &dup_s),
            ("field", "email"),
            ("old", "info@caihong.cn"),
            ("detail", "merge 1"),
        ]),
        1
    );
    assert_eq!(
        env.audits_by(|a| a["entity"] == "contact"
            && a["field"] == "customer"
            && a["detail"] == "merge 1"
            && !a["old"].is_null()),
        1
    );
    let h = env.read_json(&["merge", "history"]);
    assert_eq!(h[0]["merge"], 1);
    assert_eq!(h[0]["entity"], "customer");
    assert_eq!(h[0]["keep"], keep);
    assert_eq!(h[0]["dups"], json!([dup]));
    assert_eq!(h[0]["user"], "admin");
    assert!(h[0]["reverted_at"].is_null());
}

#[test]
fn revert_restores_every_record_exactly_and_only_once() {
    let env = Env::new();
    let (keep, dup) = two_customers(&env);
    let shown = |entity: &str, id: i64| -> Value { env.record(entity, id) };
    let before: Vec<Value> = [
        ("customer", keep),
        ("customer", dup),
        ("contact", 1),
        ("ticket", 1),
    ]
    .iter()
    .map(|(e, id)| shown(e, *id))
    .collect();
    env.run(&[
        "merge",
        "customer",
        &keep.to_string(),
        &dup.to_string(),
        "--yes",
    ])
    .ok();
    let r = env.run(&["merge", "revert", "1", "--format", "json"]);
    r.ok();
    assert_eq!(r.json()["restored"], json!([dup]));
    let after: Vec<Value> = [
        ("customer", keep),
        ("customer", dup),
        ("contact", 1),
        ("ticket", 1),
    ]
    .iter()
    .map(|(e, id)| shown(e, *id))
    .collect();
    assert_eq!(before, after);
    assert_eq!(found(&env, "重复客户"), 1, "the duplicate is found again");
    assert!(!env.read_json(&["merge", "history"])[0]["reverted_at"].is_null());
    let r = env.run(&["merge", "revert", "1"]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("already reverted"), "{}", r.stderr);
    env.run(&["merge", "revert", "9"]).code(3);
}

#[test]
fn revert_is_refused_naming_keep_when_it_changed_since() {
    let env = Env::new();
    let (keep, dup) = two_customers(&env);
    env.run(&[
        "merge",
        "customer",
        &keep.to_string(),
        &dup.to_string(),
        "--yes",
    ])
    .ok();
    env.run(&["edit", "customer", &keep.to_string(), "--notes", "后来改的"])
        .ok();
    let r = env.run(&["merge", "revert", "1"]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("customer 1 (C000001)"), "{}", r.stderr);
    assert!(!env.exists("customer", dup), "nothing was restored");
    assert_eq!(count_of(&env, "contact", keep), 1);
    // A re-pointed reference edited since is named too.
    env.run(&["edit", "customer", &keep.to_string(), "--unset", "notes"])
        .ok();
    env.run(&["edit", "contact", "1", "--title", "经理"]).ok();
    let r = env.run(&["merge", "revert", "1"]);
    r.code(5);
    assert!(r.stderr.contains("contact 1"), "{}", r.stderr);
}

#[test]
fn dry_run_and_a_missing_yes_change_nothing() {
    let env = Env::new();
    let (keep, dup) = two_customers(&env);
    let (k, d) = (keep.to_string(), dup.to_string());
    let audits = env.audit_total();
    let r = env.run(&["merge", "customer", &k, &d, "--dry-run"]);
    r.ok();
    assert!(
        r.stdout.contains("would merge customer 2 into 1"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 contact re-pointed"), "{}", r.stdout);
    let j = env.read_json(&["merge", "customer", &k, &d, "--dry-run"]);
    assert_eq!(j["dry_run"], true);
    assert!(j["merge"].is_null());
    let r = env.run(&["merge", "customer", &k, &d]);
    r.code(2).one_error_line();
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    assert!(env.exists("customer", dup));
    assert_eq!(count_of(&env, "contact", dup), 1);
    assert_eq!(env.audit_total(), audits);
    assert_eq!(env.read_json(&["merge", "history"]), json!([]));
}

#[test]
fn prefer_picks_the_value_and_bad_arguments_get_their_exit_codes() {
    let env = Env::new();
    let (keep, dup) = two_customers(&env);
    let (k, d) = (keep.to_string(), dup.to_string());
    env.run(&["merge", "customer", &k, &k, "--yes"])
        .code(2)
        .one_error_line();
    env.run(&["merge", "customer", &k, "99", "--yes"])
        .code(3)
        .one_error_line();
    env.run(&["merge", "customer", &k, &d, "--prefer", "city=99", "--yes"])
        .code(2)
        .one_error_line();
    env.run(&["merge", "customer", &k, &d, "--prefer", "colour=2", "--yes"])
        .code(2);
    env.run(&["merge", "customer", &k, &d, "--prefer", "city", "--yes"])
        .code(2);
    assert!(env.exists("customer", dup));
    env.run(&[
        "merge",
        "customer",
        &k,
        "C000002",
        "--prefer",
        &format!("city={d}"),
        "--yes",
    ])
    .ok();
    assert_eq!(env.record("customer", keep)["city"], "上海");
}

#[test]
fn sales_merge_only_what_they_own_and_viewers_never() {
    let env = Env::new();
    for (u, role) in [
        ("li", "sales"),
        ("wang", "sales"),
        ("zhao", "viewer"),
        ("sun", "service"),
        ("qian", "manager"),
    ] {
        env.add_user(u, role);
    }
    let li = env.token("li");
    let add = |t: &str, fields: &[&str]| -> i64 {
        let mut args = vec!["add", "-q"];
        args.extend_from_slice(fields);
        let r = env.run_as(t, &args);
        r.ok();
        r.stdout.trim().parse().expect("id")
    };
    let a = add(&li, &["customer", "--name", "李的客户甲"]);
    let b = add(
        &li,
        &["customer", "--name", "李的客户乙", "--phone", "13800138000"],
    );
    add(
        &li,
        &["contact", "--customer", &b.to_string(), "--name", "李四"],
    );
    let other = add(&env.token("wang"), &["customer", "--name", "王的客户"]);
    let (a_s, b_s, o_s) = (a.to_string(), b.to_string(), other.to_string());
    for who in ["zhao", "sun"] {
        env.run_as(&env.token(who), &["merge", "customer", &a_s, &b_s, "--yes"])
            .code(7);
        env.run_as(&env.token(who), &["merge", "history"]).code(7);
    }
    let r = env.run_as(&li, &["merge", "customer", &a_s, &o_s, "--yes"]);
    r.code(7).one_error_line();
    assert!(env.exists("customer", other));
    env.run_as(&li, &["merge", "customer", &a_s, &b_s, "--yes"])
        .ok();
    assert!(!env.exists("customer", b));
    assert_eq!(count_of(&env, "contact", a), 1);
    assert_eq!(env.read_json_as(&li, &["merge", "history"])[0]["merge"], 1);
    env.run_as(&li, &["merge", "revert", "1"]).ok();
    assert!(env.exists("customer", b));
    assert_eq!(count_of(&env, "contact", b), 1);
    // A manager merges anyone's records.
    env.run_as(
        &env.token("qian"),
        &["merge", "customer", &o_s, &b_s, "--yes"],
    )
    .ok();
    assert_eq!(count_of(&env, "contact", other), 1);
}

#[test]
fn merging_opportunities_moves_their_records_and_revert_brings_the_stage_history_back() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "商机客户"]).to_string();
    let keep = env.add("opportunity", &["--customer", &c, "--name", "年度采购"]);
    let dup = env.add(
        "opportunity",
        &[
            "--customer",
            &c,
            "--name",
            "年度采购（重复）",
            "--amount",
            "5000",
        ],
    );
    env.run(&[
        "edit",
        "opportunity",
        &dup.to_string(),
        "--stage",
        "proposal",
    ])
    .ok();
    env.add(
        "activity",
        &[
            "--customer",
            &c,
            "--opportunity",
            &dup.to_string(),
            "--subject",
            "报价",
        ],
    );
    let before = [
        env.record("opportunity", keep),
        env.record("opportunity", dup),
    ];
    assert_eq!(before[1]["stages"].as_array().map(Vec::len), Some(2));
    let j = env.read_json(&[
        "merge",
        "opportunity",
        &keep.to_string(),
        &dup.to_string(),
        "--yes",
    ]);
    assert_eq!(j["repointed"], json!({"activity": 1}));
    assert_eq!(j["fields"]["amount"], "5000.00");
    assert_eq!(
        env.count_where("activity", &[&format!("opportunity={keep}")]),
        1
    );
    assert_eq!(
        env.record("opportunity", keep)["stages"],
        before[0]["stages"],
        "KEEP's history is its own"
    );
    env.run(&["merge", "revert", "1"]).ok();
    let after = [
        env.record("opportunity", keep),
        env.record("opportunity", dup),
    ];
    assert_eq!(before, after);
}

#[test]
fn a_terminal_asks_before_merging() {
    use crate::core_prompts::Pty;
    let env = Env::new();
    let (keep, dup) = two_customers(&env);
    let (k, d) = (keep.to_string(), dup.to_string());
    let mut p = Pty::spawn(&env, &["merge", "customer", &k, &d]);
    p.wait("Merge customer 2 into 1");
    p.send("n");
    let (code, _) = p.finish();
    assert_eq!(code, 2);
    assert!(env.exists("customer", dup));
    let mut p = Pty::spawn(&env, &["merge", "customer", &k, &d]);
    p.wait("Merge customer 2 into 1");
    p.send("y");
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(!env.exists("customer", dup));
}
