//! B4: size extremes for import: a 0-byte file and a header-only file are clean no-ops; 10,000
//! columns and a 2 MB line without a newline are refused with exit 4, one error line naming
//! the line, in bounded memory (`ulimit -v`), with nothing written.

use crate::harness::{Env, write};

/// Runs `crm import customer FILE ARGS…` under a 256 MiB address-space limit.
fn import_bounded(env: &Env, file: &str, extra: &str) -> crate::harness::Run {
    env.sh(&format!(
        "ulimit -v 262144; exec \"$CRM\" import customer {file} {extra}"
    ))
}

fn customers(env: &Env) -> i64 {
    env.count("customer")
}

#[test]
fn empty_and_header_only_files_are_clean_no_ops() {
    let env = Env::new();
    write(&env.path("empty.csv"), "");
    write(&env.path("header.csv"), "name,code,city\n");
    write(&env.path("header_nonl.csv"), "客户名称,code");
    let audit = env.audit_total();
    for f in ["empty.csv", "header.csv", "header_nonl.csv"] {
        let r = env.run(&["import", "customer", f]);
        r.ok();
        assert!(!r.stderr.contains("error"), "{f}: {}", r.stderr);
        assert!(
            r.stdout.is_empty(),
            "{f}: stdout holds only data: {}",
            r.stdout
        );
        assert!(r.stderr.contains("0 rows"), "{f}: a summary: {}", r.stderr);
        assert_eq!(customers(&env), 0);
    }
    // a no-op writes no records and no per-field audit rows
    assert_eq!(env.audits(&[("entity", "customer")]), 0);
    assert!(env.audit_total() - audit <= 3);
}

#[test]
fn ten_thousand_columns_are_refused_in_one_line_or_read_in_bounded_memory() {
    let env = Env::new();
    let header: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
    let row = vec!["x"; 10_000].join(",");
    write(
        &env.path("wide.csv"),
        format!("{}\n{row}\n", header.join(",")),
    );
    let r = import_bounded(&env, "wide.csv", "");
    r.code(4).one_error_line();
    assert!(r.stderr.contains("line 1"), "{}", r.stderr);
    assert!(
        r.stderr.len() < 4_000,
        "a bounded message: {} bytes",
        r.stderr.len()
    );
    // with --ignore-unknown and a name column, the extra 10,000 columns are skipped
    write(
        &env.path("wide_named.csv"),
        format!("name,{}\n宽表客户,{row}\n", header.join(",")),
    );
    import_bounded(&env, "wide_named.csv", "--ignore-unknown -q").ok();
    assert_eq!(customers(&env), 1);
    assert_eq!(env.count_where("customer", &["name=宽表客户"]), 1);
}

#[test]
fn a_two_megabyte_line_without_newline_is_exit_4_with_its_line_number() {
    let env = Env::new();
    let huge = "长".repeat(700_000); // 2.1 MB of UTF-8
    // a data row: one 2 MB field, no newline at the end of the file
    write(&env.path("row.csv"), format!("name,code\nok,C1\n{huge},C2"));
    let r = import_bounded(&env, "row.csv", "");
    r.code(4).one_error_line();
    assert!(r.stderr.contains("line 3"), "names the line: {}", r.stderr);
    assert!(r.stderr.contains("limit"), "{}", r.stderr);
    assert!(
        r.stderr.len() < 4_000,
        "no echo of the value: {} bytes",
        r.stderr.len()
    );
    assert_eq!(customers(&env), 0, "abort mode: nothing written");
    // an unterminated quote swallowing 2 MB to the end of the file
    write(
        &env.path("quote.csv"),
        format!("name,code\nok,C1\n\"{huge}"),
    );
    let r = import_bounded(&env, "quote.csv", "");
    r.code(4).one_error_line();
    assert!(r.stderr.contains("line 3"), "names the line: {}", r.stderr);
    assert!(r.stderr.len() < 4_000, "{} bytes", r.stderr.len());
    // a whole file that is one 2 MB header line
    write(&env.path("one_line.csv"), "n".repeat(2_000_000));
    let r = import_bounded(&env, "one_line.csv", "");
    r.code(4).one_error_line();
    assert!(r.stderr.contains("line 1"), "{}", r.stderr);
    assert!(
        r.stderr.len() < 4_000,
        "no echo of the header: {} bytes",
        r.stderr.len()
    );
    assert_eq!(customers(&env), 0);
}
