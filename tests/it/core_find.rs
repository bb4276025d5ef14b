//! `crm find`: text search (Chinese included, LIKE wildcards literal), typed `--where`,
//! `--sort`, paging, `--columns`, `--count`, formats, closed pipes.

use crate::harness::Env;

fn names(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn seeded() -> Env {
    let env = Env::new();
    env.add(
        "customer",
        &[
            "--name",
            "深圳腾达科技有限公司",
            "--city",
            "深圳",
            "--level",
            "A",
            "--tags",
            "vip;华南",
            "--code",
            "K1",
        ],
    );
    env.add(
        "customer",
        &[
            "--name",
            "50% Discount Store",
            "--level",
            "B",
            "--tags",
            "retail",
            "--code",
            "K2",
        ],
    );
    env.add(
        "customer",
        &[
            "--name",
            "50 Percent Ltd",
            "--level",
            "C",
            "--tags",
            "vip2",
            "--code",
            "K3",
        ],
    );
    env.add(
        "customer",
        &[
            "--name",
            "under_score co",
            "--email",
            "Boss@Example.com",
            "--code",
            "K4",
        ],
    );
    env
}

#[test]
fn text_search_chinese_case_and_literal_wildcards() {
    let env = seeded();
    let j = env
        .run(&["find", "customer", "科技", "--format", "json"])
        .ok()
        .json();
    assert_eq!(names(&j), ["深圳腾达科技有限公司"]);
    let j = env
        .run(&["find", "customer", "50%", "--format", "json"])
        .ok()
        .json();
    assert_eq!(names(&j), ["50% Discount Store"], "% is literal");
    let j = env
        .run(&["find", "customer", "e_c", "--format", "json"])
        .ok()
        .json();
    assert!(names(&j).is_empty(), "_ is literal");
    let j = env
        .run(&["find", "customer", "der_sc", "--format", "json"])
        .ok()
        .json();
    assert_eq!(names(&j), ["under_score co"]);
    let j = env
        .run(&["find", "customer", "boss@example", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        names(&j),
        ["under_score co"],
        "case-insensitive over email too"
    );
    let j = env
        .run(&["find", "customer", "DISCOUNT", "--format", "json"])
        .ok()
        .json();
    assert_eq!(names(&j), ["50% Discount Store"]);
    let j = env
        .run(&[
            "find",
            "customer",
            "'; DROP TABLE customer;--",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert!(names(&j).is_empty());
    assert_eq!(env.count("customer"), 4);
}

#[test]
fn typed_where_sort_paging_columns_count() {
    let env = seeded();
    let j = env
        .run(&[
            "find",
            "customer",
            "--where",
            "level>=B",
            "--sort",
            "level:desc",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(names(&j), ["50 Percent Ltd", "50% Discount Store"]);
    let j = env
        .run(&[
            "find", "customer", "--where", "tags=vip", "--format", "json",
        ])
        .ok()
        .json();
    assert_eq!(
        names(&j),
        ["深圳腾达科技有限公司"],
        "tags membership, not substring (vip2)"
    );
    let j = env
        .run(&[
            "find",
            "customer",
            "--where",
            "tags!=vip",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(j.as_array().unwrap().len(), 3);
    let j = env
        .run(&[
            "find", "customer", "--where", "city~圳", "--where", "level=A", "--format", "json",
        ])
        .ok()
        .json();
    assert_eq!(j.as_array().unwrap().len(), 1);
    let j = env
        .run(&["find", "customer", "--where", "city=", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        j.as_array().unwrap().len(),
        3,
        "FIELD= matches an empty field"
    );
    let j = env
        .run(&[
            "find",
            "customer",
            "--sort",
            "code:desc",
            "--limit",
            "2",
            "--offset",
            "1",
            "--columns",
            "code,name",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(
        j,
        serde_json::json!([{"code": "K3", "name": "50 Percent Ltd"}, {"code": "K2", "name": "50% Discount Store"}])
    );
    let r = env.run(&["find", "customer", "50", "--count"]);
    assert_eq!(r.ok().stdout, "2\n");
    let csv = env
        .run(&[
            "find",
            "customer",
            "--columns",
            "code,tags",
            "--format",
            "csv",
            "--sort",
            "code",
        ])
        .ok()
        .stdout
        .clone();
    assert_eq!(csv.lines().next().unwrap(), "code,tags");
    assert_eq!(csv.lines().nth(1).unwrap(), "K1,vip;华南");
    let tsv = env
        .run(&[
            "find",
            "customer",
            "--columns",
            "code,name",
            "--format",
            "tsv",
            "--sort",
            "code",
            "--limit",
            "1",
        ])
        .ok()
        .stdout
        .clone();
    assert_eq!(tsv, "code\tname\nK1\t深圳腾达科技有限公司\n");
    // unknown fields are usage errors
    for args in [
        ["--where", "bogus=1"],
        ["--sort", "bogus"],
        ["--columns", "code,bogus"],
        ["--where", "name"],
        ["--sort", "name:sideways"],
    ] {
        let mut a = vec!["find", "customer"];
        a.extend_from_slice(&args);
        env.run(&a).code(2).one_error_line();
    }
    env.run(&["find", "nosuch"]).code(2).one_error_line();
    env.run(&["find", "customer", "--where", "created_at>notadate"])
        .code(2)
        .one_error_line();
}

#[test]
fn where_compares_money_as_numbers_and_dates_as_dates() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "buyer"]).to_string();
    let o = |name: &str, amount: &str, close: &str| {
        env.add(
            "opportunity",
            &[
                "--customer",
                &c,
                "--name",
                name,
                "--amount",
                amount,
                "--expected-close",
                close,
            ],
        );
    };
    o("nine", "9", "2026-1-5");
    o("ten", "10.00", "2026/02/01");
    o("hundred", "100.5", "2025年12月31日");
    let pick = |w: &str| {
        let mut v = names(
            &env.run(&[
                "find",
                "opportunity",
                "--where",
                w,
                "--format",
                "json",
                "--sort",
                "amount",
            ])
            .ok()
            .json(),
        );
        v.sort();
        v
    };
    assert_eq!(
        pick("amount>9.5"),
        ["hundred", "ten"],
        "as text '9' > '10'; as numbers not"
    );
    assert_eq!(pick("amount>=100.50"), ["hundred"]);
    assert_eq!(pick("amount<10"), ["nine"]);
    assert_eq!(pick("expected_close<2026-01-10"), ["hundred", "nine"]);
    assert_eq!(pick("expected_close>=2026/2/1"), ["ten"]);
    let j = env
        .run(&[
            "find",
            "opportunity",
            "--sort",
            "amount:desc",
            "--columns",
            "amount",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(
        j,
        serde_json::json!([{"amount": "100.50"}, {"amount": "10.00"}, {"amount": "9.00"}])
    );
    env.run(&["find", "opportunity", "--where", "amount>ten"])
        .code(2)
        .one_error_line();
}

#[test]
fn closed_pipe_is_success_and_no_panic() {
    let env = Env::new();
    for i in 0..40 {
        env.add(
            "customer",
            &[
                "--name",
                &format!("customer number {i} {}", "x".repeat(3000)),
            ],
        );
    }
    let r = env.sh("$CRM find customer | head -1; echo \"rc=${PIPESTATUS:-$?}\"");
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let r = env.sh("set -o pipefail 2>/dev/null; $CRM find customer --format json | head -c 10 >/dev/null; echo rc=$?");
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("Broken pipe"),
        "{}",
        r.stderr
    );
    // the exit status of crm itself, through a fifo-free trick: run it, close the read end early
    let r = env.sh("$CRM find customer --format csv | (head -c 1 >/dev/null); echo done");
    r.ok();
    let r =
        env.sh("( $CRM find customer --format json; echo \"crm=$?\" >&2 ) | head -c 10 >/dev/null");
    assert!(
        r.stderr.contains("crm=0"),
        "crm exits 0 on a closed pipe: {}",
        r.stderr
    );
    let r = env.sh("( $CRM find customer; echo \"crm=$?\" >&2 ) | head -1 >/dev/null");
    assert!(r.stderr.contains("crm=0"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
}

#[test]
fn no_color_and_no_ansi_when_not_a_terminal() {
    let env = seeded();
    for args in [
        vec!["find", "customer"],
        vec!["show", "customer", "nope"],
        vec!["find", "customer", "--color", "auto"],
    ] {
        let r = env.run(&args);
        assert!(
            !r.stdout.contains('\x1b') && !r.stderr.contains('\x1b'),
            "{r:?}"
        );
    }
    let r = env.run_env(&["show", "customer", "nope"], &[("NO_COLOR", "")]);
    assert!(!r.stderr.contains('\x1b'), "stderr is not a terminal");
}

#[test]
fn streamed_formats_are_complete_documents() {
    let env = seeded();
    let j = env
        .run(&["find", "customer", "--format", "json", "--sort", "code"])
        .ok()
        .json();
    assert_eq!(j.as_array().unwrap().len(), 4);
    assert_eq!(j[0]["tags"], serde_json::json!(["vip", "华南"]));
    let empty = env.run(&["find", "customer", "nothing-matches", "--format", "json"]);
    assert_eq!(empty.ok().stdout, "[]\n");
    let lines = env
        .run(&[
            "find",
            "customer",
            "--format",
            "jsonl",
            "--columns",
            "code",
            "--sort",
            "code",
        ])
        .ok()
        .stdout
        .clone();
    assert_eq!(
        lines,
        "{\"code\":\"K1\"}\n{\"code\":\"K2\"}\n{\"code\":\"K3\"}\n{\"code\":\"K4\"}\n"
    );
    let csv = env.run(&[
        "find",
        "customer",
        "nothing-matches",
        "--format",
        "csv",
        "--columns",
        "code,name",
    ]);
    assert_eq!(csv.ok().stdout, "code,name\n");
    // --db and --format after the subcommand, --busy-timeout checked
    let db = env.db.to_str().unwrap().to_string();
    let r = env.run(&["find", "customer", "--count", "--db", &db]);
    assert_eq!(r.ok().stdout, "4\n");
    env.run(&["find", "customer", "--busy-timeout", "100000"])
        .code(2)
        .one_error_line();
    env.run(&["find", "customer", "--busy-timeout", "soon"])
        .code(2)
        .one_error_line();
    // a table without a terminal: Markdown-style, Chinese aligned by display width
    let t = env
        .run(&[
            "find",
            "customer",
            "--columns",
            "code,name",
            "--sort",
            "code",
        ])
        .ok()
        .stdout
        .clone();
    let first = t.lines().next().unwrap();
    assert_eq!(first.trim_end(), first);
    assert!(
        t.lines()
            .nth(2)
            .unwrap()
            .starts_with("| K1   | 深圳腾达科技有限公司 |"),
        "{t}"
    );
    assert!(
        t.lines()
            .nth(3)
            .unwrap()
            .starts_with("| K2   | 50% Discount Store   |"),
        "{t}"
    );
}
