//! crm's SQL is written with `SQLite`'s `?` and `?N` placeholders; `PostgreSQL` reads
//! `$N`. The rewrite skips string literals, quoted identifiers and comments, so a `?` inside
//! them (a LIKE pattern is always bound, but a literal may hold one) is left alone.

/// The statement with every `?` numbered in order and every `?N` as `$N`.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0usize;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for q in chars.by_ref() {
                    out.push(q);
                    if q == c {
                        break; // a doubled quote re-opens at once: same result
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for q in chars.by_ref() {
                    out.push(q);
                    if q == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    next += 1;
                    out.push_str(&next.to_string());
                } else {
                    out.push_str(&digits);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn numbers_plain_and_keeps_explicit() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE a = ? AND b = ?"),
            "SELECT a FROM t WHERE a = $1 AND b = $2"
        );
        assert_eq!(numbered("x = ?2 OR y = ?1"), "x = $2 OR y = $1");
    }

    #[test]
    fn leaves_quoted_text_and_comments() {
        assert_eq!(
            numbered("SELECT '?', \"a?\" -- why?\n, ?"),
            "SELECT '?', \"a?\" -- why?\n, $1"
        );
        assert_eq!(numbered("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
    }
}
