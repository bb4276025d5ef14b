//! The registry of entities: one declarative list that drives schema, flags, prompts,
//! validation, output and docs.

pub mod behaviour;
pub mod custom;
pub mod entities;
pub mod kinds;
pub mod matchkey;
pub mod record;
pub mod value;

pub use behaviour::{Open, Related, Rights};
pub use custom::all;
pub use entities::{ENTITIES, SYSTEM_FIELDS};
pub use kinds::Kind;
pub use value::{Value, ValueRef};

use crate::error::{Error, Result};

/// How a field gets its value when none is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    None,
    /// A fixed text value, parsed by the field's kind.
    Value(&'static str),
    /// The logged-in user's name.
    CurrentUser,
    /// A generated unique key: the prefix and the next free number.
    Generated(&'static str),
    /// Today's date.
    Today,
    /// The current moment.
    Now,
}

/// One field of an entity.
// Independent yes/no facts of a registry entry, each set by its own const builder.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub en: &'static str,
    pub zh: &'static str,
    pub required: bool,
    pub unique: bool,
    pub default: Default,
    /// Set by crm itself (ids, timestamps, derived values); no flag or CSV column sets it.
    pub read_only: bool,
    /// Left out of table lists unless `--columns` names it (long text, timestamps), so a
    /// list fits a terminal; JSON and CSV always carry it.
    pub wide: bool,
    /// Searched by `crm find ENTITY TEXT` and `crm search`, and so held in the search index:
    /// names, codes and numbers, phones, e-mails, cities, subjects — short values a person
    /// types a fragment of. Long texts (notes, addresses) are filtered with `--where`.
    pub search: bool,
    /// Added to this database by `crm field add` (`custom`), not built into crm.
    pub custom: bool,
}

impl Field {
    /// The `--flag` name: the field name in kebab case.
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }
}

/// One entity: a table, its fields, and what the generic machinery needs to know.
#[derive(Debug)]
pub struct Entity {
    pub name: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
    /// The unique field by which references and imports find a record.
    pub key: Option<&'static str>,
    /// The field naming the owning user, for the `sales` role.
    pub owner: Option<&'static str>,
    /// A reference field through whose record ownership is decided (a contact's customer).
    pub owner_via: Option<&'static str>,
    /// The field whose value names the record in messages and related lists.
    pub title: &'static str,
    /// Which of its records still need work (`show`, `agenda`).
    pub open: Open,
    /// The lists `crm show` gives under a record; none given: every entity referring to it.
    pub related: &'static [Related],
    /// What the restricted roles may do with it.
    pub rights: Rights,
    pub fields: &'static [Field],
}

/// Chinese names for an entity besides its label, each naming one entity only: the words the
/// README and Chinese CRMs use (商机 for an opportunity, 工单 for a ticket).
pub static ZH_ALIASES: &[(&str, &str)] = &[
    ("销售线索", "lead"),
    ("线索", "lead"),
    ("商机", "opportunity"),
    ("跟进计划", "activity"),
    ("跟进任务", "activity"),
    ("工单", "ticket"),
    ("售后服务", "ticket"),
    ("售后工单", "ticket"),
];

impl Entity {
    /// The registry entry for a name (`order-line` and `order_line` both work).
    pub fn get(name: &str) -> Result<&'static Entity> {
        Entity::lookup(name).ok_or_else(|| {
            let names: Vec<&str> = all().iter().map(|e| e.name).collect();
            let hint = match Entity::closest(name) {
                Some(e) => format!("did you mean '{}'? entities: {}", e.name, names.join(", ")),
                None => format!("entities: {}", names.join(", ")),
            };
            Error::usage(format!("unknown entity '{name}'")).hint(hint)
        })
    }

    /// The entity named `name`: its name in any case, with `-` for `_`, or its Chinese label
    /// (`客户`), wherever a command takes an ENTITY.
    pub fn lookup(name: &str) -> Option<&'static Entity> {
        let t = name.trim();
        let norm = t.to_lowercase().replace('-', "_");
        all()
            .iter()
            .find(|e| e.name == norm || e.zh == t || e.zh_aliases().any(|a| a == t))
    }

    /// Other Chinese names of the entity that people use (see `ZH_ALIASES`).
    pub fn zh_aliases(&self) -> impl Iterator<Item = &'static str> + use<> {
        let name = self.name;
        ZH_ALIASES
            .iter()
            .filter(move |(_, e)| *e == name)
            .map(|(a, _)| *a)
    }

    /// The entity whose name is nearest a mistyped one (`custmer`), if any is near enough.
    pub fn closest(name: &str) -> Option<&'static Entity> {
        let norm = name.trim().to_lowercase().replace('-', "_");
        all()
            .iter()
            .map(|e| (edit_distance(&norm, e.name), e))
            .filter(|(d, e)| *d <= 2.max(e.name.len() / 3))
            .min_by_key(|(d, _)| *d)
            .map(|(_, e)| e)
    }

    /// The field of that name, or a usage error listing the valid ones.
    pub fn field(&self, name: &str) -> Result<&'static Field> {
        let norm = name.trim().replace('-', "_");
        self.columns().find(|f| f.name == norm).ok_or_else(|| {
            let names: Vec<&str> = self.columns().map(|f| f.name).collect();
            Error::usage(format!("unknown field '{name}' for {}", self.name))
                .hint(format!("fields: {}", names.join(", ")))
        })
    }

    /// Every column: `id`, the entity's fields, `created_at`, `updated_at`.
    pub fn columns(&self) -> impl Iterator<Item = &'static Field> + Clone + use<> {
        let fields: &'static [Field] = self.fields;
        SYSTEM_FIELDS[..1]
            .iter()
            .chain(fields.iter())
            .chain(SYSTEM_FIELDS[1..].iter())
    }

    /// The fields a user may set.
    pub fn writable(&self) -> impl Iterator<Item = &'static Field> + use<> {
        let fields: &'static [Field] = self.fields;
        fields.iter().filter(|f| !f.read_only)
    }

    /// The SQL table name (identifiers come only from here, always quoted).
    pub fn table(&self) -> String {
        format!("\"{}\"", self.name)
    }

    /// The fields `find TEXT` searches (none: the entity is not searched by text).
    pub fn search_fields(&self) -> impl Iterator<Item = &'static Field> + use<> {
        self.fields.iter().filter(|f| f.search)
    }

    /// The search index's table of this entity (`db::search`), quoted.
    pub fn search_table(&self) -> String {
        format!("\"{}_search\"", self.name)
    }
}

/// Quotes an identifier taken from the registry.
pub fn ident(name: &str) -> String {
    format!("\"{name}\"")
}

/// Levenshtein distance in characters (for "did you mean").
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod integrity;
