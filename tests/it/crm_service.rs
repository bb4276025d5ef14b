//! Follow-up and service rules through the binary: activities and the customer's last
//! contact, `log` and `done`; ticket transitions, resolve time, satisfaction and assignees.

use crate::crm_support::{At, customer, field};
use crate::harness::{Env, text};

#[test]
fn activities_keep_last_contacted_at() {
    let env = Env::new();
    let at = At::new(&env, "admin", "2026-11-25T10:00:00+08:00");
    let c = customer(&env, "丁公司");
    let other = customer(&env, "戊公司");
    let cs = c.to_string();
    let last = |id: i64| field(&env, "customer", id, "last_contacted_at");
    let k = env.add(
        "contact",
        &["--customer", &other.to_string(), "--name", "外人"],
    );
    // A contact of another customer is refused.
    env.run(&[
        "add",
        "activity",
        "--customer",
        &cs,
        "--subject",
        "s",
        "--contact",
        &k.to_string(),
    ])
    .code(4)
    .one_error_line();
    // A plan does not count as a contact; logging does.
    let plan = env.add(
        "activity",
        &[
            "--customer",
            &cs,
            "--subject",
            "回访",
            "--type",
            "call",
            "--due-at",
            "2026-11-24 10:00",
        ],
    );
    assert!(last(c).is_null());
    let logged = at
        .run(&[
            "log",
            "customer",
            &cs,
            "电话沟通报价",
            "--type",
            "call",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(logged["type"], "call");
    assert_eq!(logged["subject"], "电话沟通报价");
    assert_eq!(logged["done_at"], "2026-11-25T10:00:00+08:00");
    assert_eq!(last(c), "2026-11-25T10:00:00+08:00");
    assert_eq!(
        env.audits_by(|r| r["entity"] == "customer"
            && r["record_id"] == c
            && r["field"] == "last_contacted_at"
            && r["old"].is_null()
            && text(&r["detail"]).is_some_and(|d| d.starts_with("derived: follows activity "))),
        1
    );
    at.run(&["log", "customer", &cs, "未来", "--at", "2026-12-25"])
        .code(4)
        .one_error_line();
    // An activity added without dates records something done now.
    let note = env.add("activity", &["--customer", &cs, "--subject", "备注"]);
    assert!(field(&env, "activity", note, "done_at").is_string());
    env.run(&["delete", "activity", &note.to_string(), "--yes"])
        .ok();
    // Completing the plan with an earlier time leaves the latest contact in place.
    env.run(&[
        "done",
        "activity",
        &plan.to_string(),
        "--at",
        "2026-11-24 11:00",
        "--notes",
        "已确认",
    ])
    .ok();
    assert_eq!(field(&env, "activity", plan, "notes"), "已确认");
    assert_eq!(last(c), "2026-11-25T10:00:00+08:00");
    let again = env.run(&["done", "activity", &plan.to_string()]);
    again.ok();
    assert!(again.stderr.contains("already done"), "{}", again.stderr);
    // Deleting the latest falls back to the one before; moving it recomputes both customers.
    let id = logged["id"].as_i64().unwrap().to_string();
    env.run(&["edit", "activity", &id, "--customer", &other.to_string()])
        .ok();
    assert_eq!(last(c), "2026-11-24T11:00:00+08:00");
    assert_eq!(last(other), "2026-11-25T10:00:00+08:00");
    env.run(&["delete", "activity", &id, "--yes"]).ok();
    assert!(last(other).is_null());
    env.run(&["edit", "activity", &plan.to_string(), "--unset", "done-at"])
        .ok();
    assert!(last(c).is_null());
    // `log contact` fills in the customer; `done` on a missing id is not found.
    let kc = env.add("contact", &["--customer", &cs, "--name", "张三"]);
    let by_contact = env
        .run(&[
            "log",
            "contact",
            &kc.to_string(),
            "微信",
            "--type",
            "wechat",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(by_contact["customer"], field(&env, "customer", c, "code"));
    env.run(&["done", "activity", "999"]).code(3);
    env.run(&["log", "customer", &cs, " "])
        .code(2)
        .one_error_line();
    env.run(&["log", "customer", "NOPE", "x"]).code(3);
}

#[test]
fn ticket_transitions_resolve_time_and_satisfaction() {
    let env = Env::new();
    env.add_user("svc", "service");
    env.add_user("rep", "sales");
    let c = customer(&env, "己公司").to_string();
    let t = env.add(
        "ticket",
        &[
            "--customer",
            &c,
            "--subject",
            "无法登录",
            "--priority",
            "high",
        ],
    );
    let ts = t.to_string();
    assert!(
        field(&env, "ticket", t, "number")
            .as_str()
            .unwrap()
            .starts_with('T')
    );
    assert_eq!(field(&env, "ticket", t, "status"), "new");
    assert!(field(&env, "ticket", t, "opened_at").is_string());
    env.run(&[
        "add",
        "ticket",
        "--customer",
        &c,
        "--subject",
        "s",
        "--satisfaction",
        "5",
    ])
    .code(4)
    .one_error_line();
    env.run(&["edit", "ticket", &ts, "--assignee", "rep"])
        .code(4)
        .one_error_line();
    env.run(&[
        "edit",
        "ticket",
        &ts,
        "--assignee",
        "svc",
        "--status",
        "open",
    ])
    .ok();
    env.run(&["edit", "ticket", &ts, "--satisfaction", "4"])
        .code(4)
        .one_error_line();
    env.run(&["edit", "ticket", &ts, "--status", "new"])
        .code(4)
        .one_error_line();
    env.run(&["edit", "ticket", &ts, "--status", "pending"])
        .ok();
    env.run(&["edit", "ticket", &ts, "--status", "open"]).ok();
    assert!(field(&env, "ticket", t, "resolved_at").is_null());
    env.run(&["edit", "ticket", &ts, "--status", "resolved"])
        .ok();
    assert!(field(&env, "ticket", t, "resolved_at").is_string());
    env.run(&["edit", "ticket", &ts, "--satisfaction", "6"])
        .code(4);
    env.run(&["edit", "ticket", &ts, "--satisfaction", "4"])
        .ok();
    // Reopened: the resolve time and the survey belong to the old resolution.
    env.run(&["edit", "ticket", &ts, "--status", "open"]).ok();
    assert!(field(&env, "ticket", t, "resolved_at").is_null());
    assert!(field(&env, "ticket", t, "satisfaction").is_null());
    env.run(&[
        "edit",
        "ticket",
        &ts,
        "--status",
        "closed",
        "--satisfaction",
        "5",
    ])
    .ok();
    assert_eq!(field(&env, "ticket", t, "satisfaction"), 5);
    assert!(field(&env, "ticket", t, "resolved_at").is_string());
    // Closed is final.
    let r = env.run(&["edit", "ticket", &ts, "--status", "open"]);
    r.code(4).one_error_line();
    assert!(r.stderr.contains("closed is final"), "{}", r.stderr);
    // Any status on insert (imported history), with the survey once finished.
    let old = env.add(
        "ticket",
        &[
            "--customer",
            &c,
            "--subject",
            "历史",
            "--status",
            "resolved",
            "--satisfaction",
            "3",
        ],
    );
    assert!(field(&env, "ticket", old, "resolved_at").is_string());
}
