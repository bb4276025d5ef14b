//! Unit tests of the rules: their pure pieces, and the changes they derive through a fake
//! [`Lookup`] (the rules with a real store are tested through the binary).

use super::lines::line_amount;
use super::{
    Cause, Change, Lookup, RULES, after_delete, after_write, apply, probability_of,
    restore_plain_amount, transitions_from,
};
use crate::error::Result;
use crate::schema::record::{Draft, Stored};
use crate::schema::{Entity, Value};

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

/// A store stand-in: every parent has the same line totals, every customer the same last
/// activity, every record a `number` and `customer` field of 7.
struct Fake {
    totals: (i64, i128),
    last_done: Value,
    last_stage: Option<&'static str>,
}

impl Lookup for Fake {
    fn get(&self, e: &'static Entity, id: i64) -> Result<Option<Stored>> {
        let mut draft = Draft::empty(e);
        if e.name == "product" {
            draft.set("unit_price", Value::Integer(250));
            draft.set("active", Value::Integer(1));
            draft.set("code", Value::Text("P1".into()));
        }
        Ok(Some(Stored {
            id,
            draft,
            created_at: 0,
            updated_at: 0,
        }))
    }
    fn field(&self, _: &'static Entity, field: &str, _: i64) -> Result<Option<Value>> {
        Ok(Some(match field {
            "number" => Value::Text("Q1".into()),
            _ => Value::Integer(7),
        }))
    }
    fn amounts(&self, _: &'static Entity, _: &str, _: i64, _: Option<i64>) -> Result<(i64, i128)> {
        Ok(self.totals)
    }
    fn last_done_at(&self, _: i64) -> Result<Value> {
        Ok(self.last_done.clone())
    }
    fn role_of(&self, _: &str) -> Result<Option<String>> {
        Ok(Some("service".into()))
    }
    fn last_stage(&self, _: i64) -> Result<Option<String>> {
        Ok(self.last_stage.map(str::to_string))
    }
}

const FAKE: Fake = Fake {
    totals: (2, 900),
    last_done: Value::Integer(1_700_000_000),
    last_stage: None,
};

fn draft(entity: &str, values: &[(&str, Value)]) -> Draft {
    let mut d = Draft::empty(Entity::get(entity).expect("entity"));
    for (f, v) in values {
        d.set(f, v.clone());
    }
    d
}

/// `(entity, id, field, value)` of each derived value, for comparing.
fn derived(changes: &[Change]) -> Vec<(&'static str, i64, &'static str, Value)> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Derive(d) => Some((d.entity.name, d.id, d.field, d.value.clone())),
            Change::EnterStage { .. } => None,
        })
        .collect()
}

/// A line moved from one order to another: both orders' amounts follow, as values the store
/// is to apply (the rule writes nothing itself).
#[test]
fn a_moved_line_derives_both_parents_amounts() {
    let new = draft("order_line", &[("order", Value::Integer(2))]);
    let old = draft("order_line", &[("order", Value::Integer(1))]);
    let changes = after_write(&FAKE, &new, Some(&old), 5).expect("rules");
    assert_eq!(
        derived(&changes),
        [
            ("order", 2, "amount", Value::Integer(900)),
            ("order", 1, "amount", Value::Integer(900)),
        ]
    );
    let Change::Derive(d) = &changes[0] else {
        panic!("a derived value");
    };
    assert_eq!(
        d.cause,
        Cause {
            entity: "order_line",
            id: 5
        }
    );
}

#[test]
fn a_deleted_activity_derives_its_customers_last_contact() {
    let d = draft("activity", &[("customer", Value::Integer(3))]);
    let changes = after_delete(&FAKE, &d, 9).expect("rules");
    assert_eq!(
        derived(&changes),
        [(
            "customer",
            3,
            "last_contacted_at",
            Value::Integer(1_700_000_000)
        )]
    );
}

#[test]
fn a_new_stage_is_entered_once() {
    let d = draft("opportunity", &[("stage", Value::Text("proposal".into()))]);
    let changes = after_write(&FAKE, &d, None, 4).expect("rules");
    assert!(matches!(
        changes.as_slice(),
        [Change::EnterStage { opportunity: 4, stage, .. }] if stage == "proposal"
    ));
    let same = Fake {
        last_stage: Some("proposal"),
        ..FAKE
    };
    assert!(after_write(&same, &d, None, 4).expect("rules").is_empty());
}

#[test]
fn a_line_takes_its_products_price_and_its_amount() {
    let mut d = draft(
        "quote_line",
        &[
            ("product", Value::Integer(1)),
            ("quantity", Value::Integer(3)),
        ],
    );
    apply(&FAKE, &mut d, None).expect("rules");
    assert_eq!(d.int("unit_price"), Some(250));
    assert_eq!(d.int("amount"), Some(750));
}

#[test]
fn an_order_without_lines_gets_its_plain_amount_back() {
    let none = Fake {
        totals: (0, 0),
        ..FAKE
    };
    let changes = restore_plain_amount(&none, 8, &Value::Integer(500), 2).expect("rules");
    assert_eq!(
        derived(&changes),
        [("order", 8, "amount", Value::Integer(500))]
    );
    assert!(
        restore_plain_amount(&FAKE, 8, &Value::Integer(500), 2)
            .expect("rules")
            .is_empty()
    );
}

/// Every entity's rules run on an empty and on a filled draft without naming a field the
/// registry lacks (`Draft::get` panics on one), whatever they decide.
#[test]
fn every_rule_runs_on_the_fields_of_its_entity() {
    for r in RULES {
        let e = Entity::get(r.entity).expect("registered entities exist");
        let mut filled = Draft::empty(e);
        for (i, f) in e.fields.iter().enumerate() {
            filled.values[i] = match f.kind {
                crate::schema::Kind::Choice(c) => Value::Text(c[0].0.into()),
                crate::schema::Kind::Text | crate::schema::Kind::User => Value::Text("x".into()),
                crate::schema::Kind::Date => Value::Text("2026-01-01".into()),
                _ => Value::Integer(1),
            };
        }
        for d in [Draft::empty(e), filled] {
            let stored = Stored {
                id: 1,
                draft: d.clone(),
                created_at: 0,
                updated_at: 0,
            };
            let _ = apply(&FAKE, &mut d.clone(), None);
            let _ = apply(&FAKE, &mut d.clone(), Some(&stored));
            let _ = after_write(&FAKE, &d, Some(&d), 1);
            let _ = after_delete(&FAKE, &d, 1);
        }
    }
}

/// A line's parent field refers to the parent its amounts add up to.
#[test]
fn line_parents_are_references() {
    for spec in [&super::lines::QUOTE, &super::lines::ORDER] {
        let line = Entity::get(spec.line).expect("line entity");
        let via = line.field(spec.parent).expect("parent field");
        assert_eq!(via.kind, crate::schema::Kind::Ref(spec.parent));
    }
}
