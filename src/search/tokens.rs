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

/// Cuts values into their tokens with buffers kept from one value to the next: every
/// token is handed over as a slice of the lower-cased piece, so cutting a record's values
/// allocates nothing once the buffers have grown (the index is built a record at a time,
/// a million times in a large import). Cuts exactly as [`pieces`] then [`add_text`] would.
#[derive(Debug, Default)]
pub struct Cutter {
    /// The current piece, lower-cased.
    low: String,
    /// Where each of its characters starts in `low`, then where the last one ends.
    bounds: Vec<usize>,
    /// Whether the current piece is a run of ideographs (else a word).
    run: bool,
    /// A phone value without its separators.
    digits: String,
}

impl Cutter {
    /// Hands every token of a text field's value to `emit` (repeats included).
    pub fn text(&mut self, value: &str, emit: &mut impl FnMut(&str)) {
        self.low.clear();
        self.bounds.clear();
        for c in value.chars() {
            if c.is_ascii() {
                if c.is_ascii_alphanumeric() {
                    self.push(false, c.to_ascii_lowercase(), emit);
                } else {
                    self.flush(emit);
                }
                continue;
            }
            for l in c.to_lowercase() {
                if is_ideograph(l) {
                    self.push(true, l, emit);
                } else if l.is_alphanumeric() {
                    self.push(false, l, emit);
                } else {
                    self.flush(emit);
                }
            }
        }
        self.flush(emit);
    }

    /// Hands every token of a phone or mobile field's value to `emit`: those of its text,
    /// and those of its runs of digits joined across separators (when it has any). Only
    /// digits are joined: a letter or ideograph joined across a separator (`ext. 12` as
    /// `ext12`) would let a query such as `t1` take the value as an exact match of a text
    /// it does not contain; digit matching (`phone_norm`) never spans one either.
    pub fn phone(&mut self, value: &str, emit: &mut impl FnMut(&str)) {
        self.text(value, emit);
        if value.contains(PHONE_SEPARATORS) {
            let mut digits = std::mem::take(&mut self.digits);
            digits.clear();
            digits.extend(
                value
                    .chars()
                    .filter(|c| !PHONE_SEPARATORS.contains(c))
                    .map(|c| if c.is_ascii_digit() { c } else { ' ' }),
            );
            self.text(&digits, emit);
            self.digits = digits;
        }
    }

    fn push(&mut self, run: bool, c: char, emit: &mut impl FnMut(&str)) {
        if run != self.run {
            self.flush(emit);
            self.run = run;
        }
        self.bounds.push(self.low.len());
        self.low.push(c);
    }

    /// Cuts the current piece: ideographs one and two at a time, a word's characters
    /// [`GRAM`] at a time from each position.
    fn flush(&mut self, emit: &mut impl FnMut(&str)) {
        let n = self.bounds.len();
        if n == 0 {
            return;
        }
        self.bounds.push(self.low.len());
        let (b, low) = (&self.bounds, &self.low);
        for i in 0..n {
            if self.run {
                emit(&low[b[i]..b[i + 1]]);
                if i + 1 < n {
                    emit(&low[b[i]..b[i + 2]]);
                }
            } else {
                emit(&low[b[i]..b[(i + GRAM).min(n)]]);
            }
        }
        self.low.clear();
        self.bounds.clear();
    }
}

/// Adds the tokens of a text field's value (repeats included: the caller sorts them out).
pub fn add_text(value: &str, out: &mut Vec<String>) {
    Cutter::default().text(value, &mut |t| out.push(t.to_string()));
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
    Cutter::default().phone(value, &mut |t| out.push(t.to_string()));
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

    /// The cut as [`pieces`] describes it, one allocation per token.
    fn reference(v: &str) -> Vec<String> {
        let mut out = Vec::new();
        for p in pieces(v) {
            let c = p.chars();
            for i in 0..c.len() {
                match p {
                    Piece::Run(_) => {
                        out.push(c[i].to_string());
                        if i + 1 < c.len() {
                            out.push(c[i..i + 2].iter().collect());
                        }
                    }
                    Piece::Word(_) => out.push(c[i..(i + GRAM).min(c.len())].iter().collect()),
                }
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn the_cutter_cuts_as_the_pieces_say(v in "[张伟科a-cA-CéÉİß1-3 .@_-]{0,12}") {
            let mut got = Vec::new();
            Cutter::default().text(&v, &mut |t| got.push(t.to_string()));
            proptest::prop_assert_eq!(got, reference(&v));
        }
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
