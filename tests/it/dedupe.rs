//! Duplicates: `crm dedupe` groups (equal keys after normalising, similar names with a
//! score, SPEC's JSON), `import --dedupe` and `--key name`, `credit_code` unique (exit 5 as
//! every unique value) and an upgrade over customers already sharing a credit code.

use crate::harness::{Env, skip_unless_sqlite, write};

/// A valid credit code, and the same in lower case.
const CREDIT: &str = "91350100M000100Y43";

fn dedupe(env: &Env, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["dedupe"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    env.run(&all).ok().json()
}

#[test]
fn the_issues_two_rainbow_customers_are_one_name_group_in_specs_json() {
    let env = Env::new();
    let a = env.add("customer", &["--name", "彩虹网络有限公司"]);
    env.add("customer", &["--name", "彩虹网络北京分公司"]);
    let b = env.add("customer", &["--name", "彩虹网络 (有限公司)"]);
    let c = env.add("customer", &["--name", "ＲＡＩＮＢＯＷ Co., Ltd."]);
    let d = env.add("customer", &["--name", "rainbow"]);
    let g = dedupe(&env, &["customer", "--rule", "name"]);
    assert_eq!(g.as_array().map(Vec::len), Some(2), "{g}");
    assert_eq!(g[0]["group"], 1);
    assert_eq!(g[0]["rule"], "name");
    assert_eq!(g[0]["score"], 1.0);
    let ids: Vec<i64> = g[0]["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, vec![a, b]);
    let first = &g[0]["records"][0];
    assert!(
        first["key"].as_str().is_some_and(|k| k.starts_with('C')),
        "{first}"
    );
    assert_eq!(first["name"], "彩虹网络有限公司");
    assert_eq!(g[1]["records"][0]["id"], c);
    assert_eq!(g[1]["records"][1]["id"], d);
    // The same run twice gives the same bytes: a deterministic order.
    let again = dedupe(&env, &["customer", "--rule", "name"]);
    assert_eq!(g, again);
}

#[test]
fn phones_and_emails_match_normalised_and_the_table_names_each_group() {
    let env = Env::new();
    env.add(
        "customer",
        &[
            "--name",
            "甲",
            "--phone",
            "138 0013 8000",
            "--email",
            "A@X.COM",
        ],
    );
    env.add("customer", &["--name", "乙", "--phone", "+86-13800138000"]);
    env.add("customer", &["--name", "丙", "--email", "a@x.com"]);
    let g = dedupe(&env, &["customer", "--rule", "phone", "--rule", "email"]);
    let rules: Vec<&str> = g
        .as_array()
        .expect("groups")
        .iter()
        .map(|x| x["rule"].as_str().expect("rule"))
        .collect();
    assert_eq!(rules, vec!["phone", "email"], "{g}");
    assert_eq!(g[0]["records"][1]["phone"], "+86-13800138000");
    let table = env.run(&["dedupe", "customer"]);
    table.ok();
    assert!(
        table.stdout.contains("phone") && table.stdout.contains("甲"),
        "{}",
        table.stdout
    );
    // --where narrows: only 甲 and 丙 are left, who share the e-mail.
    let g = dedupe(&env, &["customer", "--where", "name!=乙"]);
    assert_eq!(g.as_array().map(Vec::len), Some(1), "{g}");
    assert_eq!(g[0]["rule"], "email");
}

#[test]
fn similar_names_have_a_score_and_min_score_filters_them() {
    let env = Env::new();
    env.add("customer", &["--name", "深圳市彩虹网络科技有限公司"]);
    env.add("customer", &["--name", "深圳市彩虹网洛科技"]);
    env.add("customer", &["--name", "杭州蓝天物流有限公司"]);
    let g = dedupe(&env, &["customer", "--rule", "similar"]);
    assert_eq!(g.as_array().map(Vec::len), Some(1), "{g}");
    let score = g[0]["score"].as_f64().expect("score");
    assert!((0.9..1.0).contains(&score), "{score}");
    assert_eq!(g[0]["records"].as_array().map(Vec::len), Some(2));
    let none = dedupe(
        &env,
        &["customer", "--rule", "similar", "--min-score", "0.99"],
    );
    assert_eq!(none, serde_json::json!([]));
    env.run(&["dedupe", "customer", "--min-score", "2"]).code(2);
    env.run(&["dedupe", "customer", "--rule", "nope"]).code(2);
    env.run(&["dedupe", "product"]).code(2);
}

#[test]
fn short_look_alikes_are_not_similar_but_a_one_character_typo_is() {
    let env = Env::new();
    let a = env.add("customer", &["--name", "杭州盛美教育有限公司"]);
    let b = env.add("customer", &["--name", "杭州恒盛教育有限公司"]);
    let c = env.add("customer", &["--name", "杭州盛美教肓集团"]);
    env.add("customer", &["--name", "Wayne 兆尚千电子 Inc."]);
    env.add("customer", &["--name", "Wayne 尚华达电子 LLC"]);
    // Jaro-Winkler rates both look-alike pairs above 0.9; they are two edits apart.
    let ids = |g: &serde_json::Value| -> Vec<Vec<i64>> {
        g.as_array()
            .expect("groups")
            .iter()
            .map(|x| {
                x["records"]
                    .as_array()
                    .expect("records")
                    .iter()
                    .map(|r| r["id"].as_i64().expect("id"))
                    .collect()
            })
            .collect()
    };
    let g = dedupe(&env, &["customer", "--rule", "similar"]);
    assert_eq!(ids(&g), vec![vec![a, c]], "{g}");
    // A lower threshold allows more edits: a 0.4 share of six characters is two.
    let g = dedupe(
        &env,
        &["customer", "--rule", "similar", "--min-score", "0.6"],
    );
    assert!(
        ids(&g).iter().any(|m| m.contains(&a) && m.contains(&b)),
        "{g}"
    );
}

#[test]
fn contacts_match_by_name_within_a_customer_and_leads_by_company() {
    let env = Env::new();
    let c1 = env.add("customer", &["--name", "一号"]).to_string();
    let c2 = env.add("customer", &["--name", "二号"]).to_string();
    env.add("contact", &["--customer", &c1, "--name", "张伟"]);
    env.add("contact", &["--customer", &c1, "--name", "张 伟"]);
    env.add("contact", &["--customer", &c2, "--name", "张伟"]);
    let g = dedupe(&env, &["contact"]);
    assert_eq!(g.as_array().map(Vec::len), Some(1), "{g}");
    assert_eq!(g[0]["rule"], "name");
    env.add("lead", &["--name", "王", "--company", "蓝天物流有限公司"]);
    env.add("lead", &["--name", "李", "--company", "蓝天物流"]);
    let g = dedupe(&env, &["lead", "--rule", "company"]);
    assert_eq!(g[0]["records"].as_array().map(Vec::len), Some(2), "{g}");
}

#[test]
fn roles_dedupe_what_they_may_read() {
    let env = Env::new();
    env.add("lead", &["--name", "王", "--company", "蓝天物流"]);
    env.add_user("svc", "service");
    env.add_user("bob", "sales");
    let svc = env.token("svc");
    env.run_as(&svc, &["dedupe", "customer"]).ok();
    env.run_as(&svc, &["dedupe", "lead"]).code(7);
    let bob = env.token("bob");
    env.run_as(&bob, &["dedupe", "lead", "--format", "json"])
        .ok();
}

const FIRST: &str =
    "name,phone,city\n彩虹网络有限公司,,北京\n蓝天物流,13900139000,上海\n青山科技,,杭州\n";
/// The same customers corrected: other spellings, a new city.
const CORRECTED: &str = "name,phone,city\n彩虹网络（有限公司）,,深圳\n蓝天物流有限公司,+86 139 0013 9000,上海\n青山 科技,,宁波\n";

#[test]
fn reimporting_a_corrected_file_with_dedupe_or_key_name_inserts_no_duplicates() {
    let env = Env::new();
    let (first, fixed) = (env.path("first.csv"), env.path("fixed.csv"));
    write(&first, FIRST);
    write(&fixed, CORRECTED);
    let (first, fixed) = (first.to_str().expect("path"), fixed.to_str().expect("path"));
    env.run(&["import", "customer", first]).ok();
    let rejects = env.path("rejects.csv");
    let r = env.run(&[
        "import",
        "customer",
        fixed,
        "--dedupe",
        "--on-error",
        "skip",
        "--rejects",
        rejects.to_str().expect("path"),
    ]);
    r.code(4);
    assert_eq!(env.count("customer"), 3);
    let text = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(
        text.contains("duplicate of customer C000001 (name)"),
        "{text}"
    );
    assert!(
        text.contains("duplicate of customer C000002 (phone)"),
        "{text}"
    );
    env.run(&[
        "import", "customer", fixed, "--mode", "upsert", "--key", "name",
    ])
    .ok();
    assert_eq!(env.count("customer"), 3);
    assert_eq!(env.count_where("customer", &["city=深圳"]), 1);
    assert_eq!(env.count_where("customer", &["city=宁波"]), 1);
    // The batch reverts as any other.
    env.run(&["import", "revert", "3"]).ok();
    assert_eq!(env.count_where("customer", &["city=深圳"]), 0);
}

#[test]
fn dedupe_rejects_a_repeat_within_the_file_and_a_key_matching_several_is_a_row_error() {
    let env = Env::new();
    let f = env.path("two.csv");
    write(&f, "name,phone\n甲公司,13800138000\n乙公司,138-0013-8000\n");
    let f = f.to_str().expect("path");
    let r = env.run(&["import", "customer", f, "--dedupe"]);
    r.code(4);
    assert!(
        r.stderr.contains("duplicate of customer C000001 (phone)"),
        "{}",
        r.stderr
    );
    assert_eq!(env.count("customer"), 0, "abort mode writes nothing");
    env.run(&["import", "customer", f]).ok();
    let g = env.path("by-phone.csv");
    write(&g, "phone,city\n+8613800138000,北京\n");
    let r = env.run(&[
        "import",
        "customer",
        g.to_str().expect("path"),
        "--mode",
        "update",
        "--key",
        "phone",
    ]);
    r.code(4);
    assert!(
        r.stderr
            .contains("matches several records: customer C000001, customer C000002"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_taken_credit_code_exits_as_every_unique_value() {
    let env = Env::new();
    env.add(
        "customer",
        &["--name", "甲", "--code", "K1", "--credit-code", CREDIT],
    );
    let code = env
        .run(&["add", "customer", "--name", "乙", "--code", "K1"])
        .code;
    assert_eq!(code, 5);
    let r = env.run(&[
        "add",
        "customer",
        "--name",
        "乙",
        "--credit-code",
        &CREDIT.to_lowercase(),
    ]);
    r.code(code).one_error_line();
    assert!(r.stderr.contains("credit_code"), "{}", r.stderr);
    let f = env.path("dup.csv");
    write(&f, format!("name,credit_code\n丙,{CREDIT}\n"));
    let f = f.to_str().expect("path");
    let by_code = env.path("dupcode.csv");
    write(&by_code, "name,code\n丁,K1\n");
    let want = env
        .run(&["import", "customer", by_code.to_str().expect("path")])
        .code;
    let r = env.run(&["import", "customer", f]);
    r.code(want);
    assert!(r.stderr.contains("credit_code"), "{}", r.stderr);
    assert_eq!(env.count("customer"), 1);
}

#[test]
fn an_upgrade_over_customers_sharing_a_credit_code_warns_and_check_makes_the_index_once_resolved() {
    if skip_unless_sqlite("builds a SQLite file at the version before the step") {
        return;
    }
    let env = Env::new();
    // Version 10: the search index step (11) indexes the planted records, step 12 meets them.
    crate::schema_drift::database_at_version(&env, 10);
    env.sql()
        .execute_batch(&format!(
            "INSERT INTO customer (code, name, status, owner, credit_code, created_at, updated_at)
                 VALUES ('D1', 'dup one', 'active', 'admin', '{CREDIT}', 0, 0),
                        ('D2', 'dup two', 'active', 'admin', '{CREDIT}', 0, 0);"
        ))
        .expect("plant duplicates");
    let r = env.run(&["find", "customer", "--count"]);
    r.ok();
    assert!(
        r.stderr.contains("warning: credit_code is not yet unique"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(CREDIT), "{}", r.stderr);
    assert_eq!(
        env.sql_int("PRAGMA user_version"),
        crm::db::migrate::latest()
    );
    let index = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'customer_credit_code_unique'";
    assert_eq!(env.sql_int(index), 0);
    let check = env.run(&["check"]);
    check.code(9);
    assert!(
        check.stdout.contains("credit_code_unique"),
        "{}",
        check.stdout
    );
    let g = dedupe(&env, &["customer", "--rule", "credit_code"]);
    assert_eq!(g[0]["records"].as_array().map(Vec::len), Some(2), "{g}");
    let id = g[0]["records"][1]["id"].to_string();
    env.run(&["edit", "customer", &id, "--unset", "credit_code"])
        .ok();
    env.run(&["check"]).ok();
    assert_eq!(env.sql_int(index), 1);
}
