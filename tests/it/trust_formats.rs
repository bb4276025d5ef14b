//! Issue 8, import and export formats: one formula guard for every CSV/TSV crm writes
//! (`--raw` opts out), physical line numbers, rejects files in the input's encoding, JSON and
//! JSONL imports, Chinese headers and choice labels, and named ignored columns.

use crate::harness::{Env, write};

/// A customer whose text fields would run as spreadsheet formulas.
/// A record's tags as stored: joined by `;` (crm's JSON lists them).
fn tags(r: &serde_json::Value) -> String {
    let t: Vec<&str> = r["tags"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str()).collect())
        .unwrap_or_default();
    t.join(";")
}

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
        let out = env
            .run(&["find", "customer", "--format", fmt])
            .ok()
            .stdout
            .clone();
        assert!(out.contains("'=HYPERLINK"), "{fmt}: {out}");
        assert!(out.contains("'@SUM(1)") && out.contains("'-2+3"), "{out}");
        assert!(
            !out.contains(",=HYPERLINK") && !out.contains("\t=HYPERLINK"),
            "{out}"
        );
        let raw = env
            .run(&["find", "customer", "--format", fmt, "--raw"])
            .ok()
            .stdout
            .clone();
        assert!(!raw.contains("'=") && raw.contains("=HYPERLINK"), "{raw}");
    }
    // The same rule as export: text guarded, money (a plain number) never.
    let opp = env
        .run(&["find", "opportunity", "--format", "csv"])
        .ok()
        .stdout
        .clone();
    assert!(opp.contains(",'+deal,") && opp.contains(",5.00,"), "{opp}");
    let export = env.run(&["export", "customer"]).ok().stdout.clone();
    assert!(
        export.contains("'=HYPERLINK") && export.contains("'-2+3"),
        "{export}"
    );
    // One record (show) and reports go through the same writer.
    let show = env
        .run(&["show", "customer", "H1", "--format", "csv"])
        .ok()
        .stdout
        .clone();
    assert!(show.contains("'=HYPERLINK"), "{show}");
    let report = env
        .run(&["report", "customers", "--format", "csv"])
        .ok()
        .stdout
        .clone();
    assert!(
        report.contains("'@SUM(1)") && !report.contains(",@SUM"),
        "{report}"
    );
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
    write(
        &input,
        "name,email\n=cmd|calc,bad\n'=kept,bad\nok,x@y.com\n",
    );
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
        let r = env.run(&[
            "import",
            "customer",
            p.to_str().expect("utf-8"),
            "--dry-run",
        ]);
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
    let r = env.run(&[
        "import",
        "customer",
        p.to_str().expect("utf-8"),
        "--dry-run",
    ]);
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
    assert!(
        !bad && std::str::from_utf8(&bytes).is_err(),
        "GB18030, not UTF-8"
    );
    assert_eq!(
        text,
        "客户名称,邮箱,error\r\n乙,bad,邮箱: 'bad' is not an email address\r\n"
    );
    // UTF-8 with a byte order mark keeps it; LF stays LF.
    let input = env.path("bom.csv");
    write(&input, "\u{FEFF}name,email\n丁,bad\n");
    let rejects = env.path("bom-rejects.csv");
    let bytes = run(&input, &rejects);
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBFname,email,error\n"),
        "{bytes:?}"
    );
    assert!(!bytes.contains(&b'\r'));
}

/// Customers and contacts with every kind JSON carries: tags, booleans, nulls, choices and
/// text that CSV would guard.
fn json_fixture(env: &Env) {
    env.add(
        "customer",
        &[
            "--name",
            "深圳科技",
            "--code",
            "J1",
            "--tags",
            "vip;华南",
            "--level",
            "A",
            "--notes",
            "'=kept as typed",
        ],
    );
    env.add(
        "customer",
        &["--name", "=SUM(1)", "--code", "J2", "--status", "active"],
    );
    env.add(
        "contact",
        &[
            "--customer",
            "J1",
            "--name",
            "李雷",
            "--is-primary",
            "true",
            "--mobile",
            "13800138000",
        ],
    );
    env.add("contact", &["--customer", "J2", "--name", "韩梅梅"]);
}

#[test]
fn json_and_jsonl_exports_import_back_unchanged() {
    let src = Env::new();
    json_fixture(&src);
    for fmt in ["json", "jsonl"] {
        let dest = Env::new();
        for entity in ["customer", "contact"] {
            let file = src.path(&format!("{entity}.{fmt}"));
            let f = file.to_str().expect("utf-8");
            src.run(&["export", entity, "--format", fmt, "-o", f]).ok();
            let r = dest.run(&["import", entity, f, "--format", "json"]);
            r.ok();
            let summary = r.json();
            assert_eq!(summary["inserted"], 2, "{fmt} {entity}: {summary}");
            let before = std::fs::read_to_string(&file).expect("export");
            let after = dest
                .run(&["export", entity, "--format", fmt])
                .ok()
                .stdout
                .clone();
            assert_eq!(before, after, "{fmt} {entity}");
        }
        // What was read is the stored value: tags, booleans, the apostrophe kept.
        let notes = dest
            .find("customer", &[])
            .iter()
            .filter(|c| c["notes"] == "'=kept as typed" && tags(c) == "vip;华南")
            .count();
        assert_eq!(notes, 1, "{fmt}");
        assert_eq!(dest.count_where("contact", &["is_primary=true"]), 1);
    }
    // stdin takes --format; a .txt file too.
    let dest = Env::new();
    let json = src
        .run(&["export", "customer", "--format", "json"])
        .ok()
        .stdout
        .clone();
    dest.run_stdin(&["import", "customer", "-", "--format", "json"], &json)
        .ok();
    assert_eq!(dest.count("customer"), 2);
    let jsonl = src
        .run(&["export", "customer", "--format", "jsonl"])
        .ok()
        .stdout
        .clone();
    let txt = dest.path("c.txt");
    write(&txt, jsonl);
    dest.run(&[
        "import",
        "customer",
        txt.to_str().expect("utf-8"),
        "--format",
        "jsonl",
        "--mode",
        "upsert",
    ])
    .ok();
    assert_eq!(dest.count("customer"), 2);
    // --format json (or CRM_FORMAT=json) with CSV on stdin still reads CSV: the flag also
    // asks for the JSON summary.
    let csv = dest.run_stdin(
        &["import", "customer", "-", "--format", "json"],
        "name\n丙\n",
    );
    assert_eq!(csv.ok().json()["inserted"], 1, "{}", csv.stderr);
}

#[test]
fn json_errors_name_the_record() {
    let env = Env::new();
    let jsonl = env.path("bad.jsonl");
    write(
        &jsonl,
        "{\"name\":\"a\",\"email\":\"bad\"}\r\n\r\n{\"name\":\"b\",\"level\":\"Z\"}\r\n{broken\r\n[1]\r\n{\"name\":\"ok\",\"tags\":[\"x\",\"y\"]}\r\n",
    );
    let rejects = env.path("rejects.jsonl");
    let r = env.run(&[
        "import",
        "customer",
        jsonl.to_str().expect("utf-8"),
        "--on-error",
        "skip",
        "--rejects",
        rejects.to_str().expect("utf-8"),
    ]);
    r.code(4);
    for want in [
        "line 1: email",
        "line 3: level",
        "line 4: not valid JSON",
        "line 5: a record must be a JSON object",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
    assert_eq!(
        env.find("customer", &[])
            .iter()
            .filter(|c| tags(c) == "x;y")
            .count(),
        1
    );
    // The rejects file is JSONL of the original objects plus their error, CRLF kept.
    let text = std::fs::read_to_string(&rejects).expect("rejects");
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert_eq!(first["email"], "bad");
    assert!(first["error"].as_str().expect("error").contains("email"));
    assert_eq!(text.matches("\r\n").count(), 4, "{text}");

    let json = env.path("bad.json");
    write(
        &json,
        "[\n  {\"name\": \"c\"},\n  {\"name\": \"d\",\n   \"email\": \"bad\"},\n  {\"name\": \"e\", \"nope\": 1}\n]\n",
    );
    let r = env.run(&[
        "import",
        "customer",
        json.to_str().expect("utf-8"),
        "--dry-run",
    ]);
    r.code(4);
    assert!(r.stderr.contains("index 1 (line 3): email"), "{}", r.stderr);
    assert!(
        r.stderr.contains("index 2 (line 5): unknown key 'nope'"),
        "{}",
        r.stderr
    );
    // A broken array is a file error, nothing written.
    write(&json, "[{\"name\": \"f\"}, {\"name\": \"g\"");
    let r = env.run(&["import", "customer", json.to_str().expect("utf-8")]);
    r.code(4).one_error_line();
    assert_eq!(
        env.count_where("customer", &["name=f"]) + env.count_where("customer", &["name=g"]),
        0
    );
    // A JSONL file given as .json says what it expected.
    write(&json, "{\"name\": \"h\"}\n");
    let r = env.run(&["import", "customer", json.to_str().expect("utf-8")]);
    r.code(4);
    assert!(r.stderr.contains("array"), "{}", r.stderr);
}

#[test]
fn chinese_headers_and_choice_labels_round_trip() {
    let src = Env::new();
    json_fixture(&src);
    let zh = src
        .run(&["export", "customer", "--lang", "zh"])
        .ok()
        .stdout
        .clone();
    let header = zh.lines().next().expect("header");
    assert!(header.starts_with("客户编号,客户名称,客户类型"), "{header}");
    assert!(
        zh.contains(",A类,") && zh.contains(",活跃客户,") && zh.contains(",企业,"),
        "{zh}"
    );
    assert!(
        !zh.contains("prospect") && !zh.contains(",company,"),
        "{zh}"
    );
    // CRM_LANG=zh does the same.
    let env_zh = src
        .run_env(&["export", "customer"], &[("CRM_LANG", "zh")])
        .ok()
        .stdout
        .clone();
    assert_eq!(env_zh, zh);
    let dest = Env::new();
    let file = dest.path("zh.csv");
    write(&file, &zh);
    dest.run(&["import", "customer", file.to_str().expect("utf-8")])
        .ok();
    let en = src.run(&["export", "customer"]).ok().stdout.clone();
    assert_eq!(dest.run(&["export", "customer"]).ok().stdout, en);
    // Contacts: a boolean and a reference survive the Chinese header too.
    let contacts = src
        .run(&["export", "contact", "--lang", "zh"])
        .ok()
        .stdout
        .clone();
    assert!(contacts.starts_with("所属客户,姓名"), "{contacts}");
    let file = dest.path("zh-contacts.csv");
    write(&file, &contacts);
    dest.run(&["import", "contact", file.to_str().expect("utf-8")])
        .ok();
    assert_eq!(
        dest.run(&["export", "contact"]).ok().stdout,
        src.run(&["export", "contact"]).ok().stdout
    );
}

#[test]
fn schema_shows_choice_labels_in_both_languages() {
    let env = Env::new();
    let zh = env
        .run(&["schema", "customer", "--lang", "zh"])
        .ok()
        .stdout
        .clone();
    assert!(zh.contains("prospect=潜在客户"), "{zh}");
    let en = env.run(&["schema", "customer"]).ok().stdout.clone();
    assert!(
        en.contains("prospect|active") && !en.contains("潜在客户"),
        "{en}"
    );
    let json = env
        .run(&["schema", "customer", "--format", "json"])
        .ok()
        .json();
    let status = json["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "status")
        .expect("status")
        .clone();
    let first = &status["choices"][0];
    assert_eq!(first["value"], "prospect");
    assert_eq!(first["zh"], "潜在客户");
    assert_eq!(first["label_zh"], "潜在客户");
    assert_eq!(first["label_en"], "Prospect");
}

#[test]
fn ignored_columns_are_named_and_synonyms_map() {
    let env = Env::new();
    let file = env.path("synonyms.csv");
    write(
        &file,
        "公司名称,统一社会信用代码,手机号,电子邮件,备用列,Other\n深圳腾达,914403007261824992,13800138000,a@b.cn,x,y\n",
    );
    let r = env.run(&[
        "import",
        "customer",
        file.to_str().expect("utf-8"),
        "--ignore-unknown",
        "--format",
        "json",
    ]);
    r.ok();
    assert_eq!(
        r.json()["ignored_columns"],
        serde_json::json!(["备用列", "Other"])
    );
    assert!(r.stderr.contains("备用列, Other"), "{}", r.stderr);
    let n = env.count_where(
        "customer",
        &[
            "name=深圳腾达",
            "credit_code=914403007261824992",
            "phone=13800138000",
            "email=a@b.cn",
        ],
    );
    assert_eq!(n, 1);
    // Without --ignore-unknown the unknown column is still an error naming it.
    let r = env.run(&["import", "customer", file.to_str().expect("utf-8")]);
    r.code(4);
    assert!(r.stderr.contains("备用列"), "{}", r.stderr);
    // Nothing dropped: an empty list, and no message.
    let plain = env.path("plain.csv");
    write(&plain, "name\n乙\n");
    let r = env.run(&[
        "import",
        "customer",
        plain.to_str().expect("utf-8"),
        "--ignore-unknown",
        "--format",
        "json",
    ]);
    r.ok();
    assert_eq!(r.json()["ignored_columns"], serde_json::json!([]));
    assert!(!r.stderr.contains("ignored"), "{}", r.stderr);
}
