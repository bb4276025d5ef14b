//! The record commands on `PostgreSQL` give what they give on `SQLite`: one scenario (add, edit,
//! delete of customers, contacts, opportunities with their stage rule, quotes with lines and
//! their derived amount, a conversion, a follow-up, a sales user refused another owner's
//! customer, a unique conflict, generated keys) runs through the binary on both engines,
//! and every output, exit status, error line and audit trail is compared.

use crate::harness::{Env, PW, Run};
use crate::pg_cli::url_of;
use crate::pg_harness;

/// One fixed clock for every run on both engines, so timestamps compare.
const NOW: &str = "2026-03-02T09:30:00+08:00";

/// A command of the scenario (`sam` runs it as the sales user).
fn step(env: &Env, sam: Option<&str>, args: &[&str]) -> Run {
    let mut vars = vec![("CRM_TEST_NOW", NOW)];
    if let Some(t) = sam {
        vars.push(("CRM_TOKEN", t));
    }
    env.run_env(args, &vars)
}

/// What a step shows, with what legitimately differs between engines taken out: the audit
/// rows' own ids and times (on `PostgreSQL` the row triggers write a record's audit rows,
/// with their own ids; `detail`, "derived: follows …", is compared).
fn shown(r: &Run) -> String {
    let mut out = format!("exit {}\n{}", r.code, r.stderr);
    match serde_json::from_str::<serde_json::Value>(&r.stdout) {
        Ok(mut j) => {
            if let Some(rows) = j.as_array_mut() {
                for row in rows {
                    if let Some(o) = row.as_object_mut()
                        && o.contains_key("action")
                    {
                        for k in ["id", "at"] {
                            o.remove(k);
                        }
                    }
                }
            }
            out.push_str(&serde_json::to_string_pretty(&j).unwrap());
        }
        Err(_) => out.push_str(&r.stdout),
    }
    out
}

/// Logs in on the scenario's clock (a session from the real clock has not begun yet).
fn login_at_now(env: &Env, user: &str, token: bool) -> String {
    let mut args = vec!["login", "--user", user, "--password-stdin"];
    if token {
        args.push("--print-token");
    }
    let out = env
        .cmd()
        .env("CRM_TEST_NOW", NOW)
        .args(&args)
        .write_stdin(PW)
        .output()
        .expect("run crm");
    assert!(out.status.success(), "login {user}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The scenario, as admin `admin` on a fresh database; every step's output in order.
fn scenario(env: &Env) -> Vec<(String, String)> {
    let mut log = Vec::new();
    let mut go = |sam: Option<&str>, args: &[&str]| -> Run {
        let r = step(env, sam, args);
        assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
        log.push((args.join(" "), shown(&r)));
        r
    };
    let json = ["--format", "json"];
    let with = |a: &[&'static str]| -> Vec<&'static str> { [a, &json[..]].concat() };
    env.add_user("sam", "sales");
    login_at_now(env, "admin", false);
    let sam = login_at_now(env, "sam", true);
    let sam = Some(sam.as_str());
    go(
        None,
        &with(&[
            "add", "customer", "--name", "Acme", "--city", "深圳", "--tags", "vip",
        ]),
    );
    go(
        None,
        &with(&["add", "customer", "--name", "Beta", "--owner", "sam"]),
    );
    go(
        None,
        &with(&[
            "add",
            "customer",
            "--name",
            "Gamma",
            "--credit-code",
            "91440300MA5DC6QX9C",
        ]),
    );
    // Unique conflicts: exit 5, the same message; the refused record takes no id or key.
    go(
        None,
        &["add", "customer", "--name", "Dup", "--code", "C000001"],
    )
    .code(5);
    go(None, &["edit", "customer", "C000002", "--code", "C000001"]).code(5);
    go(None, &with(&["add", "customer", "--name", "Delta"])).ok();
    go(None, &["delete", "customer", "C000004", "--yes"]).ok();
    // A deleted record's key is never handed out again.
    go(None, &with(&["add", "customer", "--name", "Epsilon"])).ok();
    go(
        None,
        &with(&["add", "contact", "--customer", "C000001", "--name", "李雷"]),
    )
    .ok();
    go(
        None,
        &with(&["add", "contact", "--customer", "2", "--name", "Han"]),
    )
    .ok();
    go(
        None,
        &with(&["edit", "contact", "1", "--phone", "13800000000"]),
    )
    .ok();
    go(None, &["delete", "contact", "2", "--yes"]).ok();
    // Opportunities: the stage sets the probability (a rule), edits follow it.
    go(
        None,
        &with(&[
            "add",
            "opportunity",
            "--customer",
            "C000001",
            "--name",
            "Deal",
        ]),
    )
    .ok();
    go(
        None,
        &with(&["edit", "opportunity", "1", "--stage", "proposal"]),
    )
    .ok();
    go(
        None,
        &with(&["edit", "opportunity", "1", "--amount", "1200.50"]),
    )
    .ok();
    // Quotes with lines: line amounts and the quote's amount derived.
    go(
        None,
        &with(&[
            "add",
            "product",
            "--code",
            "P1",
            "--name",
            "a",
            "--unit-price",
            "100",
        ]),
    );
    go(
        None,
        &with(&[
            "add",
            "product",
            "--code",
            "P2",
            "--name",
            "b",
            "--unit-price",
            "30.50",
        ]),
    );
    go(None, &["add", "product", "--code", "P1", "--name", "again"]).code(5);
    go(
        None,
        &with(&[
            "add",
            "quote",
            "--customer",
            "C000001",
            "--opportunity",
            "1",
            "--line",
            "P1:3",
            "--line",
            "P2:2:25",
        ]),
    )
    .ok();
    go(
        None,
        &with(&["edit", "quote_line", "1", "--discount", "10"]),
    )
    .ok();
    go(None, &with(&["show", "quote", "Q000001"])).ok();
    go(
        None,
        &with(&["edit", "quote", "Q000001", "--status", "accepted"]),
    )
    .ok();
    go(None, &with(&["convert", "quote", "Q000001"])).ok();
    go(None, &["convert", "quote", "Q000001"]).code(5);
    // A command that fails after its first row is written (a line its rule refuses) uses
    // no id up: the next quote is Q000002 on both engines.
    go(
        None,
        &[
            "add",
            "product",
            "--code",
            "P9",
            "--name",
            "big",
            "--unit-price",
            "100000000",
            "-q",
        ],
    )
    .ok();
    go(
        None,
        &[
            "add",
            "quote",
            "--customer",
            "C000001",
            "--line",
            "P9:999999999",
        ],
    )
    .code(4);
    go(None, &with(&["add", "quote", "--customer", "C000001"])).ok();
    go(None, &["delete", "quote_line", "2", "--yes"]).ok();
    go(None, &with(&["show", "quote", "Q000001"])).ok();
    // A follow-up logged and a plan done.
    go(
        None,
        &[
            "log",
            "customer",
            "C000001",
            "问候",
            "--at",
            "2026-03-01 10:00",
            "-q",
        ],
    )
    .ok();
    go(
        None,
        &with(&[
            "add",
            "activity",
            "--customer",
            "C000001",
            "--subject",
            "plan",
            "--due-at",
            "2026-03-05 10:00",
        ]),
    )
    .ok();
    go(None, &with(&["done", "activity", "2"])).ok();
    // A lead converted: a customer and a contact made at once, keys counted on.
    go(
        None,
        &with(&["add", "lead", "--name", "Wang", "--company", "NewCo"]),
    )
    .ok();
    go(None, &with(&["convert", "lead", "1"])).ok();
    go(
        None,
        &with(&[
            "add",
            "ticket",
            "--customer",
            "C000001",
            "--subject",
            "broken",
        ]),
    )
    .ok();
    go(
        None,
        &with(&[
            "add",
            "contract",
            "--customer",
            "C000001",
            "--title",
            "c1",
            "--amount",
            "99.90",
        ]),
    )
    .ok();
    go(
        None,
        &with(&["edit", "ticket", "T000001", "--status", "closed"]),
    );
    go(None, &with(&["show", "opportunity", "1"])).ok();
    go(None, &with(&["show", "customer", "C000001"])).ok();
    // The sales user: their own customer yes, another owner's no (exit 7, same words).
    go(
        sam,
        &with(&["edit", "customer", "C000002", "--city", "广州"]),
    )
    .ok();
    go(
        sam,
        &with(&["add", "contact", "--customer", "C000002", "--name", "Own"]),
    )
    .ok();
    go(sam, &["edit", "customer", "C000001", "--city", "x"]).code(7);
    go(
        sam,
        &["add", "contact", "--customer", "C000001", "--name", "x"],
    )
    .code(7);
    go(sam, &["delete", "customer", "C000003", "--yes"]).code(7);
    go(sam, &["edit", "contact", "1", "--customer", "C000002"]).code(7);
    go(sam, &with(&["show", "customer", "C000001"])).ok();
    // Reads: show, find with --where on users and references, export as JSON and CSV.
    go(None, &with(&["show", "customer", "C000001"])).ok();
    go(None, &with(&["find", "customer", "--where", "owner=sam"])).ok();
    go(
        None,
        &with(&["find", "contact", "--where", "customer=C000002"]),
    )
    .ok();
    go(
        None,
        &with(&[
            "find", "customer", "--where", "tags=vip", "--where", "city~圳",
        ]),
    )
    .ok();
    go(
        None,
        &with(&[
            "find",
            "opportunity",
            "--where",
            "customer=C000001",
            "--sort",
            "amount",
        ]),
    )
    .ok();
    for e in [
        "customer",
        "contact",
        "opportunity",
        "quote",
        "quote_line",
        "order",
        "order_line",
        "activity",
        "lead",
        "ticket",
        "contract",
    ] {
        go(None, &["export", e, "--format", "csv"]).ok();
        go(None, &["export", e, "--format", "json"]).ok();
    }
    // Delete with what refers to it: refused, then cascaded.
    go(None, &["delete", "customer", "C000002", "--yes"]).code(5);
    go(
        None,
        &["delete", "customer", "C000002", "--yes", "--cascade"],
    )
    .ok();
    go(None, &with(&["add", "customer", "--name", "Zeta"])).ok();
    // The audit trail of each kind of record: who, what, old and new.
    for (e, id) in [
        ("customer", "1"),
        ("customer", "2"),
        ("customer", "4"),
        ("contact", "1"),
        ("opportunity", "1"),
        ("quote", "1"),
        ("quote_line", "2"),
        ("activity", "2"),
        ("lead", "1"),
        ("ticket", "1"),
        ("contract", "1"),
    ] {
        go(
            None,
            &["audit", "--entity", e, "--id", id, "--format", "json"],
        )
        .ok();
    }
    log
}

#[test]
fn record_commands_match_on_both_engines() {
    let Some(db) = pg_harness::fresh("record_commands_match_on_both_engines") else {
        return;
    };
    let mut pg = Env::empty();
    pg.db = url_of(&db).into();
    pg.run_stdin(&["init", "--admin", "admin", "--password-stdin"], PW)
        .ok();
    pg.login("admin");
    let lite = Env::new();
    let want = scenario(&lite);
    let got = scenario(&pg);
    assert_eq!(want.len(), got.len());
    for ((cmd, w), (_, g)) in want.iter().zip(&got) {
        assert_eq!(w, g, "`crm {cmd}` differs (left SQLite, right PostgreSQL)");
    }
}

/// A row policy stricter than crm's own checks (a database administrator's, say) refuses
/// what crm let through: still exit 7 with one error line, never a panic or an internal
/// error, and nothing is written.
#[test]
fn a_policy_refusal_crm_did_not_foresee_is_denied() {
    let Some(db) = pg_harness::fresh("a_policy_refusal_crm_did_not_foresee_is_denied") else {
        return;
    };
    let mut env = Env::empty();
    env.db = url_of(&db).into();
    env.run_stdin(&["init", "--admin", "admin", "--password-stdin"], PW)
        .ok();
    env.login("admin");
    env.add_user("sam", "sales");
    env.add("customer", &["--name", "Mine", "--owner", "sam"]);
    env.add("contact", &["--customer", "1", "--name", "Li"]);
    let sam = env.token("sam");
    db.admin()
        .batch_execute(
            "ALTER POLICY sales_update ON crm.\"customer\" USING (false) WITH CHECK (false);
             ALTER POLICY sales_insert ON crm.\"contact\" WITH CHECK (false);
             ALTER POLICY sales_delete ON crm.\"contact\" USING (false);",
        )
        .unwrap();
    for args in [
        &["edit", "customer", "1", "--city", "x"][..],
        &["add", "contact", "--customer", "1", "--name", "Han"],
        &["delete", "contact", "1", "--yes"],
    ] {
        let r = env.run_as(&sam, args);
        r.code(7).one_error_line();
        assert!(
            r.stderr.contains("permission denied"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let c = env
        .run(&["show", "customer", "1", "--format", "json"])
        .ok()
        .json();
    assert!(c["city"].is_null());
    let contacts = env
        .run(&["find", "contact", "--format", "json"])
        .ok()
        .json();
    assert_eq!(contacts.as_array().map(Vec::len), Some(1));
}
