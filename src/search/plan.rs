//! A query text as an index query: which tokens every match must hold, whether holding them
//! is already proof of a match, and the digit and pinyin forms the text may also stand for.
//! Rendered here for both engines' index syntaxes (FTS5 MATCH and `tsquery`): pure text,
//! every token quoted.

use std::collections::BTreeSet;

use super::pinyin;
use super::tokens::{self, GRAM, Piece};

/// One token condition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Term {
    /// The token itself.
    Exact(String),
    /// Any token that starts with this.
    Prefix(String),
}

/// How the index answers one query text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Alternatives of the text index: a record is a candidate when it holds every term of
    /// one of them (the text's own pieces; its phone digits). Empty when the text has no
    /// letter, digit or ideograph: then only a scan can answer.
    pub text: Vec<Vec<Term>>,
    /// Whether every candidate matches, so no check of the values is needed.
    pub exact: bool,
    /// The digits phone fields are searched for, when the text is a phone fragment.
    pub phone: Option<String>,
    /// The pinyin key prefix names are searched for; the index answers it exactly.
    pub pinyin: Option<String>,
}

/// Leaves out the prefix terms of an alternative that holds two or more whole tokens: it
/// stays a superset of the matches (the values confirm), and a short word's prefix
/// (`cn`, `com` in an e-mail) is about the dearest term an index can be asked — every
/// token it starts, each in most records: on `PostgreSQL` the two made a rare e-mail's
/// index lookup 194 ms instead of 63.
fn without_common_prefixes(terms: BTreeSet<Term>) -> Vec<Term> {
    let whole = terms.iter().filter(|t| matches!(t, Term::Exact(_))).count();
    terms
        .into_iter()
        .filter(|t| whole < 2 || matches!(t, Term::Exact(_)))
        .collect()
}

/// The terms that every value containing this piece holds.
fn terms(piece: &Piece, out: &mut BTreeSet<Term>) {
    match piece {
        Piece::Run(c) if c.len() <= 2 => {
            out.insert(Term::Exact(c.iter().collect()));
        }
        Piece::Run(c) => {
            for w in c.windows(2) {
                out.insert(Term::Exact(w.iter().collect()));
            }
        }
        Piece::Word(c) if c.len() <= GRAM => {
            out.insert(Term::Prefix(c.iter().collect()));
        }
        Piece::Word(c) => {
            for w in c.windows(GRAM) {
                out.insert(Term::Exact(w.iter().collect()));
            }
        }
    }
}

impl Plan {
    pub fn new(query: &str) -> Plan {
        let pieces = tokens::pieces(query);
        let mut text = Vec::new();
        let mut own = BTreeSet::new();
        for p in &pieces {
            terms(p, &mut own);
        }
        let phone = tokens::phone_digits(query);
        if !own.is_empty() {
            text.push(without_common_prefixes(own));
            if let Some(d) = &phone {
                let mut digits = BTreeSet::new();
                for p in tokens::pieces(d) {
                    terms(&p, &mut digits);
                }
                let digits = without_common_prefixes(digits);
                if !text.contains(&digits) {
                    text.push(digits);
                }
            }
        }
        // The candidates are the matches when the text is one short piece, written so that
        // the SQL's case-insensitive comparison agrees with lower-casing (ASCII letters,
        // digits, ideographs) and, for a phone fragment, standing for its digits as written.
        let exact = match pieces.as_slice() {
            [one] => {
                let short = match one {
                    Piece::Run(c) => c.len() <= 2,
                    Piece::Word(c) => c.len() <= GRAM,
                };
                short
                    && query.chars().count() == one.chars().len()
                    && query
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || tokens::is_ideograph(c))
                    && phone.as_deref().is_none_or(|d| d == query)
            }
            _ => false,
        };
        Plan {
            text,
            exact,
            phone,
            pinyin: pinyin::query_key(query),
        }
    }

    /// The FTS5 query of the text alternatives; None when the index cannot narrow.
    pub fn fts5_text(&self) -> Option<String> {
        let alts: Vec<String> = self
            .text
            .iter()
            .map(|terms| {
                let t: Vec<String> = terms.iter().map(fts5_term).collect();
                format!("({})", t.join(" AND "))
            })
            .collect();
        (!alts.is_empty()).then(|| alts.join(" OR "))
    }

    /// The FTS5 query of the pinyin key (among the marked tokens).
    pub fn fts5_pinyin(&self) -> Option<String> {
        self.pinyin
            .as_ref()
            .map(|k| fts5_term(&Term::Prefix(format!("{}{k}", pinyin::MARK))))
    }

    /// The `tsquery` of the text alternatives.
    pub fn tsquery_text(&self) -> Option<String> {
        let alts: Vec<String> = self
            .text
            .iter()
            .map(|terms| {
                let t: Vec<String> = terms.iter().map(ts_term).collect();
                format!("({})", t.join(" & "))
            })
            .collect();
        (!alts.is_empty()).then(|| alts.join(" | "))
    }

    /// The `tsquery` of the pinyin key (among the marked lexemes).
    pub fn tsquery_pinyin(&self) -> Option<String> {
        self.pinyin
            .as_ref()
            .map(|k| ts_term(&Term::Prefix(format!("{}{k}", pinyin::MARK))))
    }
}

fn fts5_term(t: &Term) -> String {
    match t {
        Term::Exact(s) => format!("\"{}\"", s.replace('"', "\"\"")),
        Term::Prefix(s) => format!("\"{}\" *", s.replace('"', "\"\"")),
    }
}

fn ts_term(t: &Term) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"));
    match t {
        Term::Exact(s) => quote(s),
        Term::Prefix(s) => format!("{}:*", quote(s)),
    }
}

#[cfg(test)]
mod tests;
