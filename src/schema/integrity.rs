//! The registry's integrity: every name it uses to point at an entity or a field exists,
//! names are unique where they must be. So is every name that behaviour keyed by entity
//! uses: the rules registered per entity, the open notion and related lists, role rights,
//! the entities each report reads. (No fixed-width mask limits an entity's fields: an
//! import's row marks given fields in a `Vec<bool>`, tested at 200 fields in
//! `db/bulk/tests.rs`.)

use std::collections::HashSet;

use super::entities::{STAGES, SYNONYMS};
use super::{Default, ENTITIES, Entity, Field, Kind, Open, Rights};

fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().find(|e| e.name == name)
}

fn field(e: &Entity, name: &str) -> Option<&'static Field> {
    e.columns().find(|f| f.name == name)
}

/// Names are quoted with `ident` without escaping: only plain lowercase names are safe.
fn plain(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

#[test]
fn entity_and_field_names_are_plain_and_unique() {
    let mut names = HashSet::new();
    let mut labels = HashSet::new();
    for e in ENTITIES {
        assert!(plain(e.name), "entity name '{}'", e.name);
        assert!(names.insert(e.name), "entity '{}' twice", e.name);
        assert!(labels.insert(e.zh), "{}: label '{}' twice", e.name, e.zh);
        assert!(labels.insert(e.en), "{}: label '{}' twice", e.name, e.en);
        let mut fields = HashSet::new();
        for f in e.columns() {
            assert!(plain(f.name), "{}.{}: not a plain name", e.name, f.name);
            assert!(fields.insert(f.name), "{}.{} twice", e.name, f.name);
        }
    }
}

#[test]
fn references_point_at_entities_that_exist() {
    for e in ENTITIES {
        for f in e.fields {
            if let Kind::Ref(target) = f.kind {
                assert!(
                    entity(target).is_some(),
                    "{}.{} -> {target}",
                    e.name,
                    f.name
                );
            }
        }
    }
}

/// The key is how references and imports find a record: a unique field of the entity.
#[test]
fn each_key_is_a_unique_field_of_its_entity() {
    for e in ENTITIES {
        if let Some(key) = e.key {
            let f = field(e, key).unwrap_or_else(|| panic!("{}: key {key} is no field", e.name));
            assert!(f.unique, "{}: key {key} is not unique", e.name);
        }
        for f in e.fields {
            if matches!(f.default, Default::Generated(_)) {
                assert!(f.unique, "{}.{}: generated but not unique", e.name, f.name);
            }
        }
    }
}

/// `owner` names a user field; `owner_via` a reference whose target decides ownership in
/// turn (it has an owner, or an `owner_via` of its own), never both, never a loop.
#[test]
fn owner_paths_are_user_fields_or_references_that_reach_one() {
    for e in ENTITIES {
        assert!(
            e.owner.is_none() || e.owner_via.is_none(),
            "{}: owner and owner_via",
            e.name
        );
        if let Some(owner) = e.owner {
            let f = field(e, owner).unwrap_or_else(|| panic!("{}: owner {owner}", e.name));
            assert_eq!(
                f.kind,
                Kind::User,
                "{}: owner {owner} is not a user",
                e.name
            );
        }
        let mut at: &Entity = e;
        let mut seen = vec![e.name];
        while let Some(via) = at.owner_via {
            let f = field(at, via).unwrap_or_else(|| panic!("{}: owner_via {via}", at.name));
            let Kind::Ref(target) = f.kind else {
                panic!("{}: owner_via {via} is not a reference", at.name);
            };
            at = entity(target).expect("references exist");
            assert!(
                !seen.contains(&at.name),
                "{}: owner_via loops: {seen:?}",
                e.name
            );
            seen.push(at.name);
        }
        if e.owner_via.is_some() {
            assert!(
                at.owner.is_some(),
                "{}: owner_via ends at {} without owner",
                e.name,
                at.name
            );
        }
    }
}

#[test]
fn titles_and_synonyms_name_fields_that_exist() {
    for e in ENTITIES {
        assert!(field(e, e.title).is_some(), "{}: title {}", e.name, e.title);
    }
    for (e, f, _) in SYNONYMS {
        let ok = if *e == "*" {
            ENTITIES.iter().any(|x| field(x, f).is_some())
        } else {
            entity(e).is_some_and(|x| field(x, f).is_some())
        };
        assert!(ok, "synonym for {e}.{f}: no such field");
    }
}

/// A default is a value its field accepts: a fixed value parses, the current user goes in a
/// user field, today in a date, now in a date-time.
#[test]
fn defaults_fit_their_fields() {
    for e in ENTITIES {
        for f in e.fields {
            let ok = match f.default {
                Default::None | Default::Generated(_) => true,
                Default::Value(v) => f.kind.parse(v).is_ok(),
                Default::CurrentUser => f.kind == Kind::User,
                Default::Today => f.kind == Kind::Date,
                Default::Now => f.kind == Kind::DateTime,
            };
            assert!(ok, "{}.{}: default {:?}", e.name, f.name, f.default);
        }
    }
}

#[test]
fn choices_are_unique_within_a_field() {
    for e in ENTITIES {
        for f in e.fields {
            if let Kind::Choice(choices) = f.kind {
                let mut seen = HashSet::new();
                for (value, label) in choices {
                    assert!(seen.insert(*value), "{}.{}: {value} twice", e.name, f.name);
                    assert!(seen.insert(*label), "{}.{}: {label} twice", e.name, f.name);
                }
            }
        }
    }
    let stage = field(entity("opportunity").expect("opportunity"), "stage").expect("stage");
    assert_eq!(
        stage.kind,
        Kind::Choice(STAGES),
        "the stages rules walk are the field's"
    );
}

/// Rules are found by entity name: each name is an entity, registered once, and every field
/// the rules read or set is a field of the entity named with it.
#[test]
fn rules_are_registered_for_entities_and_fields_that_exist() {
    let mut seen = HashSet::new();
    for r in crate::rules::RULES {
        assert!(
            entity(r.entity).is_some(),
            "rules for unknown entity {}",
            r.entity
        );
        assert!(seen.insert(r.entity), "rules for {} twice", r.entity);
        assert!(
            r.check.is_some() || r.after_write.is_some() || r.after_delete.is_some(),
            "rules for {} do nothing",
            r.entity
        );
        for (e, f) in r.uses {
            let x = entity(e).unwrap_or_else(|| panic!("rules of {}: no entity {e}", r.entity));
            assert!(
                field(x, f).is_some(),
                "rules of {}: no field {e}.{f}",
                r.entity
            );
        }
        let found = crate::rules::of(entity(r.entity).expect("checked above"));
        assert!(found.is_some_and(|x| std::ptr::eq(x, r)), "{}", r.entity);
    }
}

/// What "open" means names a field of the entity: a choice holding each closed value, or a
/// field that is empty until the work is done.
#[test]
fn open_notions_name_fields_and_values_that_exist() {
    for e in ENTITIES {
        match e.open {
            Open::Always => {}
            Open::WhileNull(f) => {
                let f = field(e, f).unwrap_or_else(|| panic!("{}: open while {f}", e.name));
                assert!(!f.required, "{}.{}: required, never null", e.name, f.name);
            }
            Open::Unless(f, closed) => {
                let f = field(e, f).unwrap_or_else(|| panic!("{}: open unless {f}", e.name));
                let Kind::Choice(choices) = f.kind else {
                    panic!("{}.{}: open unless a value, but no choice", e.name, f.name);
                };
                for v in closed {
                    assert!(
                        choices.iter().any(|(c, _)| c == v),
                        "{}.{}: closed value {v} is no choice",
                        e.name,
                        f.name
                    );
                }
            }
        }
    }
}

/// A related list shows records that refer to the shown one: its `via` is a reference to
/// the entity, its sort a field, its open-only flag one the listed entity can honour.
#[test]
fn related_lists_name_references_and_fields_that_exist() {
    for e in ENTITIES {
        let mut seen = HashSet::new();
        for r in e.related {
            let other = entity(r.entity)
                .unwrap_or_else(|| panic!("{}: related {} is no entity", e.name, r.entity));
            assert!(
                seen.insert((r.entity, r.via)),
                "{}: {} twice",
                e.name,
                r.entity
            );
            let via = field(other, r.via)
                .unwrap_or_else(|| panic!("{}: related {}.{}", e.name, r.entity, r.via));
            assert_eq!(
                via.kind,
                Kind::Ref(e.name),
                "{}: {}.{}",
                e.name,
                r.entity,
                r.via
            );
            assert!(
                field(other, r.sort).is_some(),
                "{}: related {} sorted by {}",
                e.name,
                r.entity,
                r.sort
            );
            assert!(
                !r.open_only || other.open != Open::Always,
                "{}: open {} only, but it has no open notion",
                e.name,
                r.entity
            );
        }
    }
}

/// `sales` writes only what it owns, so what it may write has an owner path; `service` works
/// only what it can read.
#[test]
fn role_rights_fit_their_entities() {
    for e in ENTITIES {
        let Rights {
            sales_write,
            service_read,
            service_write,
        } = e.rights;
        assert!(
            !sales_write || e.owner.is_some() || e.owner_via.is_some(),
            "{}: sales writes it but nobody owns it",
            e.name
        );
        assert!(
            !service_write || service_read,
            "{}: service writes unread",
            e.name
        );
    }
}

// What each report reads is checked where reports are registered
// (`report::tests::every_report_is_registered_once_with_real_entities`).

/// A table list leaves wide fields out: never the key or title that names a record.
#[test]
fn wide_fields_are_never_a_key_or_title() {
    for e in ENTITIES {
        for f in e.columns().filter(|f| f.wide) {
            assert!(e.key != Some(f.name), "{}: key {} is wide", e.name, f.name);
            assert!(e.title != f.name, "{}: title {} is wide", e.name, f.name);
        }
    }
}

#[test]
fn chinese_aliases_name_one_entity_that_exists() {
    let mut seen = HashSet::new();
    for (alias, name) in super::ZH_ALIASES {
        assert!(entity(name).is_some(), "alias {alias} for unknown {name}");
        assert!(seen.insert(alias), "alias {alias} twice");
        assert!(
            ENTITIES.iter().all(|e| e.zh != *alias),
            "alias {alias} is an entity's label"
        );
    }
}
