//! Review of issue 8 items 13–26 through the binary: defects found by trying each item's scenario
//! as a new user would, one test per defect class.

use crate::core_prompts::Pty;
use crate::harness::{Env, write};

/// A command's own long help (the audit log's limits) survives the examples appended to it.
#[test]
fn long_help_keeps_the_commands_own_text_beside_its_examples() {
    let env = Env::empty();
    let r = env.run(&["audit", "--help"]);
    r.ok();
    // clap wraps the text at the terminal width.
    let text = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("recompute the hash chain"),
        "audit --help lost what a file's writer can still do:\n{}",
        r.stdout
    );
    assert!(r.stdout.contains("crm audit --head"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("Examples:").count(), 1, "{}", r.stdout);
}

/// A contact's customer column is labelled 所属客户 and every other record's 客户: a Chinese
/// spreadsheet may use either for any record.
#[test]
fn customer_reference_reads_either_chinese_label_on_every_entity() {
    let env = Env::new();
    let cust = env.add("customer", &["--name", "甲公司", "--code", "C1"]);
    assert!(cust > 0);
    let contacts = env.path("contacts.csv");
    write(&contacts, "客户,姓名\nC1,张三\n");
    env.run(&["import", "contact", contacts.to_str().expect("utf-8")])
        .ok();
    let opps = env.path("opps.csv");
    write(&opps, "所属客户,机会名称\nC1,首单\n");
    env.run(&["import", "opportunity", opps.to_str().expect("utf-8")])
        .ok();
    assert_eq!(
        env.count_where("contact", &["customer=1"])
            + env.count_where("opportunity", &["customer=1"]),
        2
    );
}

/// A generated key is never a deleted record's: an old export's `C000002` must not re-import
/// onto a newer customer (by `add`, and by an import after a revert).
#[test]
fn generated_keys_never_reuse_a_deleted_records_key() {
    let env = Env::new();
    env.add("customer", &["--name", "甲"]);
    env.add("customer", &["--name", "乙"]);
    env.run(&["delete", "customer", "2", "--yes"]).ok();
    env.add("customer", &["--name", "丙"]);
    assert_eq!(
        env.count_where("customer", &["code=C000002"]),
        0,
        "a new customer took the deleted customer's code"
    );
    let f = env.path("c.csv");
    write(&f, "name\n丁\n");
    env.run(&["import", "customer", f.to_str().expect("utf-8")])
        .ok();
    env.run(&["import", "revert", "1"]).ok();
    env.run(&["import", "customer", f.to_str().expect("utf-8")])
        .ok();
    assert_eq!(
        env.count_where("customer", &["code=C000004"]),
        0,
        "an import took the code of a record a revert deleted"
    );
}

/// `--color always` colours every error, a usage error found while parsing the arguments
/// (an unknown entity, a bad flag) included; `never` and `NO_COLOR` keep them plain.
#[test]
fn color_always_colours_usage_errors_too() {
    let env = Env::empty();
    for args in [
        &["find", "custmer", "--color", "always"][..],
        &["--color=always", "find", "customer", "--bogus"][..],
        &[
            "find",
            "customer",
            "--busy-timeout",
            "99999",
            "--color",
            "always",
        ][..],
    ] {
        let r = env.run(args);
        assert!(
            r.stderr.starts_with("\x1b[31merror:\x1b[0m "),
            "{args:?}: {:?}",
            r.stderr
        );
    }
    let r = env.run(&["find", "custmer", "--color", "never"]);
    r.code(2);
    assert!(r.stderr.starts_with("error: "), "{:?}", r.stderr);
}

/// The audit trail of one record at 80 columns keeps what changed (field, old, new) and drops
/// the entity and id the filter already names, as agenda keeps owner and when.
#[test]
fn audit_table_at_80_columns_keeps_old_and_new_values() {
    let env = Env::new();
    let id = env.add(
        "customer",
        &["--name", "深圳前海微众科技有限公司", "--city", "深圳"],
    );
    env.run(&["edit", "customer", &id.to_string(), "--city", "广州"])
        .ok();
    // A delete keeps the whole record as JSON in `old`: long, but it must not push the rest out.
    env.run(&["delete", "customer", &id.to_string(), "--yes"])
        .ok();
    let screen = Pty::screen_at(&env, 80, &format!("audit --entity customer --id {id}"));
    let header = screen
        .lines()
        .find(|l| l.starts_with('│') && l.contains("field"))
        .unwrap_or_else(|| panic!("no table header:\n{screen}"));
    for col in ["at", "action", "field", "old", "new"] {
        assert!(
            header
                .split('┆')
                .any(|c| c.trim().trim_matches('│').trim() == col),
            "{col} dropped:\n{screen}"
        );
    }
    assert!(screen.contains("广州"), "{screen}");
    // Narrower still, the field stays with its old and new values.
    let screen = Pty::screen_at(&env, 60, &format!("audit --entity customer --id {id}"));
    let header = screen
        .lines()
        .find(|l| l.starts_with('│') && l.contains("old"))
        .unwrap_or_else(|| panic!("no table header:\n{screen}"));
    assert!(header.contains("field"), "field dropped:\n{screen}");
}

/// Search text is trimmed as stored text is (ASCII and full-width spaces): a pasted
/// `　科技 ` finds what `科技` finds.
#[test]
fn find_text_is_trimmed_like_stored_text() {
    let env = Env::new();
    env.add("customer", &["--name", "深圳腾达科技有限公司"]);
    for text in ["科技", " 科技 ", "\u{3000}科技\u{3000}"] {
        let r = env.run(&["find", "customer", text, "--count"]);
        r.ok();
        assert_eq!(r.stdout.trim(), "1", "find {text:?}");
    }
}

/// JSON piped to `import -` is read as CSV (no extension says otherwise): the error says to
/// pass `--format json`/`jsonl` instead of listing the fields for a column named `[`.
#[test]
fn json_read_as_csv_hints_the_format_flag() {
    let env = Env::new();
    for input in ["[\n  {\"name\":\"甲\"}\n]\n", "{\"name\":\"甲\"}\n"] {
        let r = env.run_stdin(&["import", "customer", "-"], input);
        r.code(4).one_error_line();
        assert!(r.stderr.contains("--format json"), "{}", r.stderr);
    }
    env.run_stdin(
        &["import", "customer", "-", "--format", "jsonl"],
        "{\"name\":\"甲\"}\n",
    )
    .ok();
}

/// `import history` at 80 columns keeps each batch's counts (inserted, updated, rejected),
/// dropping the encoding and mode first, as agenda keeps owner and when.
#[test]
fn import_history_at_80_columns_keeps_the_counts() {
    let env = Env::new();
    let f = env.path("客户导入-二〇二六年十一月.csv");
    write(&f, "name\n甲\n乙\n");
    env.run(&["import", "customer", f.to_str().expect("utf-8")])
        .ok();
    let screen = Pty::screen_at(&env, 80, "import history");
    let header = screen
        .lines()
        .find(|l| l.starts_with('│') && l.contains("batch"))
        .unwrap_or_else(|| panic!("no table header:\n{screen}"));
    for col in ["at", "inserted", "updated", "rejected"] {
        assert!(
            header
                .split('┆')
                .any(|c| c.trim().trim_matches('│').trim() == col),
            "{col} dropped:\n{screen}"
        );
    }
}

/// The Chinese names the README gives (跟进计划, 售后服务, 销售线索) and the common 商机 and
/// 工单 name their entity wherever ENTITY is taken, as the labels do.
#[test]
fn common_chinese_entity_names_are_accepted() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "甲"]).to_string();
    env.run(&["add", "工单", "--customer", &c, "--subject", "坏了", "-q"])
        .ok();
    env.run(&[
        "add",
        "跟进计划",
        "--customer",
        &c,
        "--subject",
        "回访",
        "-q",
    ])
    .ok();
    for (name, n) in [
        ("售后服务", "1"),
        ("工单", "1"),
        ("跟进计划", "1"),
        ("商机", "0"),
        ("销售线索", "0"),
    ] {
        let r = env.run(&["find", name, "--count"]);
        r.ok();
        assert_eq!(r.stdout.trim(), n, "find {name}");
    }
    env.run(&["audit", "--entity", "工单", "--id", "1"]).ok();
}

/// Without --format, `export -o FILE` writes what FILE's extension names, as import reads it:
/// `-o customers.json` is a JSON array that `import customer customers.json` reads back.
#[test]
fn export_to_a_json_or_tsv_file_writes_that_format() {
    let env = Env::new();
    env.add("customer", &["--name", "甲", "--code", "C1"]);
    let json = env.path("customers.json");
    let json_s = json.to_str().expect("utf-8");
    env.run(&["export", "customer", "-o", json_s]).ok();
    let text = std::fs::read_to_string(&json).expect("read");
    assert!(text.trim_start().starts_with('['), "{text}");
    let tsv = env.path("customers.tsv");
    env.run(&["export", "customer", "-o", tsv.to_str().expect("utf-8")])
        .ok();
    let text = std::fs::read_to_string(&tsv).expect("read");
    assert!(text.starts_with("code\tname\t"), "{text}");
    // CRM_FORMAT=json (a script's preference for output) does not turn a .csv into JSON.
    let env_csv = env.path("env.csv");
    env.run_env(
        &["export", "customer", "-o", env_csv.to_str().expect("utf-8")],
        &[("CRM_FORMAT", "json")],
    )
    .ok();
    assert!(
        std::fs::read_to_string(&env_csv)
            .expect("read")
            .starts_with("code,name,")
    );
    // An explicit --format still wins.
    let csv = env.path("forced.json");
    env.run(&[
        "export",
        "customer",
        "-o",
        csv.to_str().expect("utf-8"),
        "--format",
        "csv",
    ])
    .ok();
    assert!(
        std::fs::read_to_string(&csv)
            .expect("read")
            .starts_with("code,name,")
    );
    env.run(&[
        "import", "customer", json_s, "--mode", "upsert", "--key", "code",
    ])
    .ok();
}

/// Each table of a command names the columns it leaves out on a narrow terminal, not only
/// the first: `show` (and agenda's sections) drop different columns per table.
#[test]
fn every_narrowed_table_names_what_it_left_out() {
    let env = Env::new();
    let c = env
        .add(
            "customer",
            &[
                "--name",
                "深圳前海微众科技有限公司",
                "--phone",
                "0755-86013388",
            ],
        )
        .to_string();
    env.add(
        "contact",
        &[
            "--customer",
            &c,
            "--name",
            "张伟",
            "--title",
            "采购总监",
            "--mobile",
            "13912345678",
            "--email",
            "zhang.wei@qianhai-tech.example.cn",
        ],
    );
    env.add(
        "opportunity",
        &[
            "--customer",
            &c,
            "--name",
            "核心系统扩容二期工程",
            "--amount",
            "480000",
            "--expected-close",
            "2026-12-20",
        ],
    );
    let screen = Pty::screen_at(&env, 50, &format!("show customer {c}"));
    let noted: Vec<&str> = screen
        .lines()
        .filter_map(|l| l.strip_prefix("note: not shown for lack of width: "))
        .collect();
    assert!(noted.len() >= 2, "one note per narrowed table:\n{screen}");
}
