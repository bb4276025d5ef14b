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
fn similar_names_with_a_typo_are_one_group_with_their_score() {
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

#[test]
fn the_edits_allowed_grow_with_length_and_a_lower_threshold() {
    let cases = [
        (0, 0.9, 1),
        (6, 0.9, 1),
        (10, 0.9, 1),
        (19, 0.9, 1),
        (20, 0.9, 2),
        (30, 0.9, 3),
        (10, 0.8, 2),
        (10, 0.5, 5),
        (10, 1.0, 1),
    ];
    for (len, min, want) in cases {
        assert_eq!(similar::edits(len, min), want, "{len} chars at {min}");
    }
}

#[test]
fn jaro_winkler_alone_is_not_enough_for_short_names_two_edits_apart() {
    // Different companies that Jaro-Winkler rates above 0.9: two edits apart.
    for (a, b) in [
        ("杭州盛美教育", "杭州恒盛教育"),
        ("成都一安数据", "成都金一数据"),
        ("wayne兆尚千电子", "wayne尚华达电子"),
        ("umbrella富飞茂能源", "umbrella鹏富蓝能源"),
    ] {
        assert!(strsim::jaro_winkler(a, b) >= 0.9, "{a} {b}");
        assert_eq!(similar::score(a, b, 0.9), None, "{a} {b}");
    }
    // One typo: similar, the score is Jaro-Winkler's.
    let s = similar::score("重庆美辰软件", "重庆美方软件", 0.9).expect("one typo");
    assert!((s - strsim::jaro_winkler("重庆美辰软件", "重庆美方软件")).abs() < 1e-12);
    assert!(similar::score("重庆美辰软件", "重庆美方软件", 0.95).is_none());
    // One character missing, two neighbours swapped: one edit each.
    assert!(similar::score("深圳市彩虹网络科技", "深圳市彩虹网科技", 0.9).is_some());
    assert!(similar::score("深圳市彩虹网络科技", "深圳市彩虹络网科技", 0.9).is_some());
    assert_eq!(similar::score("甲", "甲", 0.9), Some(1.0));
}

#[test]
fn long_names_may_be_two_edits_apart() {
    let (a, b) = (
        "internationalbusinessmachines",
        "internationalbusinesmachine",
    );
    assert_eq!(strsim::osa_distance(a, b), 2);
    assert!(similar::score(a, b, 0.9).is_some());
    // Found through a shared block (not one edit apart: no shared symmetric-delete key).
    let recs = customers(&[
        (1, a, "", "北京"),
        (2, b, "", "北京"),
        (3, "其他", "", "北京"),
    ]);
    let g = groups(&recs, &all(), 0.9);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!((g[0].rule, &g[0].members), ("similar", &vec![0, 1]));
}

#[test]
fn names_one_edit_apart_share_a_symmetric_delete_key_in_any_number_of_passes() {
    let names = [
        Some("abcd"),
        Some("abxd"),
        Some("abd"),
        Some("bacd"),
        Some("wxyz"),
        None,
        Some("aa"),
        Some("a"),
    ];
    let want = vec![(0, 1), (0, 2), (0, 3), (1, 2), (6, 7)];
    for per_pass in [1, 3, 1000] {
        let mut got = Vec::new();
        similar::one_edit_candidates(&names, per_pass, &mut got);
        got.sort_unstable();
        got.dedup();
        assert_eq!(got, want, "{per_pass} keys a pass");
    }
}

#[test]
fn a_one_typo_twin_is_found_among_hundreds_of_look_alikes_and_nothing_else_is() {
    // 506 different companies in one city and trade, each two edits or more from every
    // other (the third character changes with either of the first two or their swap; a
    // swap of the last two is left out): the city and the common bigrams make blocks over
    // the cap; one typo of the first is its only pair.
    let pool: Vec<char> = "安邦宝北博彩昌辰成诚创达大德鼎东方飞丰福富冠光"
        .chars()
        .collect();
    let n = pool.len();
    let mut rows: Vec<(i64, String)> = Vec::new();
    for (k, a) in pool.iter().enumerate() {
        for (m, b) in pool.iter().enumerate() {
            if (k + m) % n == 0 {
                continue;
            }
            let c = pool[(k + 2 * m) % n];
            let id = i64::try_from(rows.len()).expect("small") + 1;
            rows.push((id, format!("北京{a}{b}{c}科技有限公司")));
        }
    }
    assert_eq!(rows[0].1, "北京安邦宝科技有限公司");
    let typo = i64::try_from(rows.len()).expect("small") + 1;
    rows.push((typo, "北京安邦宝科枝有限公司".into()));
    let recs = customers(
        &rows
            .iter()
            .map(|(id, name)| (*id, name.as_str(), "", "北京"))
            .collect::<Vec<_>>(),
    );
    let g = groups(&recs, &all(), 0.9);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].rule, "similar");
    let ids: Vec<i64> = g[0].members.iter().map(|&i| recs[i].id).collect();
    assert_eq!(ids, vec![1, typo]);
}
