//! Groups from the rules on small planted sets: equal keys, similar names within blocks,
//! the order.

use super::*;

fn cn() -> Region {
    Region::parse("CN").expect("CN")
}

/// Customers from (id, name, phone, city), keyed by the customer rules.
fn customers(rows: &[(i64, &str, &str, &str)]) -> Vec<Rec> {
    let rules = rules("customer");
    rows.iter()
        .map(|(id, name, phone, city)| {
            let vals = |f: &str| match f {
                "name" => Value::Text((*name).into()),
                "phone" if !phone.is_empty() => Value::Text((*phone).into()),
                _ => Value::Null,
            };
            Rec {
                id: *id,
                keys: rules
                    .iter()
                    .map(|r| r.key(&vals(r.field), None, cn()))
                    .collect(),
                city: (!city.is_empty()).then(|| (*city).to_string()),
                phone: matchkey::phone(phone, cn()),
            }
        })
        .collect()
}

fn all() -> Vec<&'static Rule> {
    rules("customer").iter().collect()
}

#[test]
fn equal_names_after_normalising_make_one_group() {
    let recs = customers(&[
        (1, "彩虹网络有限公司", "", ""),
        (2, "其他公司", "", ""),
        (3, "彩虹网络 (有限公司)", "", ""),
        (4, "彩虹网络北京分公司", "", ""),
    ]);
    let g = groups(&recs, &all(), 0.9);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].rule, "name");
    assert!((g[0].score - 1.0).abs() < 1e-9);
    assert_eq!(g[0].members, vec![0, 2]);
}

#[test]
fn phones_match_in_e164() {
    let recs = customers(&[
        (5, "甲", "138 0013 8000", ""),
        (6, "乙", "+86-13800138000", ""),
        (7, "丙", "13900139000", ""),
    ]);
    let g = groups(&recs, &all(), 0.9);
    assert_eq!(g.len(), 1);
    assert_eq!((g[0].rule, &g[0].members), ("phone", &vec![0, 1]));
}

#[test]
fn similar_names_with_a_typo_meet_in_a_shared_bigram() {
    let recs = customers(&[
        (1, "深圳市彩虹网络科技有限公司", "", ""),
        (2, "深圳市彩虹网洛科技", "", ""),
        (3, "杭州蓝天物流有限公司", "", ""),
    ]);
    let g = groups(&recs, &all(), 0.9);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!((g[0].rule, &g[0].members), ("similar", &vec![0, 1]));
    assert!(g[0].score >= 0.9 && g[0].score < 1.0, "{}", g[0].score);
    // A higher threshold than their similarity finds nothing.
    let strict = groups(&recs, &all(), 0.99);
    assert!(strict.is_empty(), "{strict:?}");
}

#[test]
fn similar_alone_also_groups_equal_names() {
    let mut recs = customers(&[(1, "彩虹网络有限公司", "", ""), (2, "彩虹网络", "", "")]);
    for r in &mut recs {
        r.keys = vec![r.keys[4].clone()];
    }
    let only: Vec<&Rule> = rules("customer").iter().filter(|r| r.similar).collect();
    let g = groups(&recs, &only, 0.9);
    assert_eq!(g.len(), 1);
    assert!((g[0].score - 1.0).abs() < 1e-9);
}

#[test]
fn groups_are_ordered_by_rule_then_lowest_id() {
    let recs = customers(&[
        (9, "乙公司", "13900139000", ""),
        (3, "甲公司", "13800138000", ""),
        (4, "甲", "13800138000", ""),
        (8, "乙", "13900139000", ""),
    ]);
    let g = groups(&recs, &all(), 0.9);
    let seen: Vec<(&str, i64)> = g.iter().map(|g| (g.rule, recs[g.members[0]].id)).collect();
    assert_eq!(
        seen,
        vec![("phone", 3), ("phone", 8), ("name", 3), ("name", 8)]
    );
}

#[test]
fn contact_names_match_only_within_a_customer() {
    let rule = rule_for_field("contact", "name").expect("a name rule");
    let a = rule.key(&Value::Text("张 伟".into()), Some(&Value::Integer(1)), cn());
    let b = rule.key(&Value::Text("张伟".into()), Some(&Value::Integer(1)), cn());
    let c = rule.key(&Value::Text("张伟".into()), Some(&Value::Integer(2)), cn());
    assert_eq!(a, b);
    assert_ne!(a, c);
}
