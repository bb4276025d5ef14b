//! Match keys: the one spelling of a value that duplicate finding (`crm dedupe`) and
//! `crm import --dedupe`/`--key` compare. Two records whose keys are equal are the same
//! customer however they were typed: phones in E.164 (+ extension), e-mails lower-case,
//! credit codes upper-case, names folded (full-width → half-width, case, spaces, brackets
//! and company-form suffixes dropped). Keys are computed when compared, not stored: see
//! README "Duplicates" for why (measured) that is fast enough.

use unicode_normalization::UnicodeNormalization;

use super::kinds::phones::{self, Region};

/// Company-form suffixes in Chinese, longest first so that 股份有限公司 goes before 有限公司.
const ZH_SUFFIXES: &[&str] = &[
    "集团股份有限公司",
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "股份公司",
    "总公司",
    "公司",
    "集团",
];

/// Company-form words in Latin script (compared lower-case, as whole words).
const LATIN_SUFFIXES: &[&str] = &[
    "incorporated",
    "corporation",
    "company",
    "limited",
    "gmbh",
    "corp",
    "ltd",
    "llc",
    "inc",
    "plc",
    "pte",
    "pty",
    "co",
];

/// Brackets of every width, dropped from names (NFKC already made （） and ［］ half-width).
const BRACKETS: &[char] = &[
    '(', ')', '[', ']', '{', '}', '<', '>', '【', '】', '〔', '〕', '《', '》', '〈', '〉', '「',
    '」', '『', '』',
];

/// Punctuation that only separates words in a name (`Co., Ltd.`, `A&B`, `·`).
const SEPARATORS: &[char] = &[
    '.', ',', '\'', '"', '-', '_', '&', '/', '·', '、', '，', '。', '・',
];

/// A phone's key: E.164 (+ `;ext=N`) read in `region`; the digits alone when it cannot be
/// read (an old value stored before phones were parsed), so equal junk still matches.
pub fn phone(s: &str, region: Region) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(p) = phones::parse(t, region) {
        Some(p.key())
    } else {
        let d: String = t.chars().filter(char::is_ascii_digit).collect();
        (!d.is_empty()).then_some(d)
    }
}

/// An e-mail's key: trimmed, lower-case.
pub fn email(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_lowercase())
}

/// A credit code's key: trimmed, upper-case.
pub fn credit_code(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_uppercase())
}

/// A person's name folded: NFKC (full-width → half-width), case folded, whitespace,
/// brackets and separating punctuation removed.
pub fn person(s: &str) -> Option<String> {
    let k: String = fold(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !BRACKETS.contains(c) && !SEPARATORS.contains(c))
        .collect();
    (!k.is_empty()).then_some(k)
}

/// A company's name folded as [`person`], and its company-form suffixes removed
/// (有限公司, Co., Ltd. …), repeatedly (`… Co., Ltd.`); a branch (分公司) keeps its
/// suffix: it is a different record from its head office. A name that is nothing but a
/// suffix keeps it.
pub fn company(s: &str) -> Option<String> {
    let mut t: String = fold(s)
        .chars()
        .map(|c| if BRACKETS.contains(&c) { ' ' } else { c })
        .collect();
    loop {
        let trimmed = t.trim_end_matches(|c: char| c.is_whitespace() || SEPARATORS.contains(&c));
        let Some(rest) = strip_suffix(trimmed) else {
            t.truncate(trimmed.len());
            break;
        };
        if person(rest).is_none() {
            t.truncate(trimmed.len());
            break;
        }
        t.truncate(rest.len());
    }
    person(&t)
}

/// The name with one company-form suffix removed, if it ends with one.
fn strip_suffix(t: &str) -> Option<&str> {
    let squeezed: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if squeezed.ends_with("分公司") {
        return None;
    }
    for s in ZH_SUFFIXES {
        if let Some(rest) = strip_spaced(t, s) {
            return Some(rest);
        }
    }
    for s in LATIN_SUFFIXES {
        if let Some(rest) = t.strip_suffix(s) {
            let boundary = rest
                .chars()
                .next_back()
                .is_some_and(|c| !c.is_alphanumeric());
            if boundary {
                return Some(rest);
            }
        }
    }
    None
}

/// `t` without the suffix `s` where spaces may stand between its characters
/// (`有限 公司`, from `彩虹网络 (有限 公司)`).
fn strip_spaced<'a>(t: &'a str, s: &str) -> Option<&'a str> {
    let mut rest = t;
    for want in s.chars().rev() {
        rest = rest.trim_end();
        let c = rest.chars().next_back()?;
        if c != want {
            return None;
        }
        rest = &rest[..rest.len() - c.len_utf8()];
    }
    Some(rest)
}

/// NFKC, then lower-case: full-width letters, digits and brackets become ASCII.
fn fold(s: &str) -> String {
    s.nfkc().collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests;
