//! Names found by their pinyin: `zhangwei`, `zhang wei`, `zw` and `zhangw` all find 张伟.
//!
//! A name's keys are its full pinyin and its initials (the first letter of each syllable),
//! from its start for every reading of a character with several (单 shan/dan, 曾 zeng/ceng,
//! 仇 qiu/chou: a name's reading is not the dictionary's first), and from each later
//! syllable in the first readings, so `keji` finds 北京科技 as `beijing` does. Latin words in a name keep
//! their letters (`Stark 贸易` is `starkmaoyi`, `smy`). A query matches when it is the
//! start of a key: the index stores the keys and answers a prefix query exactly, so no
//! further check is needed. The readings come from the `pinyin` crate's data (its
//! heteronym table); ü is written `v`, as Chinese keyboards type it.

use std::collections::BTreeSet;

use pinyin::ToPinyinMulti;

/// What marks a pinyin key among a record's tokens: no token of a value holds it (it is
/// neither a letter nor a digit), and the `ascii` tokenizer keeps it (it is not ASCII).
pub const MARK: char = '·';

/// Keys start at most at this many of a name's first syllables or words.
const MAX_STARTS: usize = 12;
/// Readings written from the name's start: the first ones, and each other reading of one
/// syllable at a time, up to this many.
const MAX_COMBOS: usize = 6;
/// Keys are cut to this length: a longer query has no pinyin match.
pub const MAX_FULL: usize = 48;
const MAX_INITIALS: usize = 16;

/// One reading of a syllable, or a Latin word of a name (a range of the lower-cased name).
#[derive(Debug, Clone)]
enum Reading {
    Pinyin(&'static str),
    Word(std::ops::Range<usize>),
}

/// Makes a name's keys with buffers kept from one name to the next (a large import makes
/// them a million times): no allocation per key once they have grown.
#[derive(Debug, Default)]
pub struct Keys {
    /// The name lower-cased (the Latin words' letters).
    low: String,
    /// Every reading of every unit (syllable or word), the units one after the other.
    readings: Vec<Reading>,
    /// Where each unit's readings are in `readings`.
    units: Vec<std::ops::Range<usize>>,
    /// Which reading of each unit the key being written takes.
    pick: Vec<usize>,
    full: String,
    initials: String,
}

impl Keys {
    /// Hands every pinyin key of `name` to `emit` (repeats possible); none for a name with
    /// no Chinese character: its words are found by the text index already.
    pub fn each(&mut self, name: &str, emit: &mut impl FnMut(&str)) {
        if !self.units(name) {
            return;
        }
        let n = self.units.len();
        for start in 0..n.min(MAX_STARTS) {
            // The first readings, then each other reading of one syllable at a time, the
            // earlier syllables first (a surname's: 单 shan/dan). From a later syllable
            // (`keji` in 北京科技) only the first readings: every key costs the index a token.
            self.pick.clear();
            self.pick.resize(n, 0);
            self.write(start, emit);
            if start > 0 {
                continue;
            }
            let mut combos = 1;
            'units: for k in 0..n {
                for r in 1..self.units[k].len() {
                    if combos == MAX_COMBOS {
                        break 'units;
                    }
                    self.pick[k] = r;
                    self.write(start, emit);
                    self.pick[k] = 0;
                    combos += 1;
                }
            }
        }
    }

    /// Emits the full and initials keys of the units from `start` in the readings `pick`.
    fn write(&mut self, start: usize, emit: &mut impl FnMut(&str)) {
        self.full.clear();
        self.initials.clear();
        let (mut nf, mut ni) = (0, 0);
        for (u, &p) in self.units[start..].iter().zip(&self.pick[start..]) {
            let (text, pinyin) = match &self.readings[u.start + p] {
                Reading::Pinyin(s) => (*s, true),
                Reading::Word(r) => (&self.low[r.clone()], false),
            };
            for (i, c) in text.chars().enumerate() {
                let c = if pinyin && c == 'ü' { 'v' } else { c };
                if i == 0 && ni < MAX_INITIALS {
                    self.initials.push(c);
                    ni += 1;
                }
                if nf < MAX_FULL {
                    self.full.push(c);
                    nf += 1;
                }
            }
        }
        emit(&self.full);
        emit(&self.initials);
    }

    /// Reads the syllables and words of a name, in order (punctuation and spaces only
    /// separate); whether any of them is Chinese.
    fn units(&mut self, name: &str) -> bool {
        self.low.clear();
        self.readings.clear();
        self.units.clear();
        let mut chinese = false;
        let mut word: Option<usize> = None;
        for c in name.chars().flat_map(char::to_lowercase) {
            let multi = if c.is_ascii() {
                None
            } else {
                c.to_pinyin_multi()
            };
            // A character without a usable reading is as any other (below).
            if let Some(multi) = multi.filter(|m| m.into_iter().any(|p| !p.plain().is_empty())) {
                self.end_word(&mut word);
                let first = self.readings.len();
                for p in multi {
                    let plain = p.plain();
                    let seen = self.readings[first..]
                        .iter()
                        .any(|r| matches!(r, Reading::Pinyin(s) if *s == plain));
                    if !plain.is_empty() && !seen {
                        self.readings.push(Reading::Pinyin(plain));
                    }
                }
                self.units.push(first..self.readings.len());
                chinese = true;
                continue;
            }
            if c.is_alphanumeric() && !super::tokens::is_ideograph(c) {
                word.get_or_insert(self.low.len());
                self.low.push(c);
            } else {
                self.end_word(&mut word);
            }
        }
        self.end_word(&mut word);
        chinese
    }

    fn end_word(&mut self, word: &mut Option<usize>) {
        if let Some(start) = word.take() {
            let at = self.readings.len();
            self.readings.push(Reading::Word(start..self.low.len()));
            self.units.push(at..at + 1);
        }
    }
}

/// The pinyin keys of a name (none for a name with no Chinese character).
pub fn keys(name: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    Keys::default().each(name, &mut |k| {
        out.insert(k.to_string());
    });
    out
}

/// The key a query looks for, when it can be pinyin: ASCII letters, with spaces and
/// apostrophes (`xi'an`) between syllables; lower-cased, separators dropped.
pub fn query_key(query: &str) -> Option<String> {
    let q = query.trim();
    if !q.chars().any(|c| c.is_ascii_alphabetic())
        || !q
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '\'')
    {
        return None;
    }
    let key: String = q
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (key.chars().count() <= MAX_FULL).then_some(key)
}

/// Whether `query` finds `name` by pinyin (what the index answers).
pub fn matches(name: &str, query: &str) -> bool {
    query_key(query).is_some_and(|q| keys(name).iter().any(|k| k.starts_with(&q)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The first, allocating version of the keys: the reference the buffered one must equal.
    /// One syllable or Latin word of a name: its readings as (full, initial).
    type Unit = Vec<(String, char)>;

    fn readings(c: char) -> Option<Unit> {
        let multi = c.to_pinyin_multi()?;
        let mut unit: Unit = Vec::new();
        for p in multi {
            let full: String = p
                .plain()
                .chars()
                .map(|c| if c == 'ü' { 'v' } else { c })
                .collect();
            let Some(first) = full.chars().next() else {
                continue;
            };
            if !unit.iter().any(|(f, _)| *f == full) {
                unit.push((full, first));
            }
        }
        (!unit.is_empty()).then_some(unit)
    }

    /// The syllables and words of a name, in order (punctuation and spaces only separate), and
    /// whether any of them is Chinese.
    fn units(name: &str) -> (Vec<Unit>, bool) {
        let mut out = Vec::new();
        let mut chinese = false;
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut Vec<Unit>| {
            if let Some(first) = word.chars().next() {
                out.push(vec![(std::mem::take(word), first)]);
            }
        };
        for c in name.chars().flat_map(char::to_lowercase) {
            if let Some(unit) = readings(c) {
                flush(&mut word, &mut out);
                out.push(unit);
                chinese = true;
            } else if c.is_alphanumeric() && !crate::search::tokens::is_ideograph(c) {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
            }
        }
        flush(&mut word, &mut out);
        (out, chinese)
    }

    /// The pinyin keys of a name (none for a name with no Chinese character: its words are
    /// found by the text index already).
    fn reference_keys(name: &str) -> BTreeSet<String> {
        let (units, chinese) = units(name);
        let mut out = BTreeSet::new();
        if !chinese {
            return out;
        }
        for start in 0..units.len().min(MAX_STARTS) {
            let rest = &units[start..];
            // The first readings, then each other reading of one syllable at a time, the
            // earlier syllables first (a surname's: 单 shan/dan). From a later syllable (`keji`
            // in 北京科技) only the first readings: every key costs the index a token.
            let mut picks = vec![vec![0_usize; rest.len()]];
            if start == 0 {
                for (k, u) in rest.iter().enumerate() {
                    for r in 1..u.len() {
                        if picks.len() == MAX_COMBOS {
                            break;
                        }
                        let mut p = vec![0_usize; rest.len()];
                        p[k] = r;
                        picks.push(p);
                    }
                }
            }
            for pick in picks {
                let mut full = String::new();
                let mut initials = String::new();
                for (u, &i) in rest.iter().zip(&pick) {
                    full.push_str(&u[i].0);
                    initials.push(u[i].1);
                }
                out.insert(full.chars().take(MAX_FULL).collect());
                out.insert(initials.chars().take(MAX_INITIALS).collect());
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn the_buffered_keys_are_the_reference_keys(
            name in "[张伟单曾仇吕长的行重北京科技xa-cA-CéÜ1 .'-]{0,16}"
        ) {
            proptest::prop_assert_eq!(keys(&name), reference_keys(&name));
        }
    }

    #[test]
    fn full_initials_and_prefixes_of_either() {
        for q in [
            "zhangwei",
            "zhang wei",
            "ZW",
            "zhangw",
            "zh",
            "z",
            "wei",
            "w",
        ] {
            assert!(matches("张伟", q), "{q}");
        }
        for q in ["zhangx", "wz", "zhangweii", "张", "zw1"] {
            assert!(!matches("张伟", q), "{q}");
        }
        assert!(matches("北京科技有限公司", "keji"));
        assert!(matches("北京科技有限公司", "bjkj"));
        assert!(matches("xi'an 西安", "xian"));
    }

    #[test]
    fn every_reading_of_a_heteronym() {
        assert!(matches("单雄信", "shanxiongxin"));
        assert!(matches("单雄信", "danxiongxin"));
        assert!(matches("曾国藩", "zengguofan"));
        assert!(matches("曾国藩", "cengguofan"));
        assert!(matches("仇英", "qiuying"));
        assert!(matches("仇英", "chouying"));
        assert!(matches("吕布", "lvbu"));
    }

    #[test]
    fn latin_words_in_a_name_keep_their_letters() {
        assert!(matches("Stark 贸易 Inc.", "starkmaoyi"));
        assert!(matches("Stark 贸易 Inc.", "smy"));
        // A name without Chinese has no keys: its words are in the text index.
        assert!(keys("Acme Inc.").is_empty());
    }

    #[test]
    fn keys_stay_few_for_long_names() {
        let k = keys("中华人民共和国国家发展和改革委员会北京办事处");
        assert!(k.len() <= MAX_STARTS * MAX_COMBOS * 2, "{}", k.len());
        assert!(k.iter().all(|k| k.chars().count() <= MAX_FULL));
    }
}
