//! Row security and grants of the search index's tables (`crm.<entity>_search`, v3),
//! generated with the entity's own (`security`): a role reads an index row only when it
//! may read the record (the same scope, all or its own), and writes index rows as it
//! writes the records: inserts them where it may add or change records (an add, an edit's
//! new tokens), deletes them where it may change or delete records. A deleted record's row
//! goes with it (ON DELETE CASCADE, which row security does not stop).

use std::fmt::Write;

use super::names::quote_ident;
use crate::roles::{Action, Role};
use crate::schema::Entity;

/// The rows of entity records a role may act on, as `security` has them: None (no right),
/// `true` (all records), or its condition on a record aliased `r` (its own).
pub type Rows<'a> = &'a dyn Fn(Role, Action) -> Option<String>;

/// The widest of the rows some actions reach.
fn widest(role: Role, actions: &[Action], rows: Rows) -> Option<String> {
    let all: Vec<String> = actions.iter().filter_map(|a| rows(role, *a)).collect();
    if all.iter().any(|r| r == "true") {
        return Some("true".into());
    }
    all.into_iter().next()
}

/// The index table's security for entity `e` (one with searchable fields).
pub fn sql(s: &mut String, e: &Entity, groups: &[(Role, String)], rows: Rows) {
    let table = format!("{}_search", e.name);
    let t = format!("crm.{}", quote_ident(&table));
    let _ = writeln!(s, "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;");
    for (role, g) in groups {
        let g = quote_ident(g);
        for (cmd, actions) in [
            ("SELECT", &[Action::Read][..]),
            ("INSERT", &[Action::Create, Action::Update][..]),
            ("DELETE", &[Action::Update, Action::Delete][..]),
        ] {
            let Some(cond) = widest(*role, actions, rows) else {
                continue;
            };
            let cond = if cond == "true" {
                cond
            } else {
                // The record's own policy, read through the index row's id.
                format!(
                    "EXISTS (SELECT 1 FROM crm.{} r WHERE r.id = {}.id AND {cond})",
                    e.table(),
                    quote_ident(&table),
                )
            };
            let name = quote_ident(&format!("{}_{}", role.as_str(), cmd.to_lowercase()));
            let _ = writeln!(s, "GRANT {cmd} ON {t} TO {g};");
            let _ = if cmd == "INSERT" {
                writeln!(
                    s,
                    "CREATE POLICY {name} ON {t} FOR INSERT TO {g} WITH CHECK ({cond});"
                )
            } else {
                writeln!(
                    s,
                    "CREATE POLICY {name} ON {t} FOR {cmd} TO {g} USING ({cond});"
                )
            };
        }
    }
}
