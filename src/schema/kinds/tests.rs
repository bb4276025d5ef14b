//! Unit tests of every field kind's parse and format, and round-trip properties for money
//! and dates.

use super::*;
use chrono::{DateTime, Datelike, NaiveDate};
use proptest::prelude::*;

const MONEY: Kind = Kind::Money { min_zero: true };
const SIGNED: Kind = Kind::Money { min_zero: false };

fn text(v: Value) -> String {
    match v {
        Value::Text(t) => t,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn text_is_trimmed_inside_kept() {
    assert_eq!(
        Kind::Text.parse("  0012 x  ").unwrap(),
        Value::Text("0012 x".into())
    );
    assert_eq!(
        Kind::Text.parse("\u{3000}深圳 科技\u{3000}\t").unwrap(),
        Value::Text("深圳 科技".into()),
        "full-width spaces trimmed too"
    );
    for blank in ["", "   ", "\u{3000}\u{3000}", " \t\r\n "] {
        assert_eq!(Kind::Text.parse(blank).unwrap(), Value::Null, "{blank:?}");
        assert_eq!(Kind::Email.parse(blank).unwrap(), Value::Null, "{blank:?}");
    }
    assert_eq!(
        Kind::Text.parse("中文😀\u{202E}").unwrap(),
        Value::Text("中文😀\u{202E}".into())
    );
    assert!(Kind::Text.parse("a\0b").is_err(), "NUL refused");
    assert_eq!(Kind::Text.format(&Value::Text("0012".into())), "0012");
    assert_eq!(Kind::Text.format(&Value::Null), "");
}

#[test]
fn money_is_exact() {
    assert_eq!(MONEY.parse("1234.5").unwrap(), Value::Integer(123_450));
    assert_eq!(MONEY.parse("0.1").unwrap(), Value::Integer(10));
    assert_eq!(MONEY.parse("0.01").unwrap(), Value::Integer(1));
    assert_eq!(MONEY.parse(" 7 ").unwrap(), Value::Integer(700));
    assert_eq!(MONEY.parse("").unwrap(), Value::Null);
    assert_eq!(SIGNED.parse("-0.05").unwrap(), Value::Integer(-5));
    assert_eq!(format_money(123_450), "1234.50");
    assert_eq!(format_money(-5), "-0.05");
    assert_eq!(format_money(0), "0.00");
    assert_eq!(format_money(i64::MAX), "92233720368547758.07");
    assert!(
        MONEY.parse("-1").is_err(),
        "negative refused where min_zero"
    );
    for bad in [
        "1,234.56", "1.234", "1.2.3", "abc", ".5", "1e3", "--1", "+1", "1 000", "¥5", "NaN",
    ] {
        assert!(parse_money(bad).is_err(), "{bad}");
    }
    assert!(
        parse_money("99999999999999999999").is_err(),
        "overflow refused"
    );
    assert_eq!(MONEY.to_json(&Value::Integer(1)), serde_json::json!("0.01"));
    // 0.1 + 0.2 is exactly 0.3 in minor units
    assert_eq!(
        parse_money("0.1").unwrap() + parse_money("0.2").unwrap(),
        parse_money("0.3").unwrap()
    );
}

#[test]
fn dates_in_chinese_and_iso_forms() {
    let want = Value::Text("2023-07-08".into());
    for s in [
        "2023-07-08",
        "2023-7-8",
        "2023/7/8",
        "2023/07/08",
        "2023.7.8",
        "2023年7月8日",
        "2023年07月08日",
        " 2023-07-08 ",
    ] {
        assert_eq!(Kind::Date.parse(s).unwrap(), want, "{s}");
    }
    for bad in [
        "2024-02-30",
        "2023-13-01",
        "2023-00-10",
        "08/07/2023",
        "7/8/2023",
        "31/02/2026",
        "13/13/2026",
        "2026年11月25",
        "25年11月2026日",
        "23-7-8",
        "2023-7",
        "45123",
        "tomorrow",
        "2023-07-08x",
    ] {
        assert!(Kind::Date.parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        Kind::Date.parse("2024-02-29").unwrap(),
        Value::Text("2024-02-29".into())
    );
    assert!(Kind::Date.parse("2023-02-29").is_err());
    assert_eq!(Kind::Date.format(&want), "2023-07-08");
}

#[test]
fn datetimes_are_unix_seconds_shown_rfc3339() {
    assert_eq!(
        Kind::DateTime.parse("2026-11-25T22:43:46+08:00").unwrap(),
        Value::Integer(1_795_617_826)
    );
    assert_eq!(
        Kind::DateTime.parse("2026-11-25T14:43:46Z").unwrap(),
        Value::Integer(1_795_617_826)
    );
    assert!(Kind::DateTime.parse("2026-11-25 09:30").is_ok());
    assert!(Kind::DateTime.parse("2026-11-25").is_ok());
    assert!(Kind::DateTime.parse("yesterday").is_err());
    let why = parse_datetime("Tomorrow 10:00").unwrap_err();
    assert!(why.contains("'Tomorrow 10:00' is not a date-time"), "{why}");
    let why = parse_datetime("2026-02-30 10:00").unwrap_err();
    assert!(why.contains("not a real date"), "{why}");
    let shown = Kind::DateTime.format(&Value::Integer(1_795_617_826));
    let back = Kind::DateTime.parse(&shown).unwrap();
    assert_eq!(back, Value::Integer(1_795_617_826), "{shown}");
    assert!(DateTime::parse_from_rfc3339(&shown).is_ok());
}

#[test]
fn day_month_forms_read_when_only_one_reading_is_real() {
    let date = |s: &str, o: &DateOrder| parse_date_in(s, o).map(|d| d.to_string());
    let auto = DateOrder::Auto;
    assert_eq!(date("13/02/2026", &auto).unwrap(), "2026-02-13");
    assert_eq!(date("02/13/2026", &auto).unwrap(), "2026-02-13");
    assert_eq!(date("25.11.2026", &auto).unwrap(), "2026-11-25");
    assert_eq!(
        date("7/7/2026", &auto).unwrap(),
        "2026-07-07",
        "both readings agree"
    );
    let err = date("08/07/2023", &auto).unwrap_err();
    assert!(err.contains("ambiguous"), "{err}");
    assert_eq!(date("08/07/2023", &DateOrder::Dmy).unwrap(), "2023-07-08");
    assert_eq!(date("08/07/2023", &DateOrder::Mdy).unwrap(), "2023-08-07");
    assert!(date("13/02/2026", &DateOrder::Mdy).is_err(), "no month 13");
    let pat = DateOrder::Pattern("%d %b %Y".into());
    assert_eq!(date("08 Jul 2023", &pat).unwrap(), "2023-07-08");
    assert_eq!(date("2023-07-08", &pat).unwrap(), "2023-07-08");
}

#[test]
fn datetimes_take_every_date_form_and_a_time() {
    let want = parse_datetime("2026-02-01 10:00").unwrap();
    for s in [
        "2026/02/01 10:00",
        "2026/2/1 10:00:00",
        "2026.02.01 10:00",
        "2026年2月1日 10:00",
    ] {
        assert_eq!(parse_datetime(s).unwrap(), want, "{s}");
    }
    assert_eq!(parse_datetime("2026-02-01T10:00").unwrap(), want);
    assert_eq!(
        parse_datetime("13/02/2026 10:00").unwrap() - parse_datetime("2026-02-13 10:00").unwrap(),
        0
    );
    assert_eq!(parse_datetime("2026-02-01 9:05").unwrap(), want - 3300);
    assert!(
        parse_datetime("01/02/2026 10:00")
            .unwrap_err()
            .contains("ambiguous")
    );
    assert_eq!(
        parse_datetime_in("01/02/2026 10:00", &DateOrder::Dmy).unwrap(),
        want
    );
    assert_eq!(
        parse_datetime_in("02/01/2026 10:00", &DateOrder::Mdy).unwrap(),
        want
    );
    for bad in [
        "2026/02/01 25:00",
        "2026/02/01 10",
        "2026/02/01 10:0",
        "2026/02/01 10:00:00:00",
        "2026/02/30 10:00",
    ] {
        assert!(parse_datetime(bad).is_err(), "{bad}");
    }
}

#[test]
fn phones_keep_what_was_typed() {
    for ok in [
        "13800138000",
        "0755-12345678",
        "010-87654321",
        "(0755) 1234 5678",
        "+86 138 0013 8000",
        "+8613800138000",
        "+1 415 555 0100",
        "+44 20 7946 0958",
        "013800000000",
        "12345",
        "95588",
        "400-800-8888",
        "0755-1234567",
    ] {
        assert_eq!(text(Kind::Phone.parse(ok).unwrap()), ok, "{ok}");
    }
    // Refused only when not a possible number (libphonenumber's lengths): a 10-digit
    // "mobile" or an 8-digit local landline is possible in China, so no longer refused.
    for bad in [
        "phone",
        "1234",
        "+86 abc",
        "138-0013-800x",
        "1234567890123456",
        "++86 1",
        "0755_1234",
        "+86 1",
        "+1 381234567",
    ] {
        assert!(Kind::Phone.parse(bad).is_err(), "{bad}");
    }
    assert_eq!(Kind::Phone.parse("").unwrap(), Value::Null);
}

#[test]
fn emails() {
    for ok in ["a@b.cn", "zhang.san+crm@example.com.cn", "用户@例子.中国"] {
        assert_eq!(text(Kind::Email.parse(ok).unwrap()), ok);
    }
    for ok in ["o'brien@example.ie", "a_b-c@mail-1.example.org", "x@y.com"] {
        assert!(Kind::Email.parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "a",
        "a@b",
        "@b.cn",
        "a@.cn",
        "a@b.",
        "a b@c.cn",
        "a@b@c.cn",
        "x@y.com<script>",
        "<x>@y.com",
        "\"x\"@y.com",
        "x@[127.0.0.1]",
        "x@1.2.3.4",
        "x..y@z.cn",
        ".x@z.cn",
        "x.@z.cn",
        "x@-y.cn",
        "x@y-.cn",
        "x@y..cn",
        "x@y.c",
        "x@y.com>",
        "x(c)@y.com",
        "x@y,com.cn",
        "x;y@z.cn",
    ] {
        assert!(Kind::Email.parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn integers_and_ranges() {
    let k = Kind::Integer { min: 0, max: 100 };
    assert_eq!(k.parse("42").unwrap(), Value::Integer(42));
    assert_eq!(k.parse(" 0 ").unwrap(), Value::Integer(0));
    for bad in ["101", "-1", "4.2", "x", "1e2"] {
        assert!(k.parse(bad).is_err(), "{bad}");
    }
    assert_eq!(k.format(&Value::Integer(7)), "7");
    assert_eq!(k.to_json(&Value::Integer(7)), serde_json::json!(7));
}

#[test]
fn bools_in_english_and_chinese() {
    for t in ["true", "TRUE", "yes", "y", "1", "是", "t"] {
        assert_eq!(Kind::Bool.parse(t).unwrap(), Value::Integer(1), "{t}");
    }
    for f in ["false", "No", "n", "0", "否", "f"] {
        assert_eq!(Kind::Bool.parse(f).unwrap(), Value::Integer(0), "{f}");
    }
    assert!(Kind::Bool.parse("maybe").is_err());
    assert_eq!(Kind::Bool.format(&Value::Integer(1)), "true");
    assert_eq!(
        Kind::Bool.to_json(&Value::Integer(0)),
        serde_json::json!(false)
    );
}

#[test]
fn choices_by_value_any_case_or_chinese_label() {
    let k = Kind::Choice(&[("company", "企业"), ("person", "个人")]);
    assert_eq!(k.parse("company").unwrap(), Value::Text("company".into()));
    assert_eq!(k.parse("PERSON").unwrap(), Value::Text("person".into()));
    assert_eq!(k.parse("个人").unwrap(), Value::Text("person".into()));
    let e = k.parse("robot").unwrap_err();
    assert!(e.contains("company, person"), "{e}");
}

#[test]
fn tags_split_trim_dedupe_and_show_as_arrays() {
    assert_eq!(
        Kind::Tags.parse(" vip ; 华南；vip;;key account ").unwrap(),
        Value::Text("vip;华南;key account".into())
    );
    assert_eq!(Kind::Tags.parse(" ; ").unwrap(), Value::Null);
    assert_eq!(
        Kind::Tags.to_json(&Value::Text("a;b".into())),
        serde_json::json!(["a", "b"])
    );
    assert_eq!(Kind::Tags.format(&Value::Text("a;b".into())), "a;b");
}

#[test]
fn credit_codes_with_real_checksums() {
    // Published codes of real companies (checksums verified independently).
    for ok in [
        "914403001922038216",
        "91330100716105852F",
        "9144030071526726XG",
        "91350100M000100Y43",
        "91110000802100433B",
    ] {
        assert_eq!(text(Kind::CreditCode.parse(ok).unwrap()), ok, "{ok}");
    }
    assert_eq!(
        text(Kind::CreditCode.parse("91330100716105852f").unwrap()),
        "91330100716105852F",
        "upper-cased"
    );
    for bad in [
        "914403001922038217",  // wrong check character
        "911100001000237829",  // wrong check character
        "91330100716105852",   // 17 characters
        "91330100716105852FF", // 19
        "91330100716105852I",  // I is not in the alphabet
        "9133010071610585OF",  // O neither
        "91330100716105852Z",
    ] {
        assert!(Kind::CreditCode.parse(bad).is_err(), "{bad}");
    }
    assert_eq!(credit_check_char("91440300MA5DC7X0X"), Some('0'));
}

#[test]
fn references_and_users_pass_through_for_the_database_layer() {
    assert_eq!(
        Kind::Ref("customer").parse(" C001 ").unwrap(),
        Value::Text("C001".into())
    );
    assert_eq!(Kind::User.parse("bob").unwrap(), Value::Text("bob".into()));
    assert_eq!(
        Kind::Ref("customer").to_json(&Value::Integer(3)),
        serde_json::json!(3)
    );
}

#[test]
fn type_names_and_sql_types() {
    assert_eq!(MONEY.sql_type(), "INTEGER");
    assert_eq!(Kind::Date.sql_type(), "TEXT");
    assert_eq!(Kind::CreditCode.type_name(), "credit_code");
    assert!(Kind::Phone.is_searchable() && !MONEY.is_searchable());
}

proptest! {
    #[test]
    fn money_round_trips(cents in -1_000_000_000_000_i64..1_000_000_000_000) {
        let shown = format_money(cents);
        prop_assert_eq!(SIGNED.parse(&shown).unwrap(), Value::Integer(cents));
        prop_assert_eq!(SIGNED.format(&Value::Integer(cents)), shown);
    }

    #[test]
    fn money_text_round_trips(whole in 0_u64..10_000_000_000, frac in 0_u32..100, short in any::<bool>()) {
        let s = if short && frac % 10 == 0 { format!("{whole}.{}", frac / 10) } else { format!("{whole}.{frac:02}") };
        let v = MONEY.parse(&s).unwrap();
        prop_assert_eq!(MONEY.format(&v), format!("{whole}.{frac:02}"));
    }

    #[test]
    fn dates_round_trip_in_every_form(days in 0_i64..150_000) {
        let d = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
        let iso = d.format("%Y-%m-%d").to_string();
        for form in [iso.clone(), d.format("%Y/%-m/%-d").to_string(), d.format("%Y.%-m.%-d").to_string(), d.format("%Y年%-m月%-d日").to_string()] {
            let v = Kind::Date.parse(&form).unwrap();
            prop_assert_eq!(Kind::Date.format(&v), iso.clone());
        }
    }

    #[test]
    fn datetimes_round_trip(t in 0_i64..4_102_444_800) {
        let shown = format_datetime(t);
        prop_assert_eq!(parse_datetime(&shown).unwrap(), t);
    }

    #[test]
    fn text_is_only_trimmed(s in "\\PC*") {
        if !s.contains('\0') {
            let want = if s.trim().is_empty() { Value::Null } else { Value::Text(s.trim().to_string()) };
            prop_assert_eq!(Kind::Text.parse(&s).unwrap(), want);
        }
    }

    #[test]
    fn day_month_year_read_when_unambiguous(days in 0_i64..150_000, dmy in any::<bool>(), sep in "[/.-]") {
        let d = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
        let form = if dmy { format!("%-d{sep}%-m{sep}%Y") } else { format!("%-m{sep}%-d{sep}%Y") };
        let s = d.format(&form).to_string();
        let got = parse_date(&s);
        let other = NaiveDate::from_ymd_opt(d.year(), d.day(), d.month());
        match other {
            Some(o) if o != d => prop_assert!(got.unwrap_err().contains("ambiguous")),
            _ => prop_assert_eq!(got.unwrap(), d),
        }
        let order = if dmy { DateOrder::Dmy } else { DateOrder::Mdy };
        prop_assert_eq!(parse_date_in(&s, &order).unwrap(), d);
    }

    #[test]
    fn datetimes_read_in_every_date_form(days in 0_i64..150_000, h in 0_u32..24, m in 0_u32..60, sec in 0_u32..60) {
        let d = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
        let iso = parse_datetime(&format!("{} {h:02}:{m:02}:{sec:02}", d.format("%Y-%m-%d"))).unwrap();
        for form in ["%Y/%-m/%-d", "%Y.%m.%d", "%Y年%-m月%-d日"] {
            let s = format!("{} {h}:{m:02}:{sec:02}", d.format(form));
            prop_assert_eq!(parse_datetime(&s).unwrap(), iso, "{}", s);
        }
    }
}
