//! Issue 8, values and edits: blank text is missing, dates and date-times in every form,
//! concurrent flag edits of one record, keys never cleared, the edit walk's `-` and required
//! prompts, and the smaller promises (delete checks first, codes never skip, one code scheme,
//! help and errors).

use crate::core_prompts::{CUSTOMER_LABELS, ENTER, Pty};
use crate::harness::{Env, engine_is_postgres, skip_unless_sqlite, text, write};

fn show(env: &Env, entity: &str, id: &str) -> serde_json::Value {
    env.run(&["show", entity, id, "--format", "json"])
        .ok()
        .json()
}

#[test]
fn blank_text_is_missing_on_every_path() {
    let env = Env::new();
    for blank in ["   ", "\u{3000}\u{3000}", " \t "] {
        let r = env.run(&["add", "customer", "--name", blank]);
        r.code(4).one_error_line();
        assert!(r.stderr.contains("name is required"), "{}", r.stderr);
    }
    let id = env.add(
        "customer",
        &["--name", "\u{3000} 甲公司  ", "--city", "  深圳 "],
    );
    let j = show(&env, "customer", &id.to_string());
    assert_eq!(j["name"], "甲公司");
    assert_eq!(j["city"], "深圳");
    env.run(&["edit", "customer", &id.to_string(), "--name", "  "])
        .code(4);
    // An optional field given blank is cleared, not stored as spaces.
    env.run(&["edit", "customer", &id.to_string(), "--city", "   "])
        .ok();
    assert_eq!(
        show(&env, "customer", &id.to_string())["city"],
        serde_json::Value::Null
    );

    let csv = env.path("c.csv");
    write(&csv, "name,city\n  乙公司  , 杭州\n   ,北京\n");
    let r = env.run(&["import", "customer", csv.to_str().unwrap()]);
    r.code(4);
    assert!(r.stderr.contains("name is required"), "{}", r.stderr);
    env.run(&[
        "import",
        "customer",
        csv.to_str().unwrap(),
        "--on-error",
        "skip",
        "--rejects",
        "-",
    ])
    .code(4);
    for expr in ["name=乙公司", "name=  乙公司 ", "city=杭州", "name~乙公 "] {
        let n = env.run(&["find", "customer", "--where", expr, "--count"]);
        assert_eq!(n.ok().stdout.trim(), "1", "{expr}");
    }
}

#[test]
fn date_times_read_every_date_form() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "甲"]).to_string();
    for (typed, want) in [
        ("2026/02/01 10:00", "2026-02-01T10:00:00+08:00"),
        ("2026.2.1 9:05:07", "2026-02-01T09:05:07+08:00"),
        ("2026年2月1日 10:00", "2026-02-01T10:00:00+08:00"),
        ("13/02/2026 10:00", "2026-02-13T10:00:00+08:00"),
        ("02/13/2026", "2026-02-13T00:00:00+08:00"),
        ("2026-02-01T10:00:00Z", "2026-02-01T18:00:00+08:00"),
    ] {
        let id = env
            .add(
                "activity",
                &["--customer", &c, "--subject", "s", "--due-at", typed],
            )
            .to_string();
        assert_eq!(show(&env, "activity", &id)["due_at"], want, "{typed}");
    }
    let r = env.run(&[
        "add",
        "activity",
        "--customer",
        &c,
        "--subject",
        "s",
        "--due-at",
        "01/02/2026 10:00",
    ]);
    r.code(4);
    assert!(r.stderr.contains("ambiguous"), "{}", r.stderr);
    env.run(&[
        "add",
        "campaign",
        "--name",
        "展会",
        "--start-date",
        "13/02/2026",
    ])
    .ok();
    let j = env
        .run(&["find", "campaign", "--format", "json"])
        .ok()
        .json();
    assert_eq!(j[0]["start_date"], "2026-02-13");

    // --date-format decides date-times in an import too.
    let csv = env.path("a.csv");
    write(&csv, "customer,subject,due_at\n1,电话,01/02/2026 10:00\n");
    env.run(&["import", "activity", csv.to_str().unwrap()])
        .code(4);
    env.run(&[
        "import",
        "activity",
        csv.to_str().unwrap(),
        "--date-format",
        "dmy",
    ])
    .ok();
    let j = env
        .run(&[
            "find",
            "activity",
            "--where",
            "subject=电话",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(j[0]["due_at"], "2026-02-01T10:00:00+08:00");
}

/// `n` edits per editor, each editor a shell loop changing one field, all at once.
fn race(env: &Env, editors: &[(&str, &str)], n: usize) -> String {
    let mut script = String::new();
    for (field, prefix) in editors {
        script.push_str(&format!(
            "( i=1; while [ $i -le {n} ]; do \"$CRM\" edit customer 1 --{field} {prefix}$i -q || echo \"FAIL {field} $i exit=$?\"; i=$((i+1)); done ) &\n"
        ));
    }
    script.push_str("wait\n");
    let r = env.sh(&script);
    r.ok();
    r.stdout + &r.stderr
}

#[test]
fn concurrent_flag_edits_of_different_fields_never_conflict() {
    let env = Env::new();
    env.add("customer", &["--name", "甲"]);
    let n = 15;
    let editors = [
        ("notes", "n"),
        ("city", "c"),
        ("address", "a"),
        ("source", "s"),
    ];
    let out = race(&env, &editors, n);
    assert!(!out.contains("FAIL"), "{out}");
    let j = show(&env, "customer", "1");
    for (field, prefix) in editors {
        assert_eq!(j[field], format!("{prefix}{n}"), "{field}");
        let audited = env.audits(&[
            ("action", "update"),
            ("entity", "customer"),
            ("field", field),
        ]);
        assert_eq!(audited, i64::try_from(n).unwrap(), "{field}");
    }
    assert_eq!(j["name"], "甲", "untouched fields kept");
}

#[test]
fn concurrent_flag_edits_of_one_field_last_writer_wins_both_audited() {
    let env = Env::new();
    env.add("customer", &["--name", "甲"]);
    let n = 15;
    let out = race(&env, &[("notes", "a"), ("notes", "b")], n);
    assert!(!out.contains("FAIL"), "{out}");
    let notes = show(&env, "customer", "1")["notes"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        notes == format!("a{n}") || notes == format!("b{n}"),
        "{notes}"
    );
    let rows: Vec<(Option<String>, String)> = env
        .audit_rows()
        .iter()
        .filter(|r| r["action"] == "update" && r["field"] == "notes")
        .map(|r| (text(&r["old"]), text(&r["new"]).unwrap()))
        .collect();
    assert_eq!(rows.len(), 2 * n, "every write audited");
    // Each old value is what the previous write stored: read inside the write transaction.
    for w in rows.windows(2) {
        assert_eq!(w[1].0.as_deref(), Some(w[0].1.as_str()), "{rows:?}");
    }
    assert_eq!(rows.last().unwrap().1, notes);
}

#[test]
fn a_key_can_be_changed_but_never_cleared() {
    let env = Env::new();
    env.add("customer", &["--name", "甲"]);
    env.add("contact", &["--customer", "C000001", "--name", "张伟"]);
    for args in [
        &["--unset", "code"][..],
        &["--code", ""][..],
        &["--code", "  "][..],
    ] {
        let mut a = vec!["edit", "customer", "1"];
        a.extend_from_slice(args);
        let r = env.run(&a);
        r.code(4).one_error_line();
        assert!(
            r.stderr.contains("code can be changed but not cleared"),
            "{}",
            r.stderr
        );
    }
    env.run(&["edit", "customer", "1", "--code", "K-1"]).ok();
    // An import update with an empty key cell is a row error too.
    let csv = env.path("u.csv");
    write(&csv, "id,code\n1,\n");
    let r = env.run(&[
        "import",
        "customer",
        csv.to_str().unwrap(),
        "--mode",
        "update",
        "--key",
        "id",
    ]);
    r.code(4);
    assert_eq!(show(&env, "customer", "1")["code"], "K-1");
    // A reference whose record lacks its key (a file damaged outside crm) is never exported
    // as a bare id, which would re-import onto another record. (Damages the SQLite file.)
    if engine_is_postgres() {
        return;
    }
    env.sql()
        .execute("UPDATE customer SET code = NULL WHERE id = 1", [])
        .unwrap();
    let out = env.path("contacts.csv");
    let r = env.run(&["export", "contact", "-o", out.to_str().unwrap()]);
    r.code(4).one_error_line();
    assert!(r.stderr.contains("customer 1 has no code"), "{}", r.stderr);
    assert!(!out.exists(), "no file written");
    env.run(&["export", "contact", "--format", "json"]).code(4);
}

#[test]
fn delete_refuses_for_references_before_it_asks() {
    let env = Env::new();
    env.add("customer", &["--name", "甲"]);
    env.add("contact", &["--customer", "1", "--name", "张伟"]);
    // Without a terminal the question would be a usage error (2): the refusal comes first.
    let r = env.run(&["delete", "customer", "1"]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("referenced by 1 contact"), "{}", r.stderr);
    let mut p = Pty::spawn(&env, &["delete", "customer", "1"]);
    p.wait("referenced by");
    let (code, screen) = p.finish();
    assert_eq!(code, 5, "{screen}");
    assert!(!screen.contains("[y/N]"), "{screen}");
    // Deleting the contact and ... in one go still works in order.
    env.run(&["delete", "contact", "1", "--yes"]).ok();
    env.run(&["delete", "customer", "1", "--yes"]).ok();
}

#[test]
fn edit_walk_dash_on_an_empty_field_keeps_it_empty() {
    let env = Env::new();
    let id = env.add("customer", &["--name", "Acme"]).to_string();
    let mut p = Pty::spawn(&env, &["edit", "customer", &id]);
    for label in CUSTOMER_LABELS {
        p.wait(label);
        p.send(match label {
            "城市" | "备注" | "客户编号" => "-\r",
            _ => ENTER,
        });
        if label == "客户编号" {
            p.wait("code can be changed but not cleared");
            p.wait("客户编号");
            p.send(ENTER);
        }
    }
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    let j = show(&env, "customer", &id);
    assert_eq!(j["city"], serde_json::Value::Null, "{screen}");
    assert_eq!(j["notes"], serde_json::Value::Null);
    assert_eq!(j["code"], "C000001");
}

#[test]
fn a_required_prompt_says_why_it_asks_again() {
    let env = Env::new();
    let mut p = Pty::spawn(&env, &["add", "customer"]);
    p.wait("客户名称");
    p.send(ENTER);
    p.wait("name is required");
    p.wait("客户名称");
    p.send("   \r");
    p.wait("name is required");
    p.send("Acme\r");
    for _ in 0..4 {
        p.send(ENTER);
    }
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(show(&env, "customer", "1")["name"], "Acme");
}

#[test]
fn a_rejected_import_row_takes_no_generated_code() {
    let env = Env::new();
    let csv = env.path("c.csv");
    write(&csv, "name\n甲\n   \n乙\n");
    env.run(&[
        "import",
        "customer",
        csv.to_str().unwrap(),
        "--on-error",
        "skip",
        "--rejects",
        "-",
    ])
    .code(4);
    let j = env
        .run(&["find", "customer", "--format", "json", "--sort", "id"])
        .ok()
        .json();
    let codes: Vec<&str> = j
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["C000001", "C000002"]);
}

#[test]
fn check_on_a_read_only_mount_passes_a_good_file() {
    if skip_unless_sqlite("copies the SQLite file onto a read-only mount") {
        return;
    }
    let env = Env::new();
    env.add("customer", &["--name", "甲"]);
    let token = env.token("admin");
    env.sql()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let Some(m) = crate::core_reliability::Mount::new(env.path("ro"), "4m") else {
        println!("SKIPPED: read-only check test (cannot mount a tmpfs here)");
        return;
    };
    let db = m.0.join("crm.db");
    std::fs::copy(&env.db, &db).unwrap();
    assert!(m.remount_ro(), "remount read-only");
    let r = env.run_as(
        &token,
        &["--db", db.to_str().unwrap(), "check", "--format", "json"],
    );
    r.ok();
    let rows = r.json();
    let mode = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "journal_mode")
        .unwrap();
    assert_eq!(mode["ok"], true, "{rows}");
    assert!(
        mode["detail"].as_str().unwrap().contains("read-only"),
        "{rows}"
    );
}

#[test]
fn color_always_means_always_even_piped() {
    let env = Env::new();
    let r = env.run(&["show", "customer", "999", "--color", "always"]);
    r.code(3);
    assert!(r.stderr.starts_with("\x1b[31merror:"), "{:?}", r.stderr);
    let r = env.run(&["show", "customer", "999"]);
    assert!(!r.stderr.contains('\x1b'), "auto, piped: {:?}", r.stderr);
}

#[test]
fn demo_and_new_records_share_one_code_scheme() {
    let env = Env::new();
    let demo = env.path("demo.db");
    env.run(&["demo", "--path", demo.to_str().unwrap()]).ok();
    let d = demo.to_str().unwrap();
    let scheme = |code: &str, prefix: &str| {
        code.strip_prefix(prefix)
            .is_some_and(|n| n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()))
    };
    for (entity, key, prefix) in [
        ("quote", "number", "Q"),
        ("order", "number", "SO"),
        ("contract", "number", "HT"),
        ("ticket", "number", "T"),
        ("product", "code", "P"),
    ] {
        let rows = env
            .run(&["--db", d, "find", entity, "--format", "json"])
            .ok()
            .json();
        for r in rows.as_array().unwrap() {
            assert!(scheme(r[key].as_str().unwrap(), prefix), "{entity}: {r}");
        }
    }
    let j = env
        .run(&[
            "--db",
            d,
            "add",
            "quote",
            "--customer",
            "C000001",
            "--format",
            "json",
        ])
        .ok()
        .json();
    assert!(scheme(j["number"].as_str().unwrap(), "Q"), "{j}");
}

#[test]
fn edit_help_shows_no_add_defaults_or_required() {
    let env = Env::new();
    let add = env.run(&["add", "customer", "--help"]).ok().stdout.clone();
    assert!(
        add.contains("(required)") && add.contains("[default: "),
        "{add}"
    );
    let edit = env.run(&["edit", "customer", "--help"]).ok().stdout.clone();
    for line in edit.lines().filter(|l| {
        l.trim_start().starts_with("--")
            && !l.contains("--db")
            && !l.contains("--color")
            && !l.contains("--busy-timeout")
    }) {
        assert!(
            !line.contains("(required)") && !line.contains("[default: "),
            "{line}"
        );
    }
}

#[test]
fn hidden_commands_are_never_suggested() {
    let env = Env::new();
    for typo in ["generate", "gen-man", "generate-ma"] {
        let r = env.run(&[typo]);
        r.code(2).one_error_line();
        assert!(!r.stderr.contains("generate-man"), "{}", r.stderr);
    }
}

#[test]
fn entities_by_chinese_label_and_did_you_mean() {
    let env = Env::new();
    let r = env.run(&["find", "custmer"]);
    r.code(2).one_error_line();
    assert!(r.stderr.contains("did you mean 'customer'"), "{}", r.stderr);
    let r = env.run(&["export", "contcat"]);
    r.code(2);
    assert!(r.stderr.contains("did you mean 'contact'"), "{}", r.stderr);
    env.run(&["add", "客户", "--name", "甲"]).ok();
    env.run(&["add", "联系人", "--customer", "1", "--name", "张伟"])
        .ok();
    assert_eq!(
        env.run(&["find", "客户", "--count"]).ok().stdout.trim(),
        "1"
    );
    env.run(&["show", "客户", "1"]).ok();
    env.run(&["edit", "客户", "1", "--city", "深圳"]).ok();
    let csv = env.run(&["export", "联系人"]).ok().stdout.clone();
    assert!(csv.contains("张伟"), "{csv}");
    let schema = env.run(&["schema", "客户", "--format", "json"]).ok().json();
    assert!(schema.to_string().contains("credit_code"));
    env.run(&["log", "客户", "1", "电话"]).ok();
    env.run(&["delete", "联系人", "1", "--yes"]).ok();
}

#[test]
fn json_errors_are_only_the_json_object() {
    let env = Env::new();
    for args in [
        &["show", "customer", "42", "--format", "json"][..],
        &["--format", "json", "add", "customer", "--bogus", "x"][..],
        &["--format", "json", "find", "custmer"][..],
    ] {
        let r = env.run(args);
        assert_ne!(r.code, 0);
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", r.stderr);
        let obj: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert!(obj["error"]["kind"].is_string() && obj["error"]["message"].is_string());
    }
}

#[test]
fn control_characters_never_reach_stderr_raw() {
    let env = Env::new();
    let csv = env.path("evil.csv");
    write(&csv, "name,\x1b[31mred\x07\nx,y\n");
    let r = env.run(&["import", "customer", csv.to_str().unwrap()]);
    assert_ne!(r.code, 0);
    let r2 = env.run(&[
        "import",
        "customer",
        csv.to_str().unwrap(),
        "--ignore-unknown",
    ]);
    let r3 = env.run(&[
        "import",
        "customer",
        csv.to_str().unwrap(),
        "--map",
        "\x1b]0;pwned\x07=name",
    ]);
    let r4 = env.run(&["show", "customer", "\x1b[2J\x07"]);
    for r in [&r, &r2, &r3, &r4] {
        assert!(
            !r.stderr.contains('\x1b') && !r.stderr.contains('\x07'),
            "{:?}",
            r.stderr
        );
    }
    assert!(
        r.stderr.contains("\\u{1b}"),
        "shown escaped: {:?}",
        r.stderr
    );
}

/// Walks `crm edit customer 1` keeping every value, running `meanwhile` while it waits at the
/// city prompt and waiting for `then` at the end; returns the walk's exit status and screen.
fn walk_with(env: &Env, meanwhile: &[&str], then: &str) -> (i32, String) {
    let mut p = Pty::spawn(env, &["edit", "customer", "1"]);
    for label in CUSTOMER_LABELS {
        p.wait(label);
        if label == "城市" {
            env.run(meanwhile).ok();
        }
        p.send(if label == "备注" { "走查\r" } else { ENTER });
    }
    p.wait(then);
    p.finish()
}

#[test]
fn the_edit_walk_conflicts_only_on_a_value_it_showed() {
    let env = Env::new();
    env.add("customer", &["--name", "甲", "--city", "深圳"]);
    // A derived value (last contact, set by `log`) is not one the walk showed.
    let (code, screen) = walk_with(
        &env,
        &["log", "customer", "1", "电话"],
        "updated customer 1",
    );
    assert_eq!(code, 0, "{screen}");
    assert_eq!(show(&env, "customer", "1")["notes"], "走查");
    // A shown value changed meanwhile: 5, nothing overwritten.
    let (code, screen) = walk_with(
        &env,
        &["edit", "customer", "1", "--city", "杭州"],
        "changed since it was read (city is now 杭州)",
    );
    assert_eq!(code, 5, "{screen}");
    assert_eq!(show(&env, "customer", "1")["city"], "杭州");
}

#[test]
fn concurrent_edits_keep_derived_values_from_the_stored_record() {
    let env = Env::new();
    env.add("customer", &["--name", "甲"]);
    let opp = env
        .add(
            "opportunity",
            &[
                "--customer",
                "1",
                "--name",
                "扩容",
                "--stage",
                "prospecting",
            ],
        )
        .to_string();
    let n: i32 = 12;
    // One editor moves the stage back and forth, one changes the notes, one the amount.
    let script = format!(
        "( i=1; while [ $i -le {n} ]; do if [ $((i % 2)) -eq 1 ]; then s=proposal; else s=qualification; fi; \
           \"$CRM\" edit opportunity {opp} --stage $s -q || echo \"FAIL stage $i\"; i=$((i+1)); done ) &\n\
         ( i=1; while [ $i -le {n} ]; do \"$CRM\" edit opportunity {opp} --notes n$i -q || echo \"FAIL notes $i\"; i=$((i+1)); done ) &\n\
         ( i=1; while [ $i -le {n} ]; do \"$CRM\" edit opportunity {opp} --amount $i.00 -q || echo \"FAIL amount $i\"; i=$((i+1)); done ) &\n\
         wait\n"
    );
    let r = env.sh(&script);
    r.ok();
    assert!(!r.stdout.contains("FAIL"), "{}{}", r.stdout, r.stderr);
    let j = show(&env, "opportunity", &opp);
    assert_eq!(j["stage"], "qualification");
    assert_eq!(j["notes"], format!("n{n}"));
    assert_eq!(j["amount"], format!("{n}.00"));
    // The probability a qualification deal gets when written alone.
    let alone = env
        .add(
            "opportunity",
            &[
                "--customer",
                "1",
                "--name",
                "对照",
                "--stage",
                "qualification",
            ],
        )
        .to_string();
    let implied = show(&env, "opportunity", &alone)["probability"].as_i64();
    assert_eq!(
        j["probability"].as_i64(),
        implied,
        "the probability follows the stored stage"
    );
    assert_eq!(
        i64::try_from(
            env.record("opportunity", opp.parse().unwrap())["stages"]
                .as_array()
                .unwrap()
                .len(),
        )
        .unwrap(),
        i64::from(n) + 1,
        "every stage change recorded once, from the stored stage"
    );
}
