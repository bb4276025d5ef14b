//! The plan against the semantics it stands for: on random Chinese, Latin, digit and
//! punctuation values, every value that contains the query is a candidate (the index never
//! loses a match), and an exact plan's candidates all match.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::{Plan, Term};
use crate::search::tokens::{add_phone, add_text, phone_norm};

/// A record as the index sees it: text values, phone values.
struct Rec {
    text: Vec<String>,
    phones: Vec<String>,
}

impl Rec {
    fn tokens(&self) -> BTreeSet<String> {
        let mut s = Vec::new();
        for v in &self.text {
            add_text(v, &mut s);
        }
        for v in &self.phones {
            add_phone(v, &mut s);
        }
        s.into_iter().collect()
    }

    /// The substring semantics: some value contains the query, ignoring case; or the query
    /// is a phone fragment whose digits some phone holds.
    fn matches(&self, q: &str, plan: &Plan) -> bool {
        let lq = q.to_lowercase();
        self.text
            .iter()
            .chain(&self.phones)
            .any(|v| v.to_lowercase().contains(&lq))
            || plan.phone.as_ref().is_some_and(|d| {
                self.phones
                    .iter()
                    .any(|p| phone_norm(p).contains(d.as_str()))
            })
    }
}

fn holds(tokens: &BTreeSet<String>, terms: &[Term]) -> bool {
    terms.iter().all(|t| match t {
        Term::Exact(s) => tokens.contains(s),
        Term::Prefix(s) => tokens
            .range(s.clone()..)
            .next()
            .is_some_and(|k| k.starts_with(s)),
    })
}

fn candidate(rec: &Rec, plan: &Plan) -> bool {
    let tokens = rec.tokens();
    plan.text.iter().any(|alt| holds(&tokens, alt))
}

fn value() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            proptest::sample::select(vec!['张', '伟', '科', '技', '北', '京', '单', 'の']),
            proptest::sample::select(vec!['a', 'B', 'c', 'Z', 'é', 'É', 'x']),
            proptest::sample::select(vec!['1', '3', '9', '0', '8', '6']),
            proptest::sample::select(vec![' ', '-', '.', '@', '(', ')', '+', '%', '_']),
        ],
        0..14,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_index_never_loses_a_match_and_exact_plans_are_exact(
        text in proptest::collection::vec(value(), 1..3),
        phones in proptest::collection::vec(value(), 0..2),
        pick in 0usize..4,
        from in 0usize..14,
        len in 1usize..8,
        other in value(),
    ) {
        let rec = Rec { text, phones };
        let all: Vec<&String> = rec.text.iter().chain(&rec.phones).collect();
        // Half the queries are fragments of the record's own values, half anything.
        let q: String = if pick < 2 {
            let v = all[pick.min(all.len() - 1)];
            v.chars().skip(from).take(len).collect()
        } else {
            other
        };
        prop_assume!(!q.trim().is_empty());
        let plan = Plan::new(&q);
        let matches = rec.matches(&q, &plan);
        if plan.text.is_empty() {
            // Nothing to narrow by: the engine scans; nothing to check here.
            return Ok(());
        }
        if matches {
            prop_assert!(candidate(&rec, &plan), "lost {q:?} in {:?} / {:?}: {plan:?}", rec.text, rec.phones);
        }
        if plan.exact && candidate(&rec, &plan) {
            prop_assert!(matches, "exact plan {plan:?} for {q:?} took {:?} / {:?}", rec.text, rec.phones);
        }
    }
}

#[test]
fn short_pieces_are_exact_and_long_ones_need_the_check() {
    assert!(Plan::new("张伟").exact);
    assert!(Plan::new("张").exact);
    assert!(Plan::new("abc").exact);
    assert!(Plan::new("139").exact);
    assert!(!Plan::new("张伟强").exact);
    assert!(!Plan::new("abcd").exact);
    assert!(!Plan::new("a b").exact);
    assert!(!Plan::new("é").exact);
    assert!(Plan::new("%").text.is_empty());
}

#[test]
fn renders_both_engines_syntax_with_every_token_quoted() {
    let p = Plan::new("user1@");
    assert_eq!(
        p.fts5_text().as_deref(),
        Some("(\"er1\" AND \"ser\" AND \"use\")")
    );
    assert_eq!(p.tsquery_text().as_deref(), Some("('er1' & 'ser' & 'use')"));
    assert_eq!(p.pinyin, None);
    let z = Plan::new("zw");
    assert_eq!(z.fts5_pinyin().as_deref(), Some("\"·zw\" *"));
    assert_eq!(z.tsquery_pinyin().as_deref(), Some("'·zw':*"));
    let phone = Plan::new("+86 139-12");
    assert_eq!(phone.phone.as_deref(), Some("13912"));
    assert_eq!(phone.text.len(), 2);
}
