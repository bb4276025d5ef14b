//! Masking (SPEC "Masking"): per role, phones, mobiles and e-mails masked in every output;
//! sales see their own customers whole; `--reveal` for the roles a setting allows, audited;
//! no filtering, sorting or text search through a masked field. Both engines.

use crate::harness::Env;

/// An admin-made world: a customer owned by sam with a contact, one owned by ann, one in the
/// pool; users of every role. Returns (sam's, ann's, pooled) customer ids.
fn world(env: &Env) -> (i64, i64, i64) {
    for (u, r) in [
        ("sam", "sales"),
        ("ann", "sales"),
        ("vic", "viewer"),
        ("sue", "service"),
        ("max", "manager"),
    ] {
        env.add_user(u, r);
    }
    let add = |name: &str, phone: &str, email: &str, owner: &str| {
        env.add(
            "customer",
            &[
                "--name", name, "--phone", phone, "--email", email, "--owner", owner,
            ],
        )
    };
    let sams = add("蓝天科技", "13812345678", "zhang@example.com", "sam");
    let anns = add("彩虹网络", "13987654321", "li@example.com", "ann");
    let pooled = add("白云贸易", "13611112222", "wang@example.com", "ann");
    env.run(&[
        "edit",
        "customer",
        &pooled.to_string(),
        "--unset",
        "owner",
        "-q",
    ])
    .ok();
    env.add(
        "contact",
        &[
            "--customer",
            &anns.to_string(),
            "--name",
            "李四",
            "--mobile",
            "13700001111",
            "--email",
            "si@example.com",
        ],
    );
    (sams, anns, pooled)
}

fn by_name<'a>(rows: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {rows}"))
}

#[test]
fn viewer_sees_masked_values_in_every_format() {
    let env = Env::new();
    let (sams, _, _) = world(&env);
    let vic = env.token("vic");
    let rows = env.read_json_as(&vic, &["find", "customer"]);
    let c = by_name(&rows, "蓝天科技");
    assert_eq!(c["phone"], "138****5678");
    assert_eq!(c["email"], "z***@example.com");
    let contacts = env.read_json_as(&vic, &["find", "contact"]);
    assert_eq!(contacts[0]["mobile"], "137****1111");
    let table = env.run_as(&vic, &["find", "customer"]);
    table.ok();
    assert!(table.stdout.contains("138****5678"), "{}", table.stdout);
    assert!(!table.stdout.contains("13812345678"), "{}", table.stdout);
    let shown = env.read_json_as(&vic, &["show", "customer", &sams.to_string()]);
    assert_eq!(shown["phone"], "138****5678");
    let found = env.read_json_as(&vic, &["search", "蓝天"]);
    assert!(!found.to_string().contains("13812345678"), "{found}");
    assert_eq!(found[0]["field"], "name", "{found}");
    // Admin and manager see every value.
    let all = env.read_json(&["find", "customer"]);
    assert_eq!(by_name(&all, "蓝天科技")["phone"], "13812345678");
    let max = env.token("max");
    let all = env.read_json_as(&max, &["find", "customer"]);
    assert_eq!(by_name(&all, "蓝天科技")["email"], "zhang@example.com");
}

#[test]
fn sales_see_their_own_customers_whole_and_others_masked() {
    let env = Env::new();
    let (sams, anns, pooled) = world(&env);
    let sam = env.token("sam");
    let rows = env.read_json_as(&sam, &["find", "customer"]);
    assert_eq!(by_name(&rows, "蓝天科技")["phone"], "13812345678");
    assert_eq!(by_name(&rows, "彩虹网络")["phone"], "139****4321");
    assert_eq!(by_name(&rows, "白云贸易")["email"], "w***@example.com");
    // Contacts of a customer sam does not own; and CSV says the same.
    let contacts = env.read_json_as(&sam, &["find", "contact"]);
    assert_eq!(contacts[0]["mobile"], "137****1111");
    let csv = env.run_as(&sam, &["--format", "csv", "find", "customer"]);
    csv.ok();
    assert!(csv.stdout.contains("13812345678"), "{}", csv.stdout);
    assert!(csv.stdout.contains("136****2222"), "{}", csv.stdout);
    assert!(!csv.stdout.contains("13611112222"), "{}", csv.stdout);
    assert!(!csv.stdout.contains("li@example"), "{}", csv.stdout);
    let shown = env.read_json_as(&sam, &["show", "customer", &anns.to_string()]);
    assert_eq!(shown["related"]["contact"][0]["email"], "s***@example.com");
    // Claiming the pooled customer makes it sam's: whole from then on.
    env.run_as(&sam, &["pool", "claim", &pooled.to_string()])
        .ok();
    let shown = env.read_json_as(&sam, &["show", "customer", &pooled.to_string()]);
    assert_eq!(shown["phone"], "13611112222");
    assert_eq!(
        env.read_json_as(&sam, &["show", "customer", &sams.to_string()])["email"],
        "zhang@example.com"
    );
}

#[test]
fn text_search_skips_masked_fields() {
    let env = Env::new();
    world(&env);
    let vic = env.token("vic");
    let sam = env.token("sam");
    assert_eq!(
        env.run(&["find", "customer", "5678", "--count"])
            .ok()
            .stdout,
        "1\n"
    );
    assert_eq!(
        env.run_as(&vic, &["find", "customer", "5678", "--count"])
            .ok()
            .stdout,
        "0\n"
    );
    let found = env.read_json_as(&vic, &["find", "customer", "zhang"]);
    assert_eq!(found, serde_json::json!([]));
    let found = env.read_json_as(&vic, &["search", "13700001111"]);
    assert_eq!(found, serde_json::json!([]));
    // Sales search their own customers' phones, not others'.
    assert_eq!(
        env.run_as(&sam, &["find", "customer", "1381234", "--count"])
            .ok()
            .stdout,
        "1\n"
    );
    assert_eq!(
        env.run_as(&sam, &["find", "customer", "1398765", "--count"])
            .ok()
            .stdout,
        "0\n"
    );
    // A field that is not masked is still searched.
    assert_eq!(
        env.run_as(&vic, &["find", "customer", "蓝天", "--count"])
            .ok()
            .stdout,
        "1\n"
    );
}

#[test]
fn where_and_sort_on_a_masked_field_are_refused() {
    let env = Env::new();
    world(&env);
    let vic = env.token("vic");
    let r = env.run_as(&vic, &["find", "customer", "--where", "phone~5678"]);
    r.code(7).one_error_line();
    assert!(r.stderr.contains("customer.phone"), "{}", r.stderr);
    let r = env.run_as(&vic, &["find", "customer", "--sort", "email"]);
    r.code(7);
    assert!(r.stderr.contains("customer.email"), "{}", r.stderr);
    env.run_as(&vic, &["find", "customer", "--sort", "name"])
        .ok();
    let sam = env.token("sam");
    env.run_as(&sam, &["find", "customer", "--where", "phone=13812345678"])
        .code(7);
    env.run(&["find", "customer", "--where", "phone~5678"]).ok();
    // Nor through a bulk edit's count (a manager masked by setting).
    env.run(&["config", "set", "mask.manager", "customer.phone"])
        .ok();
    let max = env.token("max");
    let r = env.run_as(
        &max,
        &[
            "edit",
            "customer",
            "--where",
            "phone~5678",
            "--set",
            "level=A",
            "--dry-run",
        ],
    );
    r.code(7);
    assert!(r.stderr.contains("customer.phone"), "{}", r.stderr);
}

#[test]
fn settings_choose_the_fields_and_the_roles_that_may_reveal() {
    let env = Env::new();
    let (sams, _, _) = world(&env);
    let max = env.token("max");
    let vic = env.token("vic");
    let sam = env.token("sam");
    // The defaults are listed; a bad value is exit 4 and changes nothing.
    let list = env.run(&["config", "list"]);
    assert!(list.ok().stdout.contains("mask.viewer"), "{}", list.stdout);
    env.run(&["config", "set", "mask.viewer", "customer.nope"])
        .code(4)
        .one_error_line();
    env.run(&["config", "set", "mask.viewer", "nope.phone"])
        .code(4);
    env.run(&["config", "set", "mask.reveal_roles", "boss"])
        .code(4);
    // The viewer now sees e-mails but not phones masked.
    env.run(&["config", "set", "mask.viewer", "customer.email"])
        .ok();
    let c = env.read_json_as(&vic, &["show", "customer", &sams.to_string()]);
    assert_eq!(c["phone"], "13812345678");
    assert_eq!(c["email"], "z***@example.com");
    // A manager masked by setting: export masks too, --reveal shows and is audited.
    env.run(&["config", "set", "mask.manager", "customer.phone"])
        .ok();
    let csv = env.run_as(&max, &["export", "customer"]);
    assert!(csv.ok().stdout.contains("138****5678"), "{}", csv.stdout);
    assert!(!csv.stdout.contains("13812345678"), "{}", csv.stdout);
    let before = env.audits(&[("action", "reveal")]);
    let csv = env.run_as(&max, &["--reveal", "export", "customer"]);
    assert!(csv.ok().stdout.contains("13812345678"), "{}", csv.stdout);
    let shown = env.read_json_as(&max, &["--reveal", "show", "customer", &sams.to_string()]);
    assert_eq!(shown["phone"], "13812345678");
    assert_eq!(env.audits(&[("action", "reveal")]), before + 2);
    let rows = env.audit_rows();
    let revealed = rows
        .iter()
        .rfind(|r| r["action"] == "reveal")
        .unwrap()
        .clone();
    assert_eq!(revealed["user"], "max", "{revealed}");
    let detail = revealed["detail"].as_str().unwrap();
    assert!(detail.contains("phone"), "{revealed}");
    assert!(detail.contains(&sams.to_string()), "{revealed}");
    // Roles not allowed are refused, and that is audited too.
    env.run_as(&vic, &["--reveal", "find", "customer"])
        .code(7)
        .one_error_line();
    env.run_as(&sam, &["--reveal", "find", "customer"]).code(7);
    env.run(&["config", "set", "mask.reveal_roles", "admin,manager,sales"])
        .ok();
    let rows = env.read_json_as(&sam, &["--reveal", "find", "customer"]);
    assert_eq!(by_name(&rows, "彩虹网络")["phone"], "13987654321");
    assert_eq!(env.audits(&[("action", "reveal"), ("user", "sam")]), 1);
}

#[test]
fn the_edit_walk_neither_shows_nor_writes_back_a_masked_value() {
    use crate::core_prompts::{CUSTOMER_LABELS, ENTER, Pty};
    let env = Env::new();
    let (sams, _, _) = world(&env);
    let admin = env.token("admin");
    env.run(&[
        "config",
        "set",
        "mask.manager",
        "customer.phone,customer.email",
    ])
    .ok();
    env.login("max");
    let id = sams.to_string();
    let mut p = Pty::spawn(&env, &["edit", "customer", &id]);
    for label in CUSTOMER_LABELS {
        p.wait(label);
        p.send(ENTER);
    }
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("138****5678"), "{screen}");
    assert!(!screen.contains("13812345678"), "{screen}");
    assert!(!screen.contains("zhang@"), "{screen}");
    let c = env.read_json_as(&admin, &["show", "customer", &id]);
    assert_eq!(c["phone"], "13812345678", "kept, not the mask");
    assert_eq!(c["email"], "zhang@example.com");
    // Typing a new value over the mask writes it.
    let mut p = Pty::spawn(&env, &["edit", "customer", &id]);
    for label in CUSTOMER_LABELS {
        p.wait(label);
        p.send(if label == "电话" {
            "13900000000\r"
        } else {
            ENTER
        });
    }
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    let c = env.read_json_as(&admin, &["show", "customer", &id]);
    assert_eq!(c["phone"], "13900000000");
}
