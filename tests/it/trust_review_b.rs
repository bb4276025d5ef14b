//! Review of issue 8 items 13–26 through the binary: defects found by trying each item's scenario
//! as a new user would, one test per defect class.

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
        env.sql_int("SELECT count(*) FROM contact WHERE customer = 1")
            + env.sql_int("SELECT count(*) FROM opportunity WHERE customer = 1"),
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
        env.sql_int("SELECT count(*) FROM customer WHERE code = 'C000002'"),
        0,
        "a new customer took the deleted customer's code"
    );
    let f = env.path("c.csv");
    write(&f, "name\n丁\n");
    env.run(&["import", "customer", f.to_str().expect("utf-8")]).ok();
    env.run(&["import", "revert", "1"]).ok();
    env.run(&["import", "customer", f.to_str().expect("utf-8")]).ok();
    assert_eq!(
        env.sql_int("SELECT count(*) FROM customer WHERE code = 'C000004'"),
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
        &["find", "customer", "--busy-timeout", "99999", "--color", "always"][..],
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
