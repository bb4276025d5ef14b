//! The tokens a field's value puts in the search index, cut so that any substring query
//! can be answered from them: every Chinese (Japanese, Korean) character and every pair of
//! adjacent ones, and for words of letters and digits the three characters starting at
//! each position (fewer at the word's end).
//!
//! Why these: a substring of one or two ideographs is then one token (`张`, `科技`), a
//! Latin or digit fragment of up to three characters the prefix of a token (`ab*`), and a
//! longer fragment the set of its own three-character pieces — all of which its matches
//! hold. Positions are never needed, so the index stores none (FTS5 `detail=none`),
//! which keeps it a fraction of the table's size. Measured on the 1,000,000-customer
//! benchmark file (code, name, phone, e-mail, city): 55 tokens a record, 65 MB, a
//! two-character word in 0.2 ms and a 100,000-hit count in 3 ms inside `SQLite`.

use unicode_script::{Script, UnicodeScript};

/// Characters of scripts written without spaces between words: each one is a word of its own.
pub fn is_ideograph(c: char) -> bool {
    // The common cases first: the script tables are a search per character.
    if c.is_ascii() {
        return false;
    }
    if ('\u{4e00}'..='\u{9fff}').contains(&c) {
        return true;
    }
    matches!(
        c.script(),
        Script::Han | Script::Hiragana | Script::Katakana | Script::Hangul | Script::Bopomofo
    )
}

/// A stretch of lower-cased text the index cuts on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Adjacent ideographs.
    Run(Vec<char>),
    /// Adjacent letters and digits of other scripts.
    Word(Vec<char>),
}

impl Piece {
    pub fn chars(&self) -> &[char] {
        match self {
            Piece::Run(c) | Piece::Word(c) => c,
        }
    }
}

/// The pieces of `text`, lower-cased; everything that is neither an ideograph nor a letter or
/// digit (spaces, punctuation, symbols) only separates them.
pub fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut cur: Option<Piece> = None;
    for c in text.chars().flat_map(char::to_lowercase) {
        let next_is_run = if is_ideograph(c) {
            true
        } else if c.is_alphanumeric() {
            false
        } else {
            out.extend(cur.take());
            continue;
        };
        match (&mut cur, next_is_run) {
            (Some(Piece::Run(v)), true) | (Some(Piece::Word(v)), false) => v.push(c),
            _ => {
                out.extend(cur.take());
                cur = Some(if next_is_run {
                    Piece::Run(vec![c])
                } else {
                    Piece::Word(vec![c])
                });
            }
        }
    }
    out.extend(cur);
    out
}

/// The longest token cut from a word: a fragment this long or shorter is a token's prefix.
pub const GRAM: usize = 3;

/// Adds the tokens of one piece.
fn cut(piece: &Piece, out: &mut Vec<String>) {
    match piece {
        Piece::Run(c) => {
            for (i, ch) in c.iter().enumerate() {
                out.push(ch.to_string());
                if let Some(next) = c.get(i + 1) {
                    out.push([*ch, *next].iter().collect());
                }
            }
        }
        Piece::Word(c) => {
            for i in 0..c.len() {
                out.push(c[i..(i + GRAM).min(c.len())].iter().collect());
            }
        }
    }
}

/// Adds the tokens of a text field's value (repeats included: the caller sorts them out).
pub fn add_text(value: &str, out: &mut Vec<String>) {
    for p in pieces(value) {
        cut(&p, out);
    }
}

/// What a phone number's separators are: removed before digits are compared, so
/// `139-1234-5678`, `(139) 1234 5678` and `+86 139.1234.5678` all hold `13912345678`.
/// The SQL that confirms a phone match removes exactly these (`db::dialect`).
pub const PHONE_SEPARATORS: [char; 7] = [' ', '-', '(', ')', '.', '+', '/'];

/// A phone value as digit matching compares it: lower-cased, separators removed.
pub fn phone_norm(value: &str) -> String {
    value
        .chars()
        .filter(|c| !PHONE_SEPARATORS.contains(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Adds the tokens of a phone or mobile field: those of its text, and those of its digits
/// without separators.
pub fn add_phone(value: &str, out: &mut Vec<String>) {
    add_text(value, out);
    add_text(&phone_norm(value), out);
}

/// The digits a query asks phones for, when it is a phone fragment: digits and separators
/// only, at least one digit; a leading `+86` or `0086` (China's calling code) is dropped,
/// since numbers are stored with and without it.
pub fn phone_digits(query: &str) -> Option<String> {
    let q = query.trim();
    if !q.chars().any(|c| c.is_ascii_digit())
        || !q
            .chars()
            .all(|c| c.is_ascii_digit() || PHONE_SEPARATORS.contains(&c))
    {
        return None;
    }
    let digits = phone_norm(q);
    let rest = if let Some(r) = q.strip_prefix("+86") {
        phone_norm(r)
    } else if let Some(r) = digits.strip_prefix("0086") {
        r.to_string()
    } else {
        digits.clone()
    };
    Some(if rest.is_empty() { digits } else { rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(v: &str) -> Vec<String> {
        let mut s = Vec::new();
        add_text(v, &mut s);
        s.sort();
        s.dedup();
        s
    }

    #[test]
    fn ideographs_are_cut_one_and_two_at_a_time_and_words_three() {
        assert_eq!(tokens("张伟"), ["伟", "张", "张伟"]);
        assert_eq!(
            tokens("Stark 贸易"),
            ["ark", "k", "rk", "sta", "tar", "易", "贸", "贸易"]
        );
        assert_eq!(tokens("a.b@C1"), ["1", "a", "b", "c1"]);
        assert!(tokens("  -- ").is_empty());
    }

    #[test]
    fn pieces_split_on_script_and_punctuation() {
        assert_eq!(
            pieces("ab科技CD-9"),
            vec![
                Piece::Word(vec!['a', 'b']),
                Piece::Run(vec!['科', '技']),
                Piece::Word(vec!['c', 'd']),
                Piece::Word(vec!['9']),
            ]
        );
    }

    #[test]
    fn phones_match_by_digits_whatever_the_separators() {
        assert_eq!(phone_norm("+86 139-1234.5678"), "8613912345678");
        let mut s = Vec::new();
        add_phone("139-1234-5678", &mut s);
        assert!(
            ["139", "912", "234"]
                .iter()
                .all(|t| s.iter().any(|x| x == t))
        );
        assert_eq!(phone_digits("13912345").as_deref(), Some("13912345"));
        assert_eq!(phone_digits("+86 139 1234").as_deref(), Some("1391234"));
        assert_eq!(phone_digits("0086-139").as_deref(), Some("139"));
        assert_eq!(phone_digits("(010) 8888").as_deref(), Some("0108888"));
        assert_eq!(phone_digits("+86").as_deref(), Some("86"));
        assert_eq!(phone_digits("139x"), None);
        assert_eq!(phone_digits("--"), None);
    }
}
