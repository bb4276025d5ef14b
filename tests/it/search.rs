//! `crm find ENTITY TEXT` through the search index: Chinese of one and two characters,
//! pinyin (full, initials, prefixes, spaced, every reading of a heteronym), phone fragments
//! whatever the separators, literal `%` and `_`, ranking, and the index kept by every write
//! path (add, edit, delete, import, revert) and built for a file from before it.

use crate::harness::{Env, skip_unless_sqlite, write};

/// The ids `find customer TEXT` prints, in order.
fn ids(env: &Env, text: &str) -> Vec<i64> {
    ids_of(env, &["find", "customer", text])
}

/// The ids a listing command prints, in order.
fn ids_of(env: &Env, args: &[&str]) -> Vec<i64> {
    env.read_json(args)
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| r["id"].as_i64().expect("an id"))
        .collect()
}

fn customers(env: &Env) -> (i64, i64, i64, i64) {
    let zhang = env.add(
        "customer",
        &[
            "--name",
            "张伟",
            "--phone",
            "139-1234-5678",
            "--city",
            "北京",
        ],
    );
    let shan = env.add(
        "customer",
        &[
            "--name",
            "单雄信贸易",
            "--phone",
            "+86 139 8765 4321",
            "--email",
            "Shan@Example.cn",
        ],
    );
    let keji = env.add(
        "customer",
        &[
            "--name",
            "北京科技有限公司",
            "--phone",
            "(010) 6234-5678",
            "--city",
            "上海",
        ],
    );
    let pct = env.add("customer", &["--name", "100% 满意_服务", "--city", "Paris"]);
    (zhang, shan, keji, pct)
}

#[test]
fn chinese_of_any_length_pinyin_and_phones_find_their_records() {
    let env = Env::new();
    let (zhang, shan, keji, pct) = customers(&env);
    assert_eq!(ids(&env, "张"), [zhang]);
    assert_eq!(ids(&env, "张伟"), [zhang]);
    assert_eq!(ids(&env, "科技"), [keji]);
    // a name that starts with it before a city that is it
    assert_eq!(ids(&env, "北京"), [keji, zhang]);
    assert_eq!(ids(&env, "科技有限"), [keji]);
    assert!(ids(&env, "张科").is_empty());
    // pinyin: full, spaced, initials, prefixes, any case; a heteronym by either reading
    for q in ["zhangwei", "zhang wei", "ZW", "zhangw", "Zhang"] {
        assert_eq!(ids(&env, q), [zhang], "{q}");
    }
    assert_eq!(ids(&env, "shanxiongxin"), [shan]);
    assert_eq!(ids(&env, "danxiongxin"), [shan]);
    assert_eq!(ids(&env, "keji"), [keji], "from any syllable on");
    assert!(ids(&env, "zhangx").is_empty());
    // phones: digits whatever the separators, with or without +86/0086
    assert_eq!(ids(&env, "13912345"), [zhang]);
    assert_eq!(ids(&env, "139 1234 5678"), [zhang]);
    assert_eq!(ids(&env, "+86 139-8765"), [shan]);
    assert_eq!(ids(&env, "0086 13987654321"), [shan]);
    assert_eq!(ids(&env, "62345678"), [keji]);
    assert_eq!(ids(&env, "139"), [zhang, shan]);
    // literal wildcards, case-insensitive Latin, e-mail fragments
    assert_eq!(ids(&env, "100%"), [pct]);
    assert_eq!(ids(&env, "意_服"), [pct]);
    assert!(ids(&env, "1_0").is_empty());
    assert_eq!(ids(&env, "shan@example"), [shan]);
    assert_eq!(ids(&env, "PARIS"), [pct]);
    assert_eq!(ids(&env, "%"), [pct]);
    let n = env.run(&["find", "customer", "北京", "--count"]);
    n.ok();
    assert_eq!(n.stdout.trim(), "2");
    // A count and a list sorted by a field find the same records as the ranked list, by
    // other queries (the index alone, or its rows joined to the records).
    for (q, want) in [
        ("zhangwei", vec![zhang]),
        ("ZW", vec![zhang]),
        ("139", vec![zhang, shan]),
        ("北京", vec![zhang, keji]),
        ("科技", vec![keji]),
        ("张科", vec![]),
        ("%", vec![pct]),
        ("shan@example", vec![shan]),
    ] {
        let sorted = ids_of(&env, &["find", "customer", q, "--sort", "id"]);
        assert_eq!(sorted, want, "{q} --sort id");
        let n = env.run(&["find", "customer", q, "--count"]);
        n.ok();
        assert_eq!(n.stdout.trim(), want.len().to_string(), "{q} --count");
    }
}

#[test]
fn without_sort_exact_key_then_exact_name_then_name_prefix_then_the_rest() {
    let env = Env::new();
    let rest = env.add("customer", &["--name", "上海华信", "--city", "华信"]);
    let prefix = env.add("customer", &["--name", "华信软件"]);
    let exact = env.add("customer", &["--name", "华信"]);
    let key = env.add("customer", &["--name", "其他", "--code", "华信"]);
    assert_eq!(ids(&env, "华信"), [key, exact, prefix, rest]);
    // --sort decides when given
    let sorted: Vec<i64> = env
        .read_json(&["find", "customer", "华信", "--sort", "id"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(sorted, [rest, prefix, exact, key]);
}

/// Random customers whose codes and names often are, start with or hold the queries below,
/// and whose names match some of them by pinyin only (a deterministic generator: the same
/// file every run).
fn ranked_file(env: &Env, n: usize) -> String {
    const PIECES: [&str; 9] = ["张伟", "华信", "zw", "Zhang", "科技", "伟", "章", "z", "ZW"];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % m as u64).expect("small")
    };
    let mut csv = String::from("code,name,city\n");
    for i in 0..n {
        let parts = 1 + next(3);
        let name: String = (0..parts).map(|_| PIECES[next(PIECES.len())]).collect();
        // Some codes are a query exactly (each at most once: codes are unique).
        let code = match PIECES.get(i) {
            Some(p) if next(2) == 0 => (*p).to_string(),
            _ => format!("R{i:04}"),
        };
        let city = if next(4) == 0 {
            PIECES[next(PIECES.len())]
        } else {
            ""
        };
        csv.push_str(&format!("{code},{name},{city}\n"));
    }
    let path = env.path("ranked.csv");
    write(&path, csv);
    path.to_string_lossy().into_owned()
}

/// With a limit the ranked search pages in two queries (`db::query::paged`): every page
/// equals the same slice of the one query's whole, ranked list, wherever the page starts
/// (within the records ranked above the rest, across their end, past it, past the end).
#[test]
fn a_page_of_a_ranked_search_is_that_slice_of_the_whole_list() {
    let env = Env::new();
    let file = ranked_file(&env, 120);
    env.run(&["import", "customer", &file]).ok();
    let page = |q: &str, limit: usize, offset: usize| -> Vec<i64> {
        env.read_json(&[
            "find",
            "customer",
            q,
            "--limit",
            &limit.to_string(),
            "--offset",
            &offset.to_string(),
        ])
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| r["id"].as_i64().expect("an id"))
        .collect()
    };
    for q in [
        "zw", "张伟", "华信", "zhang", "z", "伟", "zhangwei", "科技", "ZW",
    ] {
        let whole = ids(&env, q);
        assert!(!whole.is_empty(), "{q} finds something");
        let n = whole.len();
        for (limit, offset) in [
            (1, 0),
            (3, 0),
            (5, 2),
            (n, 0),
            (2, 7),
            (4, n - 1),
            (3, n + 2),
            (0, 0),
        ] {
            let want: Vec<i64> = whole.iter().copied().skip(offset).take(limit).collect();
            assert_eq!(
                page(q, limit, offset),
                want,
                "{q} --limit {limit} --offset {offset}"
            );
        }
    }
}

#[test]
fn every_write_path_keeps_the_index() {
    let env = Env::new();
    let id = env.add("customer", &["--name", "旧名字", "--phone", "13800000000"]);
    env.run(&["edit", "customer", &id.to_string(), "--name", "新名称"])
        .ok();
    assert!(ids(&env, "旧名").is_empty());
    assert!(ids(&env, "jiumingzi").is_empty());
    assert_eq!(ids(&env, "新名"), [id]);
    assert_eq!(ids(&env, "xinmingcheng"), [id]);
    env.run(&["delete", "customer", &id.to_string(), "--yes"])
        .ok();
    assert!(ids(&env, "新名").is_empty());

    let f = env.path("c.csv");
    write(
        &f,
        "name,phone\n导入公司,021-5555-1234\n另一家,021-6666-0000\n",
    );
    let r = env.run(&[
        "import",
        "customer",
        f.to_str().unwrap(),
        "--format",
        "json",
    ]);
    r.ok();
    assert_eq!(ids(&env, "导入").len(), 1);
    assert_eq!(ids(&env, "55551234").len(), 1);
    assert_eq!(ids(&env, "daoru").len(), 1);
    // an update by import changes what is found
    write(&f, "code,name\nC000002,改过的名字\n");
    env.run(&[
        "import",
        "customer",
        f.to_str().unwrap(),
        "--mode",
        "upsert",
        "--key",
        "code",
    ])
    .ok();
    assert!(ids(&env, "导入").is_empty());
    assert_eq!(ids(&env, "改过"), [2]);
    // reverting both imports brings back what was there, and nothing else
    let batches = env.read_json(&["import", "history"]);
    let last = batches
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["batch"].as_i64().unwrap())
        .max()
        .unwrap();
    env.run(&["import", "revert", &last.to_string()]).ok();
    assert_eq!(ids(&env, "导入"), [2]);
    assert!(ids(&env, "改过").is_empty());
    env.run(&["import", "revert", &(last - 1).to_string()]).ok();
    assert!(ids(&env, "导入").is_empty());
    assert!(ids(&env, "另一家").is_empty());
}

#[test]
fn a_file_from_before_the_index_is_indexed_when_it_upgrades() {
    if skip_unless_sqlite("makes a file at an older SQLite schema version") {
        return;
    }
    let env = Env::new();
    crate::schema_drift::database_at_version(&env, 8);
    // The v8 file holds records and no index; the next command upgrades and indexes them.
    assert_eq!(ids(&env, "old cust").len(), 1);
    assert_eq!(ids(&env, "C9000").len(), 1);
    let deals = env.read_json(&["find", "opportunity", "deal"]);
    assert_eq!(deals.as_array().unwrap().len(), 1);
}

#[test]
fn search_covers_every_kind_the_role_may_read() {
    let env = Env::new();
    let c = env.add(
        "customer",
        &["--name", "星河科技", "--phone", "138 0000 1111"],
    );
    env.add(
        "contact",
        &[
            "--customer",
            &c.to_string(),
            "--name",
            "星河联系人",
            "--mobile",
            "13800001111",
        ],
    );
    env.add("lead", &["--name", "星河线索", "--company", "星河"]);
    env.add(
        "ticket",
        &["--customer", &c.to_string(), "--subject", "星河 打印机故障"],
    );
    let all = env.read_json(&["search", "星河"]);
    let kinds: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["entity"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["customer", "contact", "lead", "ticket"]);
    let first = &all[0];
    assert_eq!(first["id"], c);
    assert_eq!(first["key"], "C000001");
    assert_eq!(first["name"], "星河科技");
    assert_eq!(first["field"], "name");
    let lead = &all[2];
    assert_eq!(lead["key"], serde_json::Value::Null, "a lead has no key");
    // a phone fragment: the field it was found in
    let phones = env.read_json(&["search", "80000111", "-e", "contact"]);
    assert_eq!(phones[0]["field"], "mobile");
    assert_eq!(phones.as_array().unwrap().len(), 1);
    // a table per kind on a terminal
    let table = env.run(&["search", "xinghe"]);
    table.ok();
    assert!(
        table.stdout.contains("customer 客户 (1)"),
        "{}",
        table.stdout
    );
    // the service role reads no leads: not searched, and asking for them is refused
    env.add_user("svc", "service");
    let t = env.token("svc");
    let seen = env.run_as(&t, &["search", "星河", "--format", "json"]);
    seen.ok();
    assert!(!seen.stdout.contains("\"lead\""), "{}", seen.stdout);
    assert!(seen.stdout.contains("\"ticket\""), "{}", seen.stdout);
    env.run_as(&t, &["search", "星河", "-e", "lead"])
        .code(7)
        .one_error_line();
    env.run(&["search", "x", "-e", "quote_line"])
        .code(2)
        .one_error_line();
    env.run(&["search", "x", "-e", "nosuch"])
        .code(2)
        .one_error_line();
    env.run(&["search", "  "]).code(2).one_error_line();
    // --limit: at most N of each kind
    let one = env.read_json(&["search", "星河", "--limit", "1", "-e", "customer"]);
    assert_eq!(one.as_array().unwrap().len(), 1);
}

#[test]
fn check_finds_an_index_that_lost_a_record() {
    if skip_unless_sqlite("edits the SQLite file's index behind crm's back") {
        return;
    }
    let env = Env::new();
    let id = env.add("customer", &["--name", "被删索引"]);
    env.run(&["check"]).ok();
    env.sql()
        .execute("DELETE FROM customer_search WHERE rowid = ?1", [id])
        .expect("drop the index row");
    let r = env.run(&["check", "--format", "json"]);
    r.code(9);
    assert!(r.stdout.contains("1 records not indexed"), "{}", r.stdout);
}
