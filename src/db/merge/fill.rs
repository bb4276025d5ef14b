//! What KEEP holds after a merge: pure, so the rule is tested without a database.
//!
//! A writable field KEEP leaves empty takes the first non-empty value of the duplicates, in
//! the order given. `--prefer FIELD=ID` makes that record's value win instead (when it has
//! one; an empty preferred value falls back to the rule above). Tags are the union: KEEP's
//! first, then each duplicate's new ones, in order (`--prefer tags=ID` takes that record's
//! tags alone). Read-only fields (derived values, timestamps) are the rules' to recompute.

use crate::db::records::Draft;
use crate::schema::{Kind, Value};

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Text(t) => t.is_empty(),
        _ => false,
    }
}

fn union_tags<'a>(all: impl Iterator<Item = &'a Value>) -> Value {
    let mut tags: Vec<&str> = Vec::new();
    for v in all {
        if let Value::Text(t) = v {
            for tag in t.split(';').filter(|s| !s.is_empty()) {
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
    }
    if tags.is_empty() {
        Value::Null
    } else {
        Value::Text(tags.join(";"))
    }
}

/// KEEP's values after the merge and the fields that change: (field, value, source id).
pub fn merged(
    keep_id: i64,
    keep: &Draft,
    dups: &[(i64, &Draft)],
    prefer: &[(&'static str, i64)],
) -> (Draft, Vec<(&'static str, Value, i64)>) {
    let mut out = keep.clone();
    let mut fills = Vec::new();
    let all: Vec<(i64, &Draft)> = std::iter::once((keep_id, keep))
        .chain(dups.iter().copied())
        .collect();
    for (i, f) in keep.entity.fields.iter().enumerate() {
        if f.read_only {
            continue;
        }
        let preferred = prefer
            .iter()
            .find(|(name, _)| *name == f.name)
            .and_then(|(_, id)| all.iter().find(|(rid, _)| rid == id))
            .filter(|(_, d)| !empty(&d.values[i]));
        let (value, from) = if let Some((id, d)) = preferred {
            (d.values[i].clone(), *id)
        } else if f.kind == Kind::Tags {
            let v = union_tags(all.iter().map(|(_, d)| &d.values[i]));
            let from = dups
                .iter()
                .find(|(_, d)| !empty(&d.values[i]))
                .map_or(keep_id, |(id, _)| *id);
            (v, from)
        } else if empty(&keep.values[i]) {
            match dups.iter().find(|(_, d)| !empty(&d.values[i])) {
                Some((id, d)) => (d.values[i].clone(), *id),
                None => continue,
            }
        } else {
            continue;
        };
        if value != keep.values[i] {
            out.values[i] = value.clone();
            fills.push((f.name, value, from));
        }
    }
    (out, fills)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Entity;

    fn customer(pairs: &[(&str, &str)]) -> Draft {
        let mut d = Draft::empty(Entity::get("customer").expect("customer"));
        for (k, v) in pairs {
            d.set(k, Value::Text((*v).to_string()));
        }
        d
    }

    #[test]
    fn keep_empty_fields_take_the_first_duplicate_value_in_order() {
        let keep = customer(&[("name", "甲"), ("city", "北京")]);
        let a = customer(&[("name", "乙"), ("city", "上海"), ("email", "a@x.cn")]);
        let b = customer(&[("name", "丙"), ("email", "b@x.cn"), ("website", "b.cn")]);
        let (m, fills) = merged(1, &keep, &[(2, &a), (3, &b)], &[]);
        assert_eq!(m.text("name"), Some("甲"));
        assert_eq!(m.text("city"), Some("北京"));
        assert_eq!(m.text("email"), Some("a@x.cn"));
        assert_eq!(m.text("website"), Some("b.cn"));
        let names: Vec<(&str, i64)> = fills.iter().map(|(f, _, id)| (*f, *id)).collect();
        assert!(names.contains(&("email", 2)) && names.contains(&("website", 3)));
        assert!(!names.iter().any(|(f, _)| *f == "name" || *f == "city"));
    }

    #[test]
    fn prefer_picks_the_winner_and_tags_are_the_union() {
        let keep = customer(&[("name", "甲"), ("city", "北京"), ("tags", "vip;a")]);
        let a = customer(&[("name", "乙"), ("city", "上海"), ("tags", "a;b")]);
        let (m, _) = merged(1, &keep, &[(2, &a)], &[("city", 2), ("name", 1)]);
        assert_eq!(m.text("city"), Some("上海"));
        assert_eq!(m.text("name"), Some("甲"));
        assert_eq!(m.text("tags"), Some("vip;a;b"));
        let (m, _) = merged(1, &keep, &[(2, &a)], &[("tags", 2)]);
        assert_eq!(m.text("tags"), Some("a;b"));
        // An empty preferred value falls back to the rule.
        let (m, _) = merged(1, &keep, &[(2, &a)], &[("email", 2)]);
        assert_eq!(m.get("email"), &Value::Null);
    }
}
