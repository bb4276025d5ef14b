//! Unit tests of every field kind's parse and format.

use super::*;

#[test]
fn money_is_exact() {
    assert_eq!(
        Kind::Money { min_zero: true }.parse("1234.5").unwrap(),
        Value::Integer(123_450)
    );
    assert_eq!(format_money(123_450), "1234.50");
    assert!(Kind::Money { min_zero: true }.parse("-1").is_err());
    assert!(parse_money("1,234.56").is_err());
    assert!(parse_money("1.234").is_err());
}
