//! What a new user meets in plain output: agenda tables that say why, `add --line` showing
//! its lines, `--ttl` bounded by the whole lifetime, `demo` ending with what to try.

use crate::harness::{Env, PW};

#[test]
fn agenda_tables_lead_with_what_and_why() {
    let env = Env::empty();
    let demo = env.path("demo.db");
    let demo = demo.to_str().unwrap();
    let now = [("CRM_TEST_NOW", "2026-11-26T09:00:00+08:00")];
    let r = env.run_env(&["demo", "--path", demo], &now);
    r.ok();
    // The sample comes first on stdout; the next steps are the last lines on stderr.
    assert!(r.stdout.contains("C000001"), "{}", r.stdout);
    assert!(
        r.stderr.trim_end().ends_with("password: demo-password"),
        "{}",
        r.stderr
    );
    let agenda = |extra: &[&str]| {
        let mut args = vec!["--db", demo, "agenda", "--as-of", "2026-11-26"];
        args.extend_from_slice(extra);
        env.run_env(&args, &now).ok().stdout.clone()
    };
    let out = agenda(&[]);
    let headers: Vec<&str> = out.lines().filter(|l| l.starts_with("| id ")).collect();
    assert_eq!(headers.len(), 5, "{out}");
    for h in &headers {
        let cols: Vec<&str> = h
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(&cols[..2], ["id", "subject"], "{h}");
        assert!(cols.contains(&"why"), "{h}");
        assert!(!cols.contains(&"customer_name"), "{h}");
    }
    // Follow-ups carry no number and the customers group is the customer itself: the
    // columns empty for a whole group are left out.
    let section = |title: &str| {
        let start = out.find(title).unwrap_or_else(|| panic!("{title}:\n{out}"));
        out[start..].lines().nth(1).unwrap().to_string()
    };
    assert!(!section("Follow-ups").contains("number"), "{out}");
    // The state column is named for what it holds: a follow-up's type, a deal's stage.
    assert!(
        section("Follow-ups").ends_with("| owner      | type |"),
        "{out}"
    );
    assert!(section("Open opportunities").contains("| stage "), "{out}");
    assert!(!section("Customers without").contains("customer"), "{out}");
    assert!(section("Contracts ending").contains("number"), "{out}");
    assert!(!out.contains("day(s)"), "{out}");
    assert!(out.contains(" days"), "{out}");
    // Date-times in tables read to the minute; JSON keeps RFC 3339.
    assert!(!out.contains("T10:00:00"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&agenda(&["--format", "json"])).unwrap();
    assert!(
        json["followups"][0]["when"]
            .as_str()
            .unwrap()
            .contains("+08:00"),
        "{json}"
    );
    let zh = agenda(&["--lang", "zh"]);
    assert!(zh.contains("| 编号 | 主题 ") && zh.contains("说明"), "{zh}");
    assert!(
        zh.contains("| 跟进方式 |") && zh.contains("| 任务 "),
        "{zh}"
    );
    assert!(
        zh.contains("紧急：已受理") && !zh.contains("urgent"),
        "{zh}"
    );
}

#[test]
fn add_with_lines_shows_them() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "ACME"]).to_string();
    env.add(
        "product",
        &["--code", "P1", "--name", "服务器", "--unit-price", "100"],
    );
    env.add(
        "product",
        &["--code", "P2", "--name", "许可", "--unit-price", "9.50"],
    );
    let r = env.run(&[
        "add",
        "order",
        "--customer",
        &c,
        "--line",
        "P1:2",
        "--line",
        "P2:4",
    ]);
    r.ok();
    assert!(
        r.stderr.contains("created order 1 (SO000001)"),
        "{}",
        r.stderr
    );
    let lines = &r.stdout[r.stdout.find("Order lines (2)").expect(&r.stdout)..];
    let rows: Vec<&str> = lines.lines().skip(3).collect();
    assert_eq!(rows.len(), 2, "{lines}");
    assert!(
        rows[0].contains("P1") && rows[0].contains("200.00"),
        "{lines}"
    );
    assert!(
        rows[1].contains("P2") && rows[1].contains("38.00"),
        "{lines}"
    );
    // JSON stays the one object the contract promises.
    let j = env
        .run(&[
            "add",
            "quote",
            "--customer",
            &c,
            "--line",
            "P1:1",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(j["amount"], "100.00");
    assert!(j.get("related").is_none());
}

#[test]
fn ttl_bounds_empty_results_and_entity_names() {
    let env = Env::new();
    let login = |ttl: &str| {
        env.run_stdin(
            &[
                "login",
                "--user",
                "admin",
                "--password-stdin",
                "--print-token",
                "--ttl",
                ttl,
            ],
            PW,
        )
    };
    login("600m").ok();
    login("366d").ok();
    login("367d").code(2).one_error_line();
    // An empty result says so on stderr; stdout keeps just the (empty) data.
    let r = env.run(&["find", "customer", "nothing-like-this"]);
    r.ok();
    assert!(r.stderr.contains("no customer matches"), "{}", r.stderr);
    assert!(!r.stdout.contains("matches"), "{}", r.stdout);
    let r = env.run(&["find", "customer", "nothing-like-this", "--format", "json"]);
    assert_eq!(r.ok().stdout.trim(), "[]");
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    // An agenda with nothing in it says so in one line; JSON still has every group.
    let quiet = env.run(&["agenda", "--as-of", "2026-11-26"]);
    assert_eq!(
        quiet.ok().stdout,
        "Nothing needs attention as of 2026-11-26.\n"
    );
    let j = env
        .run(&["agenda", "--as-of", "2026-11-26", "--format", "json"])
        .ok()
        .json();
    assert_eq!(j["followups"], serde_json::json!([]));
    // Entity names are checked by the parser: the list is in the error, any case and
    // `quote-line` for `quote_line` still work.
    let r = env.run(&["show", "customers", "1"]);
    r.code(2).one_error_line();
    assert!(
        r.stderr
            .contains("did you mean 'customer'? entities: customer, contact"),
        "{}",
        r.stderr
    );
    assert_eq!(env.run(&["find", "Customer", "--count"]).ok().stdout, "0\n");
    assert_eq!(
        env.run(&["find", "quote-line", "--count"]).ok().stdout,
        "0\n"
    );
    // bash completes the entity names after `crm show`.
    let bash = env.run(&["completions", "bash"]).ok().stdout.clone();
    let show = &bash[bash.find("crm__subcmd__show)").expect("show is completed")..];
    let opts = show.lines().nth(1).unwrap();
    assert!(opts.contains("--help customer contact campaign"), "{opts}");
    assert!(login("9000h").code(2).stderr.contains("1s to 366d"));
}
