//! Unit tests of the rules' pure pieces; the rules themselves are tested through the binary.

use super::lines::line_amount;
use super::{probability_of, transitions_from};

#[test]
fn stage_probabilities() {
    let got: Vec<i64> = [
        "prospecting",
        "qualification",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]
    .iter()
    .map(|s| probability_of(s))
    .collect();
    assert_eq!(got, [10, 20, 50, 70, 100, 0]);
}

#[test]
fn line_amounts_round_half_up() {
    assert_eq!(line_amount(3, 1999, 0), Some(5997));
    assert_eq!(line_amount(1, 1000, 15), Some(850));
    // 1 × 0.05 × 90% = 0.045 → 0.05
    assert_eq!(line_amount(1, 5, 10), Some(5));
    assert_eq!(line_amount(2, 333, 50), Some(333));
    assert_eq!(line_amount(1, 1000, 100), Some(0));
    assert_eq!(line_amount(1_000_000_000, i64::MAX / 10, 0), None);
}

#[test]
fn ticket_transitions() {
    assert!(transitions_from("pending").contains(&"open"));
    assert!(transitions_from("resolved").contains(&"open"));
    assert!(!transitions_from("new").contains(&"new"));
    assert!(transitions_from("closed").is_empty());
    assert!(transitions_from("unknown").is_empty());
}
