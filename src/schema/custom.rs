//! Custom fields (`crm field`): fields a database adds to an entity, kept in its
//! `custom_field` table. Loaded when the database opens, they join the registry: the process
//! then sees each entity as its built-in fields followed by its custom ones, so flags,
//! prompts, validation, find, import/export and `crm schema` treat both alike.

use std::sync::OnceLock;

use super::kinds::Choice;
use super::{Default, ENTITIES, Entity, Field, Kind};
use crate::error::{Error, Result};

/// One custom field as stored (`db::fields`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct Def {
    pub entity: String,
    pub name: String,
    /// As `--kind` takes it: `text`, `choice`, `ref:customer`, …
    pub kind: String,
    /// For `choice`: `value` or `value:中文` items, comma-separated.
    pub choices: String,
    pub label_en: String,
    pub label_zh: String,
    pub required: bool,
    pub unique: bool,
    pub default: Option<String>,
}

/// The kinds `--kind` takes (and `ref:ENTITY`).
pub const KINDS: [&str; 11] = [
    "text",
    "email",
    "phone",
    "integer",
    "money",
    "date",
    "datetime",
    "bool",
    "choice",
    "tags",
    "ref:ENTITY",
];

static REGISTRY: OnceLock<&'static [Entity]> = OnceLock::new();

/// Every entity as this process sees it: with the open database's custom fields once
/// [`install`] ran, else the built-in registry.
pub fn all() -> &'static [Entity] {
    REGISTRY.get().copied().unwrap_or(ENTITIES)
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// The choices of a `choice` field: `a,b` or `a:甲,b:乙` (the label defaults to the value).
pub fn parse_choices(text: &str) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (v, zh) = item.split_once(':').unwrap_or((item, item));
        let (v, zh) = (v.trim().to_string(), zh.trim().to_string());
        if v.is_empty() || out.iter().any(|(o, _)| *o == v) {
            return Err(Error::usage(format!(
                "--choices: '{item}' is empty or repeated"
            )));
        }
        out.push((v, zh));
    }
    if out.is_empty() {
        return Err(Error::usage("a choice field needs --choices A,B"));
    }
    Ok(out)
}

/// The kind a `--kind` text names; `choices` for `choice`.
pub fn kind(text: &str, choices: &str) -> Result<Kind> {
    let bad = || {
        Error::usage(format!("unknown kind '{text}'")).hint(format!("kinds: {}", KINDS.join(", ")))
    };
    Ok(match text {
        "text" => Kind::Text,
        "email" => Kind::Email,
        "phone" => Kind::Phone,
        "integer" => Kind::Integer {
            min: i64::MIN,
            max: i64::MAX,
        },
        "money" => Kind::Money { min_zero: false },
        "date" => Kind::Date,
        "datetime" => Kind::DateTime,
        "bool" => Kind::Bool,
        "tags" => Kind::Tags,
        "choice" => {
            let list: Vec<Choice> = parse_choices(choices)?
                .iter()
                .map(|(v, zh)| (leak(v), leak(zh)))
                .collect();
            Kind::Choice(Box::leak(list.into_boxed_slice()))
        }
        _ => {
            let target = text.strip_prefix("ref:").ok_or_else(bad)?;
            let e = ENTITIES
                .iter()
                .find(|e| e.name == target.replace('-', "_"))
                .ok_or_else(bad)?;
            Kind::Ref(e.name)
        }
    })
}

/// SQL words and names crm gives a meaning of its own: refused as field names.
const RESERVED: &[&str] = &[
    "id",
    "rowid",
    "oid",
    "_rowid_",
    "select",
    "from",
    "where",
    "order",
    "group",
    "by",
    "table",
    "user",
    "and",
    "or",
    "not",
    "null",
    "true",
    "false",
    "insert",
    "update",
    "delete",
    "create",
    "drop",
    "alter",
    "index",
    "join",
    "limit",
    "offset",
    "as",
    "in",
    "is",
    "like",
    "case",
    "when",
    "then",
    "else",
    "end",
    "primary",
    "key",
    "references",
    "check",
    "default",
    "unique",
    "constraint",
    "column",
    "all",
    "any",
    "distinct",
    "having",
    "union",
    "values",
    "into",
    "set",
    "on",
    "with",
    "grant",
    "desc",
    "asc",
    "between",
    "exists",
    "collate",
    "foreign",
    "cast",
    "to",
    "do",
    "current_user",
    "session_user",
    "current_date",
    "current_time",
    "current_timestamp",
    "xmin",
    "xmax",
    "ctid",
    "tableoid",
    "cmin",
    "cmax",
    "help",
    "version",
];

/// Checks a new field's name: snake-case ASCII, not reserved, not one of the entity's fields.
pub fn check_name(e: &Entity, name: &str) -> Result<()> {
    let ok = name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.ends_with('_')
        && !name.contains("__");
    if !ok {
        return Err(
            Error::usage(format!("field name '{name}' is not snake_case ASCII"))
                .hint("use lower-case letters, digits and single underscores, like tier_level"),
        );
    }
    if RESERVED.contains(&name) {
        return Err(Error::usage(format!("'{name}' is a reserved word")));
    }
    if e.columns().any(|f| f.name == name) || name.ends_with("_search") {
        return Err(Error::usage(format!(
            "{} already has a field '{name}'",
            e.name
        )));
    }
    Ok(())
}

/// Checks a field's labels: each names only this field among the entity's names and
/// labels, since import matches headers by either.
pub fn check_labels(e: &Entity, d: &Def) -> Result<()> {
    for label in [&d.label_en, &d.label_zh] {
        let l = label.trim().to_lowercase();
        if l.is_empty() {
            return Err(Error::usage("a label may not be blank"));
        }
        let clash = e
            .columns()
            .filter(|f| f.name != d.name)
            .find(|f| [f.name, f.en, f.zh].iter().any(|x| x.to_lowercase() == l));
        if let Some(f) = clash {
            return Err(Error::usage(format!(
                "label '{label}' is already {}'s (import headers must name one field)",
                f.name
            )));
        }
    }
    Ok(())
}

/// The registry field a definition describes.
pub fn field(d: &Def, search: bool) -> Result<Field> {
    let kind = kind(&d.kind, &d.choices)?;
    Ok(Field {
        name: leak(&d.name),
        kind,
        en: leak(&d.label_en),
        zh: leak(&d.label_zh),
        required: d.required,
        unique: d.unique,
        default: d
            .default
            .as_deref()
            .map_or(Default::None, |v| Default::Value(leak(v))),
        read_only: false,
        wide: false,
        // Only where the entity has a search index (a table per entity: v11).
        search: search && kind.is_searchable(),
        custom: true,
    })
}

/// Makes the definitions part of the registry for the rest of the process (once: a
/// process opens one database).
pub fn install(defs: &[Def]) -> Result<()> {
    if defs.is_empty() || REGISTRY.get().is_some() {
        return Ok(());
    }
    let mut list = Vec::with_capacity(ENTITIES.len());
    for e in ENTITIES {
        let mut fields: Vec<Field> = e.fields.to_vec();
        let indexed = e.search_fields().next().is_some();
        for d in defs.iter().filter(|d| d.entity == e.name) {
            fields.push(field(d, indexed)?);
        }
        list.push(Entity {
            name: e.name,
            en: e.en,
            zh: e.zh,
            key: e.key,
            owner: e.owner,
            owner_via: e.owner_via,
            title: e.title,
            open: e.open,
            related: e.related,
            rights: e.rights,
            fields: Box::leak(fields.into_boxed_slice()),
        });
    }
    let _ = REGISTRY.set(Box::leak(list.into_boxed_slice()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_kinds_are_checked() {
        let c = Entity::get("customer").unwrap();
        assert!(check_name(c, "tier_level").is_ok());
        for bad in ["Tier", "name", "id", "select", "a__b", "tier-x", "9x", "x_"] {
            assert!(check_name(c, bad).is_err(), "{bad}");
        }
        assert_eq!(kind("ref:customer", "").unwrap(), Kind::Ref("customer"));
        assert!(kind("ref:nothing", "").is_err());
        assert!(kind("choice", "").is_err());
        let Kind::Choice(list) = kind("choice", "gold:金牌, silver").unwrap() else {
            panic!("a choice")
        };
        assert_eq!(list, &[("gold", "金牌"), ("silver", "silver")]);
    }
}
