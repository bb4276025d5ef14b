//! The customer pool (SPEC "Customer pool"): claim, release, assign, sweep by the rules at
//! their boundary days, exemptions, limits, cool-down, roles, ownership events. Both engines.

use crate::crm_support::At;
use crate::harness::Env;

/// A customer in the pool (added, then its owner cleared).
fn pooled(a: &At, name: &str) -> i64 {
    let id = a.add("customer", &["--name", name]);
    a.run(&[
        "edit",
        "customer",
        &id.to_string(),
        "--unset",
        "owner",
        "-q",
    ])
    .ok();
    id
}

fn owner(env: &Env, id: i64) -> serde_json::Value {
    env.record("customer", id)["owner"].clone()
}

#[test]
fn claim_release_and_assign_move_the_owner_with_events_and_audit() {
    let env = Env::new();
    env.add_user("sam", "sales");
    env.add_user("ann", "sales");
    env.add_user("vic", "viewer");
    let now = "2026-03-02T10:00:00+08:00";
    let admin = At::new(&env, "admin", now);
    let sam = At::new(&env, "sam", now);
    let ann = At::new(&env, "ann", now);
    let vic = At::new(&env, "vic", now);
    let a = pooled(&admin, "彩虹网络");
    let b = pooled(&admin, "蓝天科技");
    let listed = sam.run(&["--format", "json", "pool"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(sam.run(&["pool", "蓝天", "--count"]).ok().stdout, "1\n");
    vic.run(&["pool"]).code(7).one_error_line();

    sam.run(&["pool", "claim", &a.to_string()]).ok();
    assert_eq!(owner(&env, a), "sam");
    // Not in the pool any more: ann cannot take it, nor release it, and nothing changes.
    let r = ann.run(&["pool", "claim", &a.to_string(), &b.to_string()]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("not in the pool"), "{}", r.stderr);
    assert_eq!(owner(&env, b), serde_json::Value::Null, "all or nothing");
    ann.run(&["pool", "release", &a.to_string()]).code(7);
    sam.run(&["pool", "assign", &b.to_string(), "--to", "ann"])
        .code(7);
    sam.run(&[
        "pool",
        "release",
        &a.to_string(),
        "--reason",
        "不在我的区域",
    ])
    .ok();
    assert_eq!(owner(&env, a), serde_json::Value::Null);
    admin
        .run(&[
            "pool",
            "assign",
            &a.to_string(),
            &b.to_string(),
            "--to",
            "ann",
        ])
        .ok();
    assert_eq!(owner(&env, a), "ann");
    assert_eq!(owner(&env, b), "ann");
    admin
        .run(&["pool", "assign", &a.to_string(), "--to", "nobody"])
        .code(3);

    let shown = env.record("customer", a);
    let events: Vec<(String, String)> = shown["ownership"]
        .as_array()
        .expect("show customer lists its ownership events")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                format!(
                    "{}>{}",
                    e["from"].as_str().unwrap_or(""),
                    e["to"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    let want = [
        ("edit", "admin>"),
        ("claim", ">sam"),
        ("release", "sam>"),
        ("assign", ">ann"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(x, y)| ((*x).into(), (*y).into()))
        .collect();
    assert_eq!(events, want);
    assert_eq!(shown["ownership"][2]["reason"], "不在我的区域");
    assert_eq!(shown["ownership"][1]["user"], "sam");
    // Each change is audited on the customer, with the pool action as its detail.
    assert_eq!(
        env.audits(&[
            ("entity", "customer"),
            ("field", "owner"),
            ("new", "sam"),
            ("detail", "pool claim")
        ]),
        1
    );
}

#[test]
fn sweep_returns_customers_the_day_after_each_rule_and_never_the_exempt() {
    let env = Env::new();
    env.add_user("sam", "sales");
    let admin = At::new(&env, "admin", "2026-01-01T09:00:00+08:00");
    let t0 = "2026-01-01T10:00:00+08:00";
    let stale = admin.run_at(
        t0,
        &[
            "add",
            "customer",
            "-q",
            "--name",
            "久未跟进",
            "--owner",
            "sam",
        ],
    );
    let stale: i64 = stale.ok().stdout.trim().parse().unwrap();
    let level_a = admin.run_at(
        t0,
        &[
            "add",
            "customer",
            "-q",
            "--name",
            "A类客户",
            "--owner",
            "sam",
            "--level",
            "A",
        ],
    );
    let level_a: i64 = level_a.ok().stdout.trim().parse().unwrap();
    let contracted = admin.run_at(
        t0,
        &[
            "add",
            "customer",
            "-q",
            "--name",
            "有合同",
            "--owner",
            "sam",
        ],
    );
    let contracted: i64 = contracted.ok().stdout.trim().parse().unwrap();
    admin
        .run_at(
            t0,
            &[
                "add",
                "contract",
                "-q",
                "--customer",
                &contracted.to_string(),
                "--title",
                "年度服务",
                "--status",
                "active",
            ],
        )
        .ok();
    // Followed up on day 20: the no-follow-up rule counts from then; the no-deal rule does not.
    let followed = admin.run_at(
        t0,
        &[
            "add",
            "customer",
            "-q",
            "--name",
            "跟进过",
            "--owner",
            "sam",
        ],
    );
    let followed: i64 = followed.ok().stdout.trim().parse().unwrap();
    admin
        .run_at(
            "2026-01-21T10:00:00+08:00",
            &[
                "log",
                "customer",
                &followed.to_string(),
                "电话回访",
                "--type",
                "call",
            ],
        )
        .ok();
    admin
        .run(&["config", "set", "pool.exempt_levels", "A"])
        .ok();

    let due = |as_of: &str| -> Vec<(i64, String)> {
        let r = admin.run_at(
            "2026-06-01T09:00:00+08:00",
            &[
                "--format",
                "json",
                "pool",
                "sweep",
                "--as-of",
                as_of,
                "--dry-run",
            ],
        );
        r.ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_i64().unwrap(),
                    d["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // 30 days without a follow-up: returned on day 31, not on day 30.
    assert_eq!(due("2026-01-31"), vec![]);
    assert_eq!(
        due("2026-02-01"),
        vec![(stale, "pool.no_followup_days".to_string())]
    );
    assert_eq!(
        due("2026-02-20"),
        vec![(stale, "pool.no_followup_days".to_string())]
    );
    assert_eq!(
        due("2026-02-21"),
        vec![
            (stale, "pool.no_followup_days".to_string()),
            (followed, "pool.no_followup_days".to_string())
        ]
    );
    // The no-deal rule alone (follow-ups off): 90 days owned.
    admin
        .run(&["config", "set", "pool.no_followup_days", "0"])
        .ok();
    assert_eq!(due("2026-04-01"), vec![]);
    assert_eq!(
        due("2026-04-02"),
        vec![
            (stale, "pool.no_deal_days".to_string()),
            (followed, "pool.no_deal_days".to_string())
        ]
    );
    assert_eq!(owner(&env, stale), "sam", "a dry run changes nothing");

    admin
        .run(&["config", "unset", "pool.no_followup_days"])
        .ok();
    let swept = admin
        .run_at(
            "2026-02-01T09:00:00+08:00",
            &["--format", "json", "pool", "sweep"],
        )
        .ok()
        .json();
    assert_eq!(swept.as_array().unwrap().len(), 1, "{swept}");
    assert_eq!(owner(&env, stale), serde_json::Value::Null);
    for kept in [level_a, contracted, followed] {
        assert_eq!(owner(&env, kept), "sam");
    }
    // Idempotent: the same sweep again returns nothing.
    let again = admin
        .run_at(
            "2026-02-01T09:00:00+08:00",
            &["--format", "json", "pool", "sweep"],
        )
        .ok()
        .json();
    assert_eq!(again, serde_json::json!([]));
    let ev = &env.record("customer", stale)["ownership"];
    let last = ev.as_array().unwrap().last().unwrap();
    assert_eq!(last["action"], "sweep");
    assert_eq!(last["from"], "sam");

    // A stale customer claimed today is not returned at once: days count from the claim.
    let sam = At::new(&env, "sam", "2026-03-01T09:00:00+08:00");
    sam.run(&["pool", "claim", &stale.to_string()]).ok();
    let r = admin
        .run_at(
            "2026-03-02T09:00:00+08:00",
            &["--format", "json", "pool", "sweep"],
        )
        .ok()
        .json();
    let ids: Vec<i64> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![followed], "the one claimed yesterday stays");
    assert_eq!(owner(&env, stale), "sam");
    // Only managers and admins sweep.
    sam.run(&["pool", "sweep", "--dry-run"]).code(7);
}

#[test]
fn limits_and_cool_down_refuse_a_claim_naming_the_rule() {
    let env = Env::new();
    env.add_user("sam", "sales");
    let admin = At::new(&env, "admin", "2026-03-02T09:00:00+08:00");
    let ids: Vec<i64> = (0..4)
        .map(|i| pooled(&admin, &format!("客户{i}")))
        .collect();
    let s = |i: usize| ids[i].to_string();
    admin.run(&["config", "set", "pool.daily_claims", "2"]).ok();
    admin.run(&["config", "set", "pool.max_per_user", "3"]).ok();
    admin
        .run(&["config", "set", "pool.reclaim_after_days", "7"])
        .ok();
    let sam = At::new(&env, "sam", "2026-03-02T10:00:00+08:00");
    sam.run(&["pool", "claim", &s(0), &s(1)]).ok();
    let r = sam.run(&["pool", "claim", &s(2)]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("pool.daily_claims"), "{}", r.stderr);
    // The next day the daily limit allows it; then the holding limit (3) stops the fourth.
    let next = "2026-03-03T10:00:00+08:00";
    sam.run_at(next, &["pool", "claim", &s(2)]).ok();
    let r = sam.run_at(next, &["pool", "claim", &s(3)]);
    r.code(5);
    assert!(r.stderr.contains("pool.max_per_user"), "{}", r.stderr);
    // Released: not claimable again by sam for 7 days.
    sam.run_at(next, &["pool", "release", &s(0)]).ok();
    let r = sam.run_at("2026-03-09T10:00:00+08:00", &["pool", "claim", &s(0)]);
    r.code(5);
    assert!(r.stderr.contains("pool.reclaim_after_days"), "{}", r.stderr);
    sam.run_at("2026-03-10T10:00:00+08:00", &["pool", "claim", &s(0)])
        .ok();
    // The holding limit applies to assignments too.
    admin.run(&["pool", "assign", &s(3), "--to", "sam"]).code(5);
    assert_eq!(owner(&env, ids[3]), serde_json::Value::Null);
}

#[test]
fn open_work_follows_the_customer_to_the_pool_when_set() {
    let env = Env::new();
    env.add_user("sam", "sales");
    let sam = At::new(&env, "sam", "2026-03-02T10:00:00+08:00");
    let c = sam.add("customer", &["--name", "华东客户"]);
    let open = sam.add(
        "opportunity",
        &["--customer", &c.to_string(), "--name", "年度采购"],
    );
    let won = sam.add(
        "opportunity",
        &[
            "--customer",
            &c.to_string(),
            "--name",
            "旧单",
            "--stage",
            "won",
        ],
    );
    env.run(&["config", "set", "pool.open_work", "pool"]).ok();
    sam.run(&["pool", "release", &c.to_string()]).ok();
    assert_eq!(
        env.record("opportunity", open)["owner"],
        serde_json::Value::Null
    );
    assert_eq!(
        env.record("opportunity", won)["owner"],
        "sam",
        "closed work stays"
    );
}

#[test]
fn two_concurrent_claims_of_one_customer_exactly_one_wins() {
    let env = Env::new();
    env.add_user("sam", "sales");
    env.add_user("ann", "sales");
    let c = pooled(
        &At::new(&env, "admin", "2026-03-02T10:00:00+08:00"),
        "抢手客户",
    );
    let tokens = [env.token("sam"), env.token("ann")];
    let children: Vec<_> = tokens
        .iter()
        .map(|t| {
            env.hermetic(Env::bin())
                .env("CRM_TOKEN", t)
                .args(["pool", "claim", &c.to_string()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn crm")
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|ch| ch.wait_with_output().expect("wait").status.code().unwrap())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![0, 5], "{codes:?}");
    let winner = if codes[0] == 0 { "sam" } else { "ann" };
    assert_eq!(owner(&env, c), winner);
    let claims = env.record("customer", c)["ownership"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "claim")
        .count();
    assert_eq!(claims, 1);
}
