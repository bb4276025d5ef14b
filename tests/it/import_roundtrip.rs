//! The round-trip property over every entity: hostile text (quotes, separators, newlines,
//! formula starters, Chinese, emoji, leading zeros) imports verbatim, and export → import →
//! export is byte-identical.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::harness::{Env, write};

const PIECES: &[&str] = &[
    "\"", ",", "\n", "\r\n", "=", "+", "-", "@", "\t", "'", "深圳", "😀", "007", " ", "a", ";",
    "𠀀", "\\", "%", "\u{202E}",
];

fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 1..6).prop_map(|v| v.concat())
}

/// Parents every entity's references can point at: (target entity, id-or-key text).
struct Parents(Vec<(&'static str, String)>);

fn parents(env: &Env) -> Parents {
    env.add("customer", &["--name", "父客户", "--code", "PC1"]);
    let contact = env.add("contact", &["--customer", "PC1", "--name", "父联系人"]);
    env.add("campaign", &["--name", "PCamp"]);
    let opp = env.add("opportunity", &["--customer", "PC1", "--name", "父机会"]);
    env.add("product", &["--name", "父产品", "--code", "PP1"]);
    env.add("quote", &["--customer", "PC1", "--number", "PQ1"]);
    env.add("order", &["--customer", "PC1", "--number", "PO1"]);
    Parents(vec![
        ("customer", "PC1".into()),
        ("contact", contact.to_string()),
        ("campaign", "PCamp".into()),
        ("opportunity", opp.to_string()),
        ("product", "PP1".into()),
        ("quote", "PQ1".into()),
        ("order", "PO1".into()),
    ])
}

/// A valid cell for a non-text field of the schema (from `crm schema --format json`).
fn cell(p: &Parents, f: &serde_json::Value, row: usize, text: &str) -> String {
    let name = f["name"].as_str().expect("name");
    let unique = f["unique"].as_bool().unwrap_or(false);
    match f["type"].as_str().expect("type") {
        "text" if unique => format!("{text}#{row}"),
        "text" => text.to_string(),
        "email" => format!("u{row}@example.cn"),
        "phone" => "013800000000".into(),
        "integer" => if name == "satisfaction" || name == "quantity" {
            "1"
        } else {
            "0"
        }
        .into(),
        "money" => "12.50".into(),
        "date" => "2024-02-29".into(),
        "datetime" => "2024-03-01T09:30:00+08:00".into(),
        "bool" => "true".into(),
        "choice" => f["choices"][0].as_str().map_or_else(
            || {
                f["choices"][0]["value"]
                    .as_str()
                    .expect("choice")
                    .to_string()
            },
            str::to_string,
        ),
        "tags" => "甲;b".into(),
        "user" => "admin".into(),
        "credit_code" => "91440300MA5DC6QX9C".into(),
        "reference" => {
            let target = f["references"]
                .as_str()
                .or_else(|| f["target"].as_str())
                .unwrap_or(name);
            p.0.iter()
                .find(|(t, _)| *t == target)
                .map(|(_, k)| k.clone())
                .unwrap_or_else(|| panic!("no parent for {target}"))
        }
        other => panic!("unknown type {other}"),
    }
}

/// What export writes for a text value (the apostrophe guard).
fn guard(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r', '\n', '\'']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn round_trip(env: &Env, p: &Parents, entity: &str, schema: &serde_json::Value, texts: &[String]) {
    let fields: Vec<&serde_json::Value> = schema["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter(|f| !f["read_only"].as_bool().unwrap_or(false))
        .collect();
    let names: Vec<&str> = fields
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&names).expect("header");
    let mut expect: Vec<Vec<String>> = Vec::new();
    for (row, text) in texts.iter().enumerate() {
        let values: Vec<String> = fields.iter().map(|f| cell(p, f, row, text)).collect();
        w.write_record(values.iter().zip(&fields).map(|(v, f)| {
            if f["type"] == "text" {
                guard(v)
            } else {
                v.clone()
            }
        }))
        .expect("row");
        expect.push(values);
    }
    let file = env.path(&format!("{entity}-0.csv"));
    write(&file, w.into_inner().expect("csv"));
    let first = env.sql_int(&format!(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM \"{entity}\""
    ));
    let r = env.run(&[
        "import",
        entity,
        file.to_str().expect("path"),
        "--format",
        "json",
    ]);
    let b1 = r.ok().json()["batch"].as_i64().expect("batch");
    // Stored text equals the input text, byte for byte.
    for (i, f) in fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f["type"] == "text")
    {
        let sql = format!(
            "SELECT \"{}\" FROM \"{entity}\" WHERE id >= {first} ORDER BY id",
            f["name"].as_str().expect("name")
        );
        let stored: Vec<Option<String>> = env
            .sql()
            .prepare(&sql)
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let want: Vec<Option<String>> = expect.iter().map(|row| Some(row[i].clone())).collect();
        assert_eq!(stored, want, "{entity}.{}", f["name"]);
    }
    let out1 = env.path(&format!("{entity}-1.csv"));
    let w1 = format!("id>={first}");
    env.run(&[
        "export",
        entity,
        "--where",
        &w1,
        "-o",
        out1.to_str().expect("path"),
        "--force",
    ])
    .ok();
    env.run(&["import", "revert", &b1.to_string()]).ok();
    let first2 = env.sql_int(&format!(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM \"{entity}\""
    ));
    let r = env.run(&[
        "import",
        entity,
        out1.to_str().expect("path"),
        "--format",
        "json",
    ]);
    let b2 = r.ok().json()["batch"].as_i64().expect("batch");
    let out2 = env.path(&format!("{entity}-2.csv"));
    let w2 = format!("id>={first2}");
    env.run(&[
        "export",
        entity,
        "--where",
        &w2,
        "-o",
        out2.to_str().expect("path"),
        "--force",
    ])
    .ok();
    let (a, b) = (
        std::fs::read(&out1).expect("out1"),
        std::fs::read(&out2).expect("out2"),
    );
    assert_eq!(
        String::from_utf8_lossy(&a),
        String::from_utf8_lossy(&b),
        "{entity}: export → import → export"
    );
    env.run(&["import", "revert", &b2.to_string()]).ok();
}

fn check(entities: &[&str]) {
    let env = Env::new();
    let p = parents(&env);
    for entity in entities {
        let schema = env.run(&["schema", entity, "--format", "json"]).ok().json();
        let schema = if schema.is_array() {
            schema[0].clone()
        } else {
            schema
        };
        let mut runner = TestRunner::new(Config {
            cases: 2,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&prop::collection::vec(hostile(), 1..4), |texts| {
                round_trip(&env, &p, entity, &schema, &texts);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{entity}: {e}"));
    }
}

#[test]
fn round_trip_customer_contact_campaign_lead() {
    check(&["customer", "contact", "campaign", "lead"]);
}

#[test]
fn round_trip_opportunity_product_quote_lines() {
    check(&["opportunity", "product", "quote", "quote_line"]);
}

#[test]
fn round_trip_order_contract_activity_ticket() {
    check(&["order", "order_line", "contract", "activity", "ticket"]);
}
