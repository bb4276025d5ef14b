//! `crm import` and `crm export` through the binary: encodings, headers, modes, counts,
//! rejects, revert, roles, formula neutralisation, output files.

use std::fmt::Write as _;

use crate::harness::{Env, Run, write};

/// Runs an import with `--format json` and returns the summary object.
fn summary(r: &Run) -> serde_json::Value {
    let s = r.json();
    let sum = ["inserted", "updated", "unchanged", "rejected"]
        .iter()
        .map(|k| s[k].as_i64().expect("count"))
        .sum::<i64>();
    assert_eq!(sum, s["rows"].as_i64().expect("rows"), "counts add up: {s}");
    s
}

fn customers(env: &Env) -> i64 {
    env.count("customer")
}

#[test]
fn gb18030_file_with_chinese_headers_is_detected() {
    let env = Env::new();
    let text = "客户编号,客户名称,城市,客户等级,标签\nG001,深圳腾达科技有限公司,深圳,A类,重点;金融\nG002,𠀀字公司😀,北京,B,\n";
    let (bytes, _, bad) = encoding_rs::GB18030.encode(text);
    assert!(!bad);
    let f = env.path("gbk.csv");
    write(&f, &bytes);
    let r = env.run(&["import", "customer", f.to_str().expect("path")]);
    r.ok();
    assert!(
        r.stderr.contains("GB18030"),
        "reports the encoding: {}",
        r.stderr
    );
    let name = env.find("customer", &["code=G002"])[0]["name"].clone();
    assert_eq!(name, "𠀀字公司😀");
    // GB18030 in, GB18030 out: byte-identical when the header uses field names.
    let plain = "code,name,city\nH1,上海东方明珠贸易有限公司,上海\nH2,'=1+2 表,😀\n";
    let (gb, _, _) = encoding_rs::GB18030.encode(plain);
    let f2 = env.path("gb2.csv");
    write(&f2, &gb);
    env.run(&["import", "customer", f2.to_str().expect("path")])
        .ok();
    let out = env.path("gb-out.csv");
    env.run(&[
        "export",
        "customer",
        "--where",
        "code~H",
        "--columns",
        "code,name,city",
        "--encoding",
        "gb18030",
        "-o",
        out.to_str().expect("path"),
    ])
    .ok();
    assert_eq!(std::fs::read(out).expect("export"), gb.to_vec());
}

#[test]
fn utf8_bom_crlf_and_invalid_bytes() {
    let env = Env::new();
    let f = env.path("bom.csv");
    write(&f, "\u{FEFF}客户名称 , Email ,是否启用\r\n华信软件,info@huaxin.cn,\r\n\"多行\r\n备注公司\",,\r\n".replace("是否启用", "城市"));
    let r = env.run(&[
        "import",
        "customer",
        f.to_str().expect("path"),
        "--format",
        "json",
    ]);
    r.ok();
    assert_eq!(summary(&r)["inserted"], 2);
    assert!(r.stdout.contains("UTF-8"));
    let names: Vec<String> = env
        .find("customer", &[])
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(names, ["华信软件", "多行\r\n备注公司"]);
    // An invalid byte is an error naming the line, never a replacement character.
    let mut bad = "name,city\n甲公司,深圳\n乙公司,广州\n".as_bytes().to_vec();
    bad.extend_from_slice(b"\xFF\xFE\xFD,x\n");
    let g = env.path("bad.csv");
    write(&g, &bad);
    let r = env.run(&["import", "customer", g.to_str().expect("path")]);
    r.code(4).one_error_line();
    assert!(r.stderr.contains("line 4"), "{}", r.stderr);
    assert_eq!(customers(&env), 2);
    let n = env.count_where("customer", &["name~\u{FFFD}"]);
    assert_eq!(n, 0);
}

#[test]
fn abort_skip_and_dry_run_account_for_every_row() {
    let env = Env::new();
    let f = env.path("mixed.csv");
    write(
        &f,
        "code,name,email,level\nA1,甲,a@x.cn,A\nA2,乙,not-an-email,B\nA3,丙,,Z\nA4,丁,d@x.cn,\nA1,戊,,\n",
    );
    let path = f.to_str().expect("path");
    let rej = env.path("rejects.csv");
    let r = env.run(&[
        "import",
        "customer",
        path,
        "--rejects",
        rej.to_str().expect("path"),
        "--format",
        "json",
    ]);
    r.code(4).one_error_line();
    let s = summary(&r);
    assert_eq!(
        (s["rejected"].as_i64(), s["written"].as_bool()),
        (Some(3), Some(false))
    );
    // Under --format json the bad rows are in the summary's `errors`, not plain stderr lines.
    let lines: Vec<i64> = s["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["line"].as_i64())
        .collect();
    assert_eq!(lines, [3, 4, 6], "{s}");
    assert_eq!(customers(&env), 0, "abort writes nothing");
    let rejects = std::fs::read_to_string(&rej).expect("rejects file");
    let mut rdr = csv::Reader::from_reader(rejects.as_bytes());
    assert_eq!(
        rdr.headers().expect("header"),
        vec!["code", "name", "email", "level", "error"]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].iter().take(4).collect::<Vec<_>>().join(","),
        "A2,乙,not-an-email,B"
    );
    assert!(
        rows[2][4].contains("repeats an earlier row"),
        "{:?}",
        rows[2]
    );

    let r = env.run(&[
        "import",
        "customer",
        path,
        "--dry-run",
        "--on-error",
        "skip",
        "--format",
        "json",
    ]);
    r.code(4);
    assert_eq!(summary(&r)["inserted"], 2);
    assert_eq!(customers(&env), 0, "dry run writes nothing");

    let r = env.run(&[
        "import",
        "customer",
        path,
        "--on-error",
        "skip",
        "--format",
        "json",
    ]);
    r.code(4);
    let s = summary(&r);
    assert_eq!(
        (s["inserted"].as_i64(), s["rejected"].as_i64()),
        (Some(2), Some(3))
    );
    assert_eq!(customers(&env), 2);
    assert_eq!(env.batch_total(), 1);
    // One audit entry for the batch, not one per row or field.
    assert_eq!(env.audits(&[("action", "import")]), 1);
    assert_eq!(env.audits(&[("action", "create")]), 0);

    let empty = env.path("empty.csv");
    write(&empty, "");
    let r = env.run(&[
        "import",
        "customer",
        empty.to_str().expect("path"),
        "--format",
        "json",
    ]);
    r.ok();
    assert_eq!(summary(&r)["rows"], 0);
}

#[test]
fn upsert_update_revert_and_refusal() {
    let env = Env::new();
    let f = env.path("a.csv");
    write(&f, "code,name,city\nU1,甲,深圳\nU2,乙,北京\nU3,丙,上海\n");
    let r = env.run(&[
        "import",
        "customer",
        f.to_str().expect("path"),
        "--format",
        "json",
    ]);
    let b1 = summary(r.ok())["batch"].as_i64().expect("batch");
    let g = env.path("b.csv");
    write(&g, "code,city\nU1,广州\nU2,北京\nU4,杭州\n");
    let r = env.run(&[
        "import",
        "customer",
        g.to_str().expect("path"),
        "--mode",
        "update",
        "--format",
        "json",
    ]);
    r.code(4);
    let s = summary(&r);
    assert_eq!(
        (
            s["updated"].as_i64(),
            s["unchanged"].as_i64(),
            s["rejected"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(
        customers(&env),
        3,
        "update mode with a bad row writes nothing"
    );
    let h = env.path("c.csv");
    write(&h, "code,name,city\nU1,甲,广州\nU2,乙,北京\nU4,丁,杭州\n");
    let r = env.run(&[
        "import",
        "customer",
        h.to_str().expect("path"),
        "--mode",
        "upsert",
        "--format",
        "json",
    ]);
    let s = summary(r.ok());
    assert_eq!(
        (
            s["inserted"].as_i64(),
            s["updated"].as_i64(),
            s["unchanged"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    let b2 = s["batch"].as_i64().expect("batch");
    let city = |code: &str| -> Option<String> {
        env.find("customer", &[&format!("code={code}")])
            .first()
            .and_then(|r| r["city"].as_str().map(str::to_string))
    };
    assert_eq!(city("U1").as_deref(), Some("广州"));
    let hist = env
        .run(&["import", "history", "--format", "json"])
        .ok()
        .json();
    assert_eq!(hist.as_array().expect("list").len(), 2);
    assert_eq!(hist[0]["batch"], b2);
    // The first batch's U1 was changed by the second batch: refused, naming the record.
    let u1 = env.id_where("customer", &["code=U1"]);
    let r = env.run(&["import", "revert", &b1.to_string()]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains(&u1.to_string()), "{}", r.stderr);
    // Reverting the upsert deletes U4 and restores U1's previous city.
    env.run(&["import", "revert", &b2.to_string()]).ok();
    assert_eq!(city("U1").as_deref(), Some("深圳"));
    assert_eq!(city("U4"), None);
    env.run(&["import", "revert", &b2.to_string()]).code(5);
    // A later edit by hand also blocks the revert; after that nothing changed.
    env.run(&["edit", "customer", "U3", "--city", "成都"]).ok();
    let r = env.run(&["import", "revert", &b1.to_string()]);
    r.code(5);
    assert!(r.stderr.contains("changed since"), "{}", r.stderr);
    assert_eq!(customers(&env), 3);
    env.run(&["edit", "customer", "U1", "--city", "深圳"]).ok();
    env.run(&["delete", "customer", "U3", "--yes"]).ok();
    env.run(&["import", "revert", &b1.to_string()]).code(5);
}

#[test]
fn revert_of_untouched_batch_restores_everything() {
    let env = Env::new();
    env.add(
        "customer",
        &["--name", "老客户", "--code", "OLD1", "--city", "深圳"],
    );
    let f = env.path("a.csv");
    write(&f, "code,name,city\nOLD1,老客户,广州\nN1,新客户,北京\n");
    let r = env.run(&[
        "import",
        "customer",
        f.to_str().expect("path"),
        "--mode",
        "upsert",
        "--format",
        "json",
    ]);
    let b = summary(r.ok())["batch"].as_i64().expect("batch");
    let r = env
        .run(&["import", "revert", &b.to_string(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        (r["deleted"].as_i64(), r["restored"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(env.count_where("customer", &["code=OLD1", "city=深圳"]), 1);
    assert_eq!(customers(&env), 1);
    assert_eq!(env.audits(&[("action", "revert")]), 1);
}

#[test]
fn headers_maps_and_mass_assignment() {
    let env = Env::new();
    let f = env.path("h.csv");
    write(&f, "名称,Nickname\n甲,x\n");
    let path = f.to_str().expect("path");
    let r = env.run(&["import", "customer", path]);
    r.code(4).one_error_line();
    assert!(
        r.stderr.contains("unknown column '名称'") && r.stderr.contains("fields:"),
        "{}",
        r.stderr
    );
    env.run(&[
        "import",
        "customer",
        path,
        "--map",
        "名称=name",
        "--ignore-unknown",
    ])
    .ok();
    env.run(&[
        "import",
        "customer",
        path,
        "--map",
        "名称=name",
        "--map",
        "Nickname=",
    ])
    .ok();
    env.run(&["import", "customer", path, "--map", "名称=nope"])
        .code(2);
    let g = env.path("id.csv");
    write(&g, "id,name,created_at\n1,甲,2024-01-01\n");
    env.run(&["import", "customer", g.to_str().expect("path")])
        .code(2)
        .one_error_line();
    let d = env.path("dup.csv");
    write(&d, "name,客户名称\n甲,乙\n");
    env.run(&["import", "customer", d.to_str().expect("path")])
        .code(4);
    let m = env.path("missing.csv");
    write(&m, "city\n深圳\n");
    let r = env.run(&["import", "customer", m.to_str().expect("path")]);
    r.code(4);
    assert!(r.stderr.contains("required field name"), "{}", r.stderr);
    let t = env.path("t.tsv");
    write(&t, "name\tcity\n制表符公司\t厦门\n");
    env.run(&["import", "customer", t.to_str().expect("path")])
        .ok();
    let s = env.path("semi.csv");
    write(&s, "name;city\n分号公司;苏州\n");
    env.run(&[
        "import",
        "customer",
        s.to_str().expect("path"),
        "--delimiter",
        ";",
    ])
    .ok();
    assert_eq!(customers(&env), 4);
    env.run_stdin(&["import", "customer", "-"], "name\n标准输入公司\n")
        .ok();
    assert_eq!(customers(&env), 5);
    env.run(&["import", "customer", "no-such-file.csv"]).code(3);
}

#[test]
fn references_dates_limits_and_row_errors() {
    let env = Env::new();
    env.add("customer", &["--name", "甲", "--code", "K1"]);
    let f = env.path("contacts.csv");
    write(
        &f,
        "customer,name,is_primary,mobile\nK1,张伟,是,013800000000\n1,李娜,否,\nK9,王五,,\n",
    );
    let r = env.run(&[
        "import",
        "contact",
        f.to_str().expect("path"),
        "--on-error",
        "skip",
    ]);
    r.code(4);
    assert!(
        r.stderr
            .contains("line 4: customer: no customer with id or key 'K9'"),
        "{}",
        r.stderr
    );
    let out = env.run(&["export", "contact"]).ok().stdout.clone();
    assert_eq!(
        out,
        "customer,name,title,phone,mobile,email,wechat,is_primary,notes\nK1,张伟,,,013800000000,,,true,\nK1,李娜,,,,,,false,\n"
    );
    let c = env.path("camp.csv");
    write(&c, "name,start_date,budget\n春季,08/07/2023,1000\n");
    let r = env.run(&["import", "campaign", c.to_str().expect("path")]);
    r.code(4);
    assert!(r.stderr.contains("--date-format"), "{}", r.stderr);
    env.run(&[
        "import",
        "campaign",
        c.to_str().expect("path"),
        "--date-format",
        "dmy",
    ])
    .ok();
    assert_eq!(env.count_where("campaign", &["start_date=2023-07-08"]), 1);
    let big = env.path("big.csv");
    write(
        &big,
        format!(
            "name,notes\n大,{}\n零,a\0b\n好,ok\n",
            "x".repeat((1 << 20) + 1)
        ),
    );
    let r = env.run(&[
        "import",
        "customer",
        big.to_str().expect("path"),
        "--on-error",
        "skip",
        "--format",
        "json",
    ]);
    r.code(4);
    let s = summary(&r);
    assert_eq!(
        (s["inserted"].as_i64(), s["rejected"].as_i64()),
        (Some(1), Some(2))
    );
    let errors = s["errors"].to_string();
    assert!(
        errors.contains("1 MiB") && errors.contains("NUL"),
        "{}",
        errors
    );
    let q = env.path("quote.csv");
    write(
        &q,
        format!("name,notes\n\"unbalanced,{}\n", "y\n".repeat(3 << 20)),
    );
    let r = env.run(&["import", "customer", q.to_str().expect("path")]);
    r.code(4).one_error_line();
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
    let rag = env.path("ragged.csv");
    write(&rag, "name,city\n甲,深圳,多余\n乙\n丙,广州,\n");
    let r = env.run(&[
        "import",
        "customer",
        rag.to_str().expect("path"),
        "--on-error",
        "skip",
        "--format",
        "json",
    ]);
    let s = summary(r.code(4));
    assert_eq!(
        (s["inserted"].as_i64(), s["rejected"].as_i64()),
        (Some(1), Some(2))
    );
}

#[test]
fn formulas_are_neutralised_and_round_trip() {
    let env = Env::new();
    let f = env.path("f.csv");
    let hostile = [
        "=1+2\";=1+2",
        "=1+2'\" ;,=1+2",
        "@SUM(A1)",
        "-2+3",
        "=cmd|' /C calc'!A0",
        "'quoted",
        "+8613800000000",
    ];
    let mut text = String::from("name,notes,phone\n");
    for (i, h) in hostile.iter().enumerate() {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([format!("公司{i}").as_str(), h, if i == 6 { h } else { "" }])
            .expect("csv");
        text.push_str(&String::from_utf8(w.into_inner().expect("csv")).expect("utf8"));
    }
    write(&f, &text);
    env.run(&["import", "customer", f.to_str().expect("path")])
        .ok();
    let notes: Vec<String> = env
        .find("customer", &[])
        .iter()
        .map(|r| r["notes"].as_str().expect("notes").to_string())
        .collect();
    assert_eq!(notes, hostile, "stored verbatim");
    let out = env
        .run(&["export", "customer", "--columns", "name,notes,phone"])
        .ok()
        .stdout
        .clone();
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    for rec in rdr.records() {
        let rec = rec.expect("row");
        for cell in &rec {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "guarded: {cell:?}"
            );
        }
    }
    let raw = env
        .run(&["export", "customer", "--columns", "notes", "--raw"])
        .ok()
        .stdout
        .clone();
    assert!(raw.contains("\n@SUM(A1)\n"), "{raw}");
    // export → import → export is byte-identical.
    let e1 = env.path("e1.csv");
    env.run(&["export", "customer", "-o", e1.to_str().expect("path")])
        .ok();
    let r = env.run(&[
        "import",
        "customer",
        e1.to_str().expect("path"),
        "--mode",
        "upsert",
        "--format",
        "json",
    ]);
    assert_eq!(summary(r.ok())["unchanged"], 7);
    env.run(&["export", "customer", "-o", e1.to_str().expect("path")])
        .code(5);
    let e2 = env.path("e2.csv");
    env.run(&["export", "customer", "-o", e2.to_str().expect("path")])
        .ok();
    assert_eq!(
        std::fs::read(&e1).expect("e1"),
        std::fs::read(&e2).expect("e2")
    );
}

#[test]
fn export_formats_and_files() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    for (n, l) in [("甲", "A"), ("乙", "B"), ("丙", "A")] {
        env.add("customer", &["--name", n, "--level", l, "--tags", "x;y"]);
    }
    let j = env
        .run(&[
            "export", "customer", "--where", "level=A", "--format", "json",
        ])
        .ok()
        .json();
    assert_eq!(j.as_array().expect("array").len(), 2);
    assert_eq!(j[0]["tags"], serde_json::json!(["x", "y"]));
    let l = env
        .run(&[
            "export",
            "customer",
            "--format",
            "jsonl",
            "--columns",
            "id,name",
        ])
        .ok()
        .stdout
        .clone();
    let objs: Vec<serde_json::Value> = l
        .lines()
        .map(|x| serde_json::from_str(x).expect("jsonl"))
        .collect();
    assert_eq!(objs.len(), 3);
    assert_eq!(objs[2]["name"], "丙");
    let t = env
        .run(&[
            "export",
            "customer",
            "--format",
            "tsv",
            "--columns",
            "name,level",
        ])
        .ok()
        .stdout
        .clone();
    assert_eq!(t, "name\tlevel\n甲\tA\n乙\tB\n丙\tA\n");
    let b = env.path("bom.csv");
    env.run(&[
        "export",
        "customer",
        "--bom",
        "-o",
        b.to_str().expect("path"),
    ])
    .ok();
    let bytes = std::fs::read(&b).expect("file");
    assert!(bytes.starts_with(b"\xEF\xBB\xBFcode,name"));
    assert_eq!(
        std::fs::metadata(&b).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    env.run(&["export", "customer", "--columns", "nope"])
        .code(2);
    env.run(&["export", "customer", "--where", "bogus=1"])
        .code(2);
    // A target that cannot be created is a storage error, as for `backup` (SPEC "Files crm
    // writes": refused before any work, so no audit row either).
    let dir = env.path("no-such-dir/out.csv");
    env.run(&["export", "customer", "-o", dir.to_str().expect("path")])
        .code(9);
    assert_eq!(env.audits(&[("action", "export")]), 4);
}

#[test]
fn roles_import_and_export() {
    let env = Env::new();
    let f = env.path("a.csv");
    write(&f, "name\n甲\n");
    let path = f.to_str().expect("path");
    for (user, role) in [
        ("mgr", "manager"),
        ("sal", "sales"),
        ("svc", "service"),
        ("vw", "viewer"),
    ] {
        env.add_user(user, role);
    }
    let mgr = env.token("mgr");
    env.run_as(&mgr, &["import", "customer", path]).ok();
    env.run_as(&mgr, &["export", "customer"]).ok();
    for user in ["sal", "svc", "vw"] {
        let t = env.token(user);
        env.run_as(&t, &["import", "customer", path])
            .code(7)
            .one_error_line();
        env.run_as(&t, &["import", "history"]).code(7);
        env.run_as(&t, &["import", "revert", "1"]).code(7);
    }
    let vw = env.token("vw");
    env.run_as(&vw, &["export", "customer"]).code(7);
    assert_eq!(customers(&env), 1);
}

#[test]
fn sample_files_in_examples_import() {
    let env = Env::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/import");
    let customers = dir.join("customers-zh.csv");
    let r = env.run(&[
        "import",
        "customer",
        customers.to_str().expect("path"),
        "--format",
        "json",
    ]);
    let s = summary(r.ok());
    assert_eq!(
        (s["inserted"].as_i64(), s["encoding"].as_str()),
        (Some(4), Some("UTF-8"))
    );
    let contacts = dir.join("contacts-gb18030.csv");
    let r = env.run(&[
        "import",
        "contact",
        contacts.to_str().expect("path"),
        "--format",
        "json",
    ]);
    let s = summary(r.ok());
    assert_eq!(
        (s["inserted"].as_i64(), s["encoding"].as_str()),
        (Some(3), Some("GB18030"))
    );
    let c = env
        .run(&["show", "customer", "C100002", "--format", "json"])
        .ok()
        .json();
    assert_eq!(
        (c["kind"].as_str(), c["level"].as_str()),
        (Some("company"), Some("B"))
    );
    assert_eq!(c["notes"], "多行备注：\n第一次拜访，对\"方案B\"感兴趣");
    // The same file again in insert mode: every code already exists, nothing is written.
    let r = env.run(&["import", "customer", customers.to_str().expect("path")]);
    r.code(4);
    assert!(
        r.stderr.contains("already exists") && r.stderr.contains("--mode upsert"),
        "{}",
        r.stderr
    );
    let r = env.run(&[
        "import",
        "customer",
        customers.to_str().expect("path"),
        "--mode",
        "upsert",
        "--format",
        "json",
    ]);
    assert_eq!(summary(r.ok())["unchanged"], 4);
}

#[test]
fn progress_bar_only_on_a_terminal() {
    let env = Env::new();
    let mut s = String::from("name,city\n");
    for i in 0..20_000 {
        _ = writeln!(s, "进度公司{i},深圳");
    }
    let f = env.path("p.csv");
    write(&f, s);
    let path = f.to_str().expect("path");
    // Not a terminal: no bar, only the summary line.
    let r = env.run(&["import", "customer", path]);
    r.ok();
    assert!(
        !r.stderr.contains("rows/s") && r.stderr.contains("20000 inserted"),
        "{}",
        r.stderr
    );
    // On a terminal: the bar with rows and rows/s, then the summary.
    let mut c = env.hermetic(Env::bin());
    c.args(["import", "customer", path]);
    let mut session = expectrl::Session::spawn(c).expect("pty");
    session.set_expect_timeout(Some(std::time::Duration::from_mins(1)));
    session
        .expect("rows/s")
        .expect("a progress bar on the terminal");
    session.expect("20000 inserted").expect("the summary");
    assert_eq!(env.count("customer"), 40_000);
}

#[test]
fn update_by_id_from_an_export_with_ids() {
    let env = Env::new();
    let a = env.add("customer", &["--name", "甲", "--city", "深圳"]);
    env.add("customer", &["--name", "乙", "--city", "北京"]);
    let out = env
        .run(&["export", "customer", "--columns", "id,name,city"])
        .ok()
        .stdout
        .clone();
    let f = env.path("ids.csv");
    write(&f, out.replace("深圳", "广州"));
    let path = f.to_str().expect("path");
    // An id column is refused unless it is the key of an update or upsert.
    env.run(&["import", "customer", path]).code(2);
    env.run(&["import", "customer", path, "--key", "id"])
        .code(2);
    let r = env.run(&[
        "import", "customer", path, "--mode", "update", "--key", "id", "--format", "json",
    ]);
    let s = summary(r.ok());
    assert_eq!(
        (s["updated"].as_i64(), s["unchanged"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        env.count_where("customer", &[&format!("id={a}"), "city=广州"]),
        1
    );
    env.run(&[
        "import", "customer", path, "--mode", "update", "--key", "city",
    ])
    .code(2);
}
