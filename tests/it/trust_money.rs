//! Totals that cannot lie: money sums beyond 64 bits stay exact in every report, a quote or
//! order whose lines could not be totalled is refused (exit 4) when written, reports never
//! add different currencies, and report and agenda tables fit the terminal without splitting
//! a number or a word (through a real pty).

use serde_json::Value as J;
use unicode_width::UnicodeWidthStr;

use crate::core_prompts::Pty;
use crate::harness::Env;

/// The largest amount crm stores (`i64::MAX` minor units).
const MAX: &str = "92233720368547758.07";
/// Twice that plus 3.00: what the funnel once showed as `2.98`.
const TWO_MAX_PLUS_3: &str = "184467440737095519.14";

/// Every object in a report that holds an amount (a `"1234.56"` string) names its currency.
#[track_caller]
fn amounts_name_their_currency(v: &J, path: &str) {
    let money = |s: &str| {
        s.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && b.len() == 2
                && a.trim_start_matches('-')
                    .bytes()
                    .all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        })
    };
    match v {
        J::Object(o) => {
            if o.values().any(|x| x.as_str().is_some_and(money)) {
                assert!(
                    o.get("currency").is_some_and(J::is_string),
                    "{path}: an amount without its currency: {v}"
                );
            }
            for (k, x) in o {
                amounts_name_their_currency(x, &format!("{path}.{k}"));
            }
        }
        J::Array(a) => {
            for x in a {
                amounts_name_their_currency(x, path);
            }
        }
        _ => {}
    }
}

/// The row of a section whose `currency` is `c`.
#[track_caller]
fn in_currency<'a>(section: &'a J, c: &str) -> &'a J {
    section
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["currency"] == c))
        .unwrap_or_else(|| panic!("no {c} row in {section}"))
}

fn report(env: &Env, args: &[&str]) -> J {
    let mut a = vec!["--format", "json", "report"];
    a.extend_from_slice(args);
    env.run(&a).ok().json()
}

#[test]
fn money_sums_beyond_64_bits_stay_exact_in_every_report() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "巨额客户"]).to_string();
    for amount in [MAX, MAX, "3.00"] {
        env.add(
            "opportunity",
            &[
                "--customer",
                &c,
                "--name",
                "大单",
                "--amount",
                amount,
                "--probability",
                "100",
            ],
        );
    }
    let f = report(&env, &["funnel"]);
    let a = in_currency(&f["amounts"], "CNY");
    assert_eq!(a["open_amount"], TWO_MAX_PLUS_3);
    assert_eq!(a["open_weighted"], TWO_MAX_PLUS_3);
    assert_eq!(
        in_currency(&f["stage_amounts"], "CNY")["amount"],
        TWO_MAX_PLUS_3
    );

    // The same amounts as won deals, booked and paid orders and contracts.
    for (amount, status) in [(MAX, "paid"), (MAX, "paid"), ("3.00", "confirmed")] {
        env.add(
            "order",
            &["--customer", &c, "--amount", amount, "--status", status],
        );
        env.add(
            "contract",
            &[
                "--customer",
                &c,
                "--title",
                "框架合同",
                "--amount",
                amount,
                "--status",
                "active",
            ],
        );
    }
    let s = report(&env, &["sales"]);
    let a = in_currency(&s["amounts"], "CNY");
    assert_eq!(a["order_amount"], TWO_MAX_PLUS_3);
    assert_eq!(a["paid_amount"], "184467440737095516.14");
    assert_eq!(a["forecast_amount"], TWO_MAX_PLUS_3);
    assert_eq!(a["forecast_weighted"], TWO_MAX_PLUS_3);
    assert_eq!(s["top_customers"][0]["amount"], TWO_MAX_PLUS_3);
    let k = report(&env, &["contracts"]);
    assert_eq!(
        in_currency(&k["amounts"], "CNY")["total_amount"],
        TWO_MAX_PLUS_3
    );
    let by_status = k["by_status"].as_array().expect("rows");
    let active = by_status
        .iter()
        .find(|r| r["status"] == "active")
        .expect("active");
    assert_eq!(active["amount"], TWO_MAX_PLUS_3);
    let m = report(&env, &["customers"]);
    assert_eq!(
        in_currency(&m["rfm_monetary"], "CNY")["amount"],
        TWO_MAX_PLUS_3
    );

    // Every format and every report runs: no exit 1, no wrapped figure.
    for name in [
        "funnel",
        "sales",
        "customers",
        "service",
        "contracts",
        "activities",
    ] {
        for fmt in ["table", "csv", "json"] {
            let r = env.run(&["--format", fmt, "report", name]);
            r.ok();
            assert!(!r.stdout.contains("2.98"), "{name} {fmt}:\n{}", r.stdout);
        }
    }
}

#[test]
fn line_totals_that_cannot_be_stored_are_refused_with_exit_4() {
    let env = Env::new();
    let c = env.add("customer", &["--name", "报价客户"]).to_string();
    let p = env
        .add("product", &["--name", "昂贵设备", "--unit-price", MAX])
        .to_string();
    for parent in ["quote", "order"] {
        let id = env.add(parent, &["--customer", &c]).to_string();
        let line = format!("{parent}_line");
        env.add(&line, &[&format!("--{parent}"), &id, "--product", &p]);
        // A second line: the parent's total would not fit an amount.
        let r = env.run(&["add", &line, &format!("--{parent}"), &id, "--product", &p]);
        r.code(4).one_error_line();
        assert!(r.stderr.contains("amount"), "names the field: {}", r.stderr);
        // A line whose own amount (quantity × price) would not fit.
        let r = env.run(&[
            "add",
            &line,
            &format!("--{parent}"),
            &id,
            "--product",
            &p,
            "--quantity",
            "2",
        ]);
        r.code(4).one_error_line();
        assert!(r.stderr.contains("amount"), "{}", r.stderr);
        // Nothing was written: one line, and the parent's amount is still its sum.
        let table = format!("{parent}_line");
        assert_eq!(env.count_where(&table, &[&format!("{parent}={id}")]), 1);
        let shown = env
            .run(&["--format", "json", "show", parent, &id])
            .ok()
            .json();
        assert_eq!(shown["amount"], MAX);
        // Editing a line up past the limit is refused the same way.
        let lid = env
            .id_where(&table, &[&format!("{parent}={id}")])
            .to_string();
        env.run(&["edit", &line, &lid, "--quantity", "3"])
            .code(4)
            .one_error_line();
    }

    // An import rejects just the line that would overflow its quote (--on-error skip).
    let q = env.add("quote", &["--customer", &c]).to_string();
    let number = env
        .run(&["--format", "json", "show", "quote", &q])
        .ok()
        .json()["number"]
        .as_str()
        .expect("number")
        .to_string();
    let csv = env.path("lines.csv");
    crate::harness::write(&csv, format!("quote,product\n{number},{p}\n{number},{p}\n"));
    let r = env.run(&[
        "import",
        "quote_line",
        csv.to_str().unwrap(),
        "--on-error",
        "skip",
        "--rejects",
        env.path("rejects.csv").to_str().unwrap(),
    ]);
    r.code(4);
    assert!(
        r.stderr.contains("1 inserted") && r.stderr.contains("1 rejected"),
        "{}",
        r.stderr
    );
    let shown = env
        .run(&["--format", "json", "show", "quote", &q])
        .ok()
        .json();
    assert_eq!(shown["amount"], MAX);
}

/// Opportunities of 1,200,000 EUR and 350,000 CNY, orders of 45,000 EUR and 96,000 CNY,
/// contracts of 52,000 EUR and 120,000 CNY.
fn two_currencies() -> Env {
    let env = Env::new();
    let c = env
        .add("customer", &["--name", "Acme Industrial GmbH"])
        .to_string();
    for (amount, cur, stage) in [
        ("1200000", "EUR", "qualification"),
        ("350000", "CNY", "proposal"),
    ] {
        env.add(
            "opportunity",
            &[
                "--customer",
                &c,
                "--name",
                "deal",
                "--amount",
                amount,
                "--currency",
                cur,
                "--stage",
                stage,
                "--probability",
                "50",
            ],
        );
    }
    for (amount, cur) in [("45000", "EUR"), ("96000", "CNY")] {
        env.add(
            "order",
            &[
                "--customer",
                &c,
                "--amount",
                amount,
                "--currency",
                cur,
                "--status",
                "paid",
            ],
        );
        env.add(
            "contract",
            &[
                "--customer",
                &c,
                "--title",
                "supply",
                "--amount",
                amount,
                "--currency",
                cur,
                "--status",
                "active",
            ],
        );
    }
    env
}

#[test]
fn reports_never_add_different_currencies() {
    let env = two_currencies();
    let f = report(&env, &["funnel", "--by", "owner"]);
    assert_eq!(
        in_currency(&f["amounts"], "EUR")["open_amount"],
        "1200000.00"
    );
    assert_eq!(
        in_currency(&f["amounts"], "CNY")["open_amount"],
        "350000.00"
    );
    assert_eq!(
        in_currency(&f["amounts"], "EUR")["open_weighted"],
        "600000.00"
    );
    let s = report(&env, &["sales"]);
    assert_eq!(
        in_currency(&s["amounts"], "EUR")["order_amount"],
        "45000.00"
    );
    assert_eq!(
        in_currency(&s["amounts"], "CNY")["order_amount"],
        "96000.00"
    );
    assert_eq!(in_currency(&s["amounts"], "CNY")["paid_amount"], "96000.00");
    let k = report(&env, &["contracts"]);
    assert_eq!(
        in_currency(&k["amounts"], "EUR")["total_amount"],
        "45000.00"
    );
    assert_eq!(
        in_currency(&k["amounts"], "CNY")["in_force_amount"],
        "96000.00"
    );
    let m = report(&env, &["customers"]);
    assert_eq!(in_currency(&m["rfm_monetary"], "EUR")["amount"], "45000.00");

    let sums = ["1550000.00", "141000.00", "1550000", "141000"];
    for name in [
        "funnel",
        "sales",
        "customers",
        "service",
        "contracts",
        "activities",
    ] {
        let mut args = vec!["--format", "json", "report", name];
        if matches!(name, "funnel" | "sales") {
            args.extend(["--by", "owner"]);
        }
        let j = env.run(&args).ok().json();
        amounts_name_their_currency(&j, name);
        for fmt in ["table", "csv", "tsv"] {
            let out = env
                .run(&["--format", fmt, "report", name])
                .ok()
                .stdout
                .clone();
            for sum in sums {
                assert!(
                    !out.contains(sum),
                    "{name} {fmt} adds currencies ({sum}):\n{out}"
                );
            }
        }
    }
    // `show` lists a customer's deals, orders and contracts with their currencies.
    let shown = env
        .run(&["--format", "json", "show", "customer", "1"])
        .ok()
        .json();
    amounts_name_their_currency(&shown, "show customer");
    let mut shown_in: Vec<&str> = shown["related"]["opportunity"]
        .as_array()
        .expect("opportunities")
        .iter()
        .filter_map(|o| o["currency"].as_str())
        .collect();
    shown_in.sort_unstable();
    assert_eq!(shown_in, ["CNY", "EUR"]);
    // A CSV row with an amount names its currency.
    let csv = env
        .run(&["--format", "csv", "report", "sales", "--section", "amounts"])
        .ok()
        .stdout
        .clone();
    assert!(csv.starts_with("section,currency,won_amount,"), "{csv}");
    assert!(
        csv.contains("\namounts,EUR,0.00,45000.00,45000.00,"),
        "{csv}"
    );
}

/// The table lines of a screen (box-drawing rows).
fn table_lines(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '└', '├']))
        .collect()
}

#[test]
fn report_and_agenda_tables_fit_the_terminal_without_splitting_a_value() {
    let env = two_currencies();
    env.add_user("li.lei", "sales");
    let c = env
        .add(
            "customer",
            &["--name", "深圳前海微众科技有限公司", "--owner", "li.lei"],
        )
        .to_string();
    env.add(
        "opportunity",
        &[
            "--customer",
            &c,
            "--name",
            "核心系统扩容",
            "--amount",
            "130000",
            "--stage",
            "prospecting",
            "--probability",
            "10",
            "--owner",
            "li.lei",
        ],
    );
    env.add(
        "activity",
        &[
            "--customer",
            &c,
            "--subject",
            "跟进报价反馈并约下次拜访时间",
            "--type",
            "call",
            "--due-at",
            "2020-01-02T10:00:00+08:00",
            "--owner",
            "li.lei",
        ],
    );
    for (cols, args) in [
        (80, "report funnel --by owner"),
        (80, "report sales"),
        (80, "report contracts"),
    ] {
        let screen = Pty::screen_at(&env, cols, args);
        let lines = table_lines(&screen);
        assert!(!lines.is_empty(), "{screen}");
        for l in &lines {
            assert!(
                l.width() <= usize::from(cols),
                "wider than {cols}: {l}\n{screen}"
            );
        }
        // Every figure and word is whole on one line.
        for whole in [
            "130000.00",
            "1200000.00",
            "13000.00",
            "prospecting",
            "初步接洽",
        ] {
            if args.contains("funnel") {
                assert!(
                    screen.contains(whole),
                    "{whole} split or missing:\n{screen}"
                );
            }
        }
        for piece in ["130000.  ", "weighte ", "初步接 "] {
            assert!(
                !screen.contains(piece),
                "a split value ({piece}):\n{screen}"
            );
        }
    }
    // A wide terminal shows every column and leaves nothing out.
    let wide = Pty::screen_at(&env, 200, "report funnel --by owner");
    assert!(!wide.contains("not shown"), "{wide}");
    assert!(
        wide.contains("│ label") || wide.contains("┆ label"),
        "{wide}"
    );
    let narrow = Pty::screen_at(&env, 80, "report funnel --by owner");
    assert!(narrow.contains("not shown for lack of width"), "{narrow}");

    // The agenda keeps whose it is and when, and gives up the number and status first.
    let screen = Pty::screen_at(&env, 80, "agenda --user all");
    let lines = table_lines(&screen);
    let header = lines.get(1).copied().unwrap_or_default();
    for kept in ["owner", "when", "subject"] {
        assert!(header.contains(kept), "{kept} kept: {header}\n{screen}");
    }
    for l in &lines {
        assert!(l.width() <= 80, "{l}\n{screen}");
    }
    assert!(
        screen.contains("li.lei") && screen.contains("2020-01-02 10:00"),
        "{screen}"
    );
    let wide = Pty::screen_at(&env, 200, "agenda --user all");
    let header = table_lines(&wide)
        .get(1)
        .copied()
        .unwrap_or_default()
        .to_string();
    for all in ["customer", "why", "when", "owner", "type"] {
        assert!(
            header.contains(all),
            "{all} at 200 columns: {header}\n{wide}"
        );
    }
}
