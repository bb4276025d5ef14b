//! The masked forms: phones `138****5678` (first 3 and last 4 digits), e-mails
//! `z***@example.com`, anything else (credit codes, ID numbers, custom text) its first 6 and
//! last 2 characters. Shorter values keep proportionally less, so at least half is hidden.

use crate::schema::{Kind, Value};

/// A stored value as the masked text shown instead (NULL stays NULL: emptiness is no secret).
pub fn masked(kind: Kind, v: &Value) -> Value {
    let text = match v {
        Value::Null => return Value::Null,
        Value::Text(s) => s.clone(),
        other => kind.format(other),
    };
    Value::Text(masked_text(kind, &text))
}

/// A stored text as the masked text shown instead (export's borrowed cells: no copy first).
pub fn masked_text(kind: Kind, text: &str) -> String {
    match kind {
        Kind::Phone => phone(text),
        Kind::Email => email(text),
        _ => id_like(text),
    }
}

/// Digits kept at the start and end of a phone of `n` digits: 3 and 4 from 11 digits up,
/// proportionally fewer below (8 digits: 2 and 2; 4 digits: 1 and 1; 2: none).
fn phone_keep(n: usize) -> (usize, usize) {
    ((n * 3 / 11).min(3), (n * 4 / 11).min(4))
}

/// A phone with its middle digits as `*`; separators and `+` stay where they are.
pub fn phone(s: &str) -> String {
    let n = s.chars().filter(char::is_ascii_digit).count();
    if n == 0 {
        return id_like(s);
    }
    let (head, tail) = phone_keep(n);
    let mut i = 0;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_digit() {
            i += 1;
            out.push(if i <= head || i > n - tail { c } else { '*' });
        } else {
            out.push(c);
        }
    }
    out
}

/// An e-mail as its first character, `***` and the domain.
pub fn email(s: &str) -> String {
    match s.rsplit_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().map_or(0, char::len_utf8);
            let mut out = String::with_capacity(first + 4 + domain.len());
            out.push_str(&local[..first]);
            out.push_str("***@");
            out.push_str(domain);
            out
        }
        None => id_like(s),
    }
}

/// Credit codes and ID numbers: the first 6 and last 2 characters (from 18 characters up;
/// a third and a ninth below), the rest `*`.
pub fn id_like(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let (head, tail) = ((n / 3).min(6), (n / 9).min(2));
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_three_and_four_digits() {
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(phone("+86 138-1234-5678"), "+86 1**-****-5678");
        assert_eq!(phone("0755-8888 6666"), "075*-**** 6666");
    }

    #[test]
    fn short_phones_keep_less() {
        assert_eq!(phone("88886666"), "88****66");
        assert_eq!(phone("1234567"), "1****67");
        assert_eq!(phone("1234"), "1**4");
        assert_eq!(phone("12"), "**");
        assert_eq!(phone("分机"), "**");
    }

    #[test]
    fn emails_keep_the_first_letter_and_domain() {
        assert_eq!(email("zhang@example.com"), "z***@example.com");
        assert_eq!(email("张@例子.cn"), "张***@例子.cn");
        assert_eq!(email("nodomain"), "no******");
    }

    #[test]
    fn ids_keep_six_and_two() {
        assert_eq!(id_like("91440300MA5DXXXX1A"), "914403**********1A");
        assert_eq!(id_like("110101199003071234"), "110101**********34");
        assert_eq!(id_like("ABCDEFGHI"), "ABC*****I");
        assert_eq!(id_like("张三"), "**");
    }

    #[test]
    fn null_stays_null_and_numbers_become_text() {
        assert_eq!(masked(Kind::Phone, &Value::Null), Value::Null);
        assert_eq!(
            masked(Kind::Phone, &Value::Text("13812345678".into())),
            Value::Text("138****5678".into())
        );
    }
}
