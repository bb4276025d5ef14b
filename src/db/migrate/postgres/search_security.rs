//! Row security and grants of the search index's tables (`crm.<entity>_search`, v3),
//! generated with the entity's own (`security`): a role reads an index row only when it
//! may read the record (the same scope, all or its own), and writes index rows as it
//! writes the records: inserts them where it may add or change records (an add, an edit's
//! new tokens), deletes them where it may change or delete records. A deleted record's row
//! goes with it (ON DELETE CASCADE, which row security does not stop).

use std::fmt::Write;

use super::names::quote_ident;
use super::security::{Scope, owns, scope};
use crate::roles::{Action, Role};
use crate::schema::Entity;

/// The widest of some scopes.
fn widest(scopes: impl Iterator<Item = Scope>) -> Scope {
    scopes
        .max_by_key(|s| match s {
            Scope::None => 0,
            Scope::Own => 1,
            Scope::All => 2,
        })
        .unwrap_or(Scope::None)
}

/// The index table's security for entity `e` (one with searchable fields).
pub fn sql(s: &mut String, e: &Entity, groups: &[(Role, String)]) {
    let table = format!("{}_search", e.name);
    let t = format!("crm.{}", quote_ident(&table));
    let _ = writeln!(s, "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;");
    for (role, g) in groups {
        let g = quote_ident(g);
        let of = |a: Action| scope(*role, a, e);
        for (cmd, sc) in [
            ("SELECT", of(Action::Read)),
            (
                "INSERT",
                widest([of(Action::Create), of(Action::Update)].into_iter()),
            ),
            (
                "DELETE",
                widest([of(Action::Update), of(Action::Delete)].into_iter()),
            ),
        ] {
            let rows = match sc {
                Scope::None => continue,
                Scope::All => "true".to_string(),
                // The record's own policy, read through the index row's id.
                Scope::Own => format!(
                    "EXISTS (SELECT 1 FROM crm.{} r WHERE r.id = {}.id AND {})",
                    e.table(),
                    quote_ident(&table),
                    owns(e, "r", 0)
                ),
            };
            let name = quote_ident(&format!("{}_{}", role.as_str(), cmd.to_lowercase()));
            let _ = writeln!(s, "GRANT {cmd} ON {t} TO {g};");
            let _ = if cmd == "INSERT" {
                writeln!(
                    s,
                    "CREATE POLICY {name} ON {t} FOR INSERT TO {g} WITH CHECK ({rows});"
                )
            } else {
                writeln!(
                    s,
                    "CREATE POLICY {name} ON {t} FOR {cmd} TO {g} USING ({rows});"
                )
            };
        }
    }
}
