//! Issue 8, import and export formats: one formula guard for every CSV/TSV crm writes
//! (`--raw` opts out), physical line numbers, rejects files in the input's encoding, JSON and
//! JSONL imports, Chinese headers and choice labels, and named ignored columns.

use crate::harness::{Env, write};

/// A customer whose text fields would run as spreadsheet formulas.
fn hostile_customer(env: &Env) {
    env.add(
        "customer",
        &[
            "--name",
            "=HYPERLINK(\"http://x\",\"y\")",
            "--code",
            "H1",
            "--city",
            "@SUM(1)",
            "--notes",
            "-2+3",
        ],
    );
}

#[test]
fn every_csv_neutralises_formulas_and_raw_opts_out() {
    let env = Env::new();
    hostile_customer(&env);
    env.add(
        "opportunity",
        &["--customer", "H1", "--name", "+deal", "--amount", "5"],
    );
    for fmt in ["csv", "tsv"] {
        let out = env.run(&["find", "customer", "--format", fmt]).ok().stdout.clone();
        assert!(out.contains("'=HYPERLINK"), "{fmt}: {out}");
        assert!(out.contains("'@SUM(1)") && out.contains("'-2+3"), "{out}");
        assert!(!out.contains(",=HYPERLINK") && !out.contains("\t=HYPERLINK"), "{out}");
        let raw = env.run(&["find", "customer", "--format", fmt, "--raw"]).ok().stdout.clone();
        assert!(!raw.contains("'=") && raw.contains("=HYPERLINK"), "{raw}");
    }
    // The same rule as export: text guarded, money (a plain number) never.
    let opp = env.run(&["find", "opportunity", "--format", "csv"]).ok().stdout.clone();
    assert!(opp.contains(",'+deal,") && opp.contains(",5.00,"), "{opp}");
    let export = env.run(&["export", "customer"]).ok().stdout.clone();
    assert!(export.contains("'=HYPERLINK") && export.contains("'-2+3"), "{export}");
    // One record (show) and reports go through the same writer.
    let show = env.run(&["show", "customer", "H1", "--format", "csv"]).ok().stdout.clone();
    assert!(show.contains("'=HYPERLINK"), "{show}");
    let report = env.run(&["report", "customers", "--format", "csv"]).ok().stdout.clone();
    assert!(report.contains("'@SUM(1)") && !report.contains(",@SUM"), "{report}");
    let report = env
        .run(&["report", "customers", "--format", "csv", "--raw"])
        .ok()
        .stdout
        .clone();
    assert!(report.contains(",@SUM(1)"), "{report}");
}

#[test]
fn rejects_file_neutralises_and_reads_back() {
    let env = Env::new();
    let input = env.path("in.csv");
    write(&input, "name,email\n=cmd|calc,bad\n'=kept,bad\nok,x@y.com\n");
    let rejects = env.path("rejects.csv");
    env.run(&[
        "import",
        "customer",
        input.to_str().expect("utf-8"),
        "--on-error",
        "skip",
        "--rejects",
        rejects.to_str().expect("utf-8"),
    ])
    .code(4);
    let text = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(text.contains("\n'=cmd|calc,bad,"), "{text}");
    // A value that was already guarded is not guarded twice: it reads back the same.
    assert!(text.contains("\n'=kept,bad,"), "{text}");
}

/// One bad row on the third physical line, in each line-ending style.
#[test]
fn line_numbers_are_physical_lines() {
    let env = Env::new();
    let cases: [(&str, &[u8], u32); 5] = [
        ("lf.csv", b"name,email\na,x@y.com\nb,bad\n", 3),
        ("crlf.csv", b"name,email\r\na,x@y.com\r\nb,bad\r\n", 3),
        ("cr.csv", b"name,email\ra,x@y.com\rb,bad\r", 3),
        (
            "quoted.csv",
            b"name,notes,email\r\na,\"two\r\nlines\",x@y.com\r\nb,,bad\r\n",
            4,
        ),
        (
            "quoted_cr.csv",
            b"\xEF\xBB\xBFname,notes,email\r\na,\"x\ry\",x@y.com\r\nb,,bad\r\n",
            4,
        ),
    ];
    for (name, bytes, line) in cases {
        let p = env.path(name);
        write(&p, bytes);
        let r = env.run(&["import", "customer", p.to_str().expect("utf-8"), "--dry-run"]);
        r.code(4);
        assert!(
            r.stderr.contains(&format!("line {line}: email")),
            "{name}: {}",
            r.stderr
        );
    }
    let gb = encoding_rs::GB18030
        .encode("客户名称,邮箱\r\n甲,x@y.com\r\n乙,\"坏\r\n\"\r\n丙,bad\r\n")
        .0
        .into_owned();
    let p = env.path("gb.csv");
    write(&p, gb);
    let r = env.run(&["import", "customer", p.to_str().expect("utf-8"), "--dry-run"]);
    assert!(
        r.stderr.contains("line 3: 邮箱") && r.stderr.contains("line 5: 邮箱"),
        "{}",
        r.stderr
    );
}

#[test]
fn rejects_keep_the_inputs_encoding_bom_and_line_endings() {
    let env = Env::new();
    let gb = encoding_rs::GB18030
        .encode("客户名称,邮箱\r\n甲,x@y.com\r\n乙,bad\r\n")
        .0
        .into_owned();
    let input = env.path("gb.csv");
    write(&input, gb);
    let rejects = env.path("gb-rejects.csv");
    let run = |input: &std::path::Path, rejects: &std::path::Path| {
        env.run(&[
            "import",
            "customer",
            input.to_str().expect("utf-8"),
            "--on-error",
            "skip",
            "--rejects",
            rejects.to_str().expect("utf-8"),
        ])
        .code(4);
        std::fs::read(rejects).expect("rejects")
    };
    let bytes = run(&input, &rejects);
    let (text, _, bad) = encoding_rs::GB18030.decode(&bytes);
    assert!(!bad && std::str::from_utf8(&bytes).is_err(), "GB18030, not UTF-8");
    assert_eq!(
        text,
        "客户名称,邮箱,error\r\n乙,bad,邮箱: 'bad' is not an email address\r\n"
    );
    // UTF-8 with a byte order mark keeps it; LF stays LF.
    let input = env.path("bom.csv");
    write(&input, "\u{FEFF}name,email\n丁,bad\n");
    let rejects = env.path("bom-rejects.csv");
    let bytes = run(&input, &rejects);
    assert!(bytes.starts_with(b"\xEF\xBB\xBFname,email,error\n"), "{bytes:?}");
    assert!(!bytes.contains(&b'\r'));
}
