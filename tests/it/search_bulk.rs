//! The search index a large first import builds on a second thread and copies in at its
//! end (`db::search::side`): it answers every kind of query as the index built record by
//! record does, `crm check` finds it whole, and it keeps working for later writes (add,
//! edit, delete, a second import, a revert).

use crate::harness::{Env, skip_unless_sqlite, write};

const SURNAMES: [&str; 6] = ["张", "单", "曾", "仇", "李", "吕"];
const GIVEN: [&str; 6] = ["伟", "雄信", "国藩", "英", "娜", "布"];
const TRADES: [&str; 4] = ["科技", "贸易", "数据", "物流"];

/// A customers file of `n` rows: people, Chinese and English companies, phones with
/// separators, e-mails, cities.
fn file(env: &Env, n: usize) -> String {
    let mut csv = String::from("code,name,phone,email,city\n");
    for i in 0..n {
        let name = match i % 3 {
            0 => format!("{}{}", SURNAMES[(i / 3) % 6], GIVEN[(i / 18) % 6]),
            1 => format!("北京{}有限公司{i}", TRADES[i % 4]),
            _ => format!("Acme {} Co., Ltd. {i}", TRADES[(i / 3) % 4]),
        };
        let phone = if i % 2 == 0 {
            format!("139-{:04}-{:04}", i % 9999, (i * 7) % 9999)
        } else {
            format!("+86 138 {:04} {:04}", (i * 3) % 9999, i % 9999)
        };
        csv.push_str(&format!(
            "K{i:06},\"{name}\",{phone},user{i}@example{}.com,{}\n",
            i % 7,
            if i % 2 == 0 { "上海" } else { "Paris" }
        ));
    }
    let path = env.path("customers.csv");
    write(&path, csv);
    path.to_string_lossy().into_owned()
}

const QUERIES: [&str; 22] = [
    "张",
    "张伟",
    "单雄信",
    "科技",
    "技有",
    "北京数据有限公司1",
    "zhangwei",
    "zhang wei",
    "zw",
    "shanxiongxin",
    "danxiongxin",
    "cengguofan",
    "lvbu",
    "bjkj",
    "keji",
    "acme",
    "ltd. 4",
    "13900",
    "1380003",
    "+86 138 0003",
    "user12@",
    "k00012",
];

/// What each query finds, in order.
fn answers(env: &Env) -> Vec<(String, Vec<i64>)> {
    QUERIES
        .iter()
        .map(|q| {
            let found = env
                .read_json(&["find", "customer", q, "--limit", "100000"])
                .as_array()
                .expect("an array")
                .iter()
                .map(|r| r["id"].as_i64().expect("an id"))
                .collect();
            ((*q).to_string(), found)
        })
        .collect()
}

#[test]
fn an_index_built_beside_a_first_import_answers_as_one_built_record_by_record() {
    if skip_unless_sqlite("the index built on a second thread is SQLite's FTS5") {
        return;
    }
    let n = 3000;
    // Beside: any file counts as large (CRM_TEST_DEFER_BYTES); in place: the default.
    let beside = Env::new();
    let path = file(&beside, n);
    let r = beside.run_env(
        &["import", "customer", &path, "-q"],
        &[("CRM_TEST_DEFER_BYTES", "1")],
    );
    r.ok();
    let in_place = Env::new();
    let path2 = file(&in_place, n);
    in_place.run(&["import", "customer", &path2, "-q"]).ok();
    let a = answers(&beside);
    assert_eq!(a, answers(&in_place));
    let empty: Vec<&String> = a
        .iter()
        .filter(|(_, ids)| ids.is_empty())
        .map(|(q, _)| q)
        .collect();
    assert!(empty.is_empty(), "found nothing: {empty:?}");
    beside.run(&["check"]).ok();
    // A count read from the index alone (an exact query) is the number of matches listed.
    for (q, ids) in a
        .iter()
        .filter(|(q, _)| ["张", "科技", "13900"].contains(&q.as_str()))
    {
        let n = beside
            .run(&["find", "customer", q, "--count"])
            .ok()
            .stdout
            .trim()
            .to_string();
        assert_eq!(n, ids.len().to_string(), "{q}");
    }

    // Later writes go to the copied index in place.
    let id = beside.add(
        "customer",
        &["--name", "曾国藩科技", "--phone", "139 0000 1111"],
    );
    let found = |q: &str| -> Vec<i64> {
        beside
            .read_json(&["find", "customer", q, "--limit", "100000"])
            .as_array()
            .expect("an array")
            .iter()
            .map(|r| r["id"].as_i64().expect("an id"))
            .collect()
    };
    assert!(found("zgfkj").contains(&id));
    beside
        .run(&["edit", "customer", &id.to_string(), "--name", "吕布物流"])
        .ok();
    assert!(!found("zgfkj").contains(&id));
    assert!(found("lvbuwuliu").contains(&id));
    let first: i64 = 1;
    beside
        .run(&["delete", "customer", &first.to_string(), "--yes"])
        .ok();
    assert!(!found("zhangwei").contains(&first));
    let n = beside
        .run(&["find", "customer", "张", "--count"])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert_eq!(n, found("张").len().to_string());
    // A second import (into a table no longer empty) indexes in place; reverting it
    // removes its records from the index.
    let more = beside.path("more.csv");
    write(&more, "name,phone\n仇英数据,010-8888-7777\n");
    beside
        .run_env(
            &["import", "customer", &more.to_string_lossy(), "-q"],
            &[("CRM_TEST_DEFER_BYTES", "1")],
        )
        .ok();
    assert_eq!(found("qiuyingshuju").len(), 1);
    beside.run(&["check"]).ok();
    let batches = beside.read_json(&["import", "history"]);
    let last = batches
        .as_array()
        .expect("batches")
        .iter()
        .filter_map(|b| b["batch"].as_i64())
        .max()
        .expect("a batch");
    beside.run(&["import", "revert", &last.to_string()]).ok();
    assert!(found("qiuyingshuju").is_empty());
    beside.run(&["check"]).ok();
}
