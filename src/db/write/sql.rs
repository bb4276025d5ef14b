//! The statements of the write path, built once per writer (per command, or per import
//! batch) and then only bound: no SQL string is made per row. They are written in the SQL
//! `SQLite` and `PostgreSQL` read alike (`?` parameters, `ON CONFLICT DO NOTHING`), but
//! for how an insert hands back its id ([`returning_id`]).

use crate::db::dialect::Dialect;
use crate::db::records::{RefSql, field_list};
use crate::error::Result;
use crate::schema::{Default, Entity, Kind, ident};

/// Every statement one entity's writes use.
#[derive(Debug)]
pub struct Sql {
    /// All fields and both timestamps; a unique conflict inserts nothing (0 rows changed).
    pub insert: String,
    /// All fields, `updated_at`, then the id: one statement whatever changed.
    pub update: String,
    pub delete: String,
    pub delete_range: String,
    /// The id, all fields and both timestamps: a deleted record put back as it was (a merge
    /// revert); a unique conflict inserts nothing.
    pub reinsert: String,
    /// Per field: the record holding a value, for unique and generated fields.
    pub holder: Vec<Option<String>>,
    /// Per field: how a reference field finds its target.
    pub refs: Vec<Option<RefSql>>,
}

/// What ends an INSERT so that it hands back the new id. `PostgreSQL` needs `RETURNING
/// "id"`; `SQLite` reads `last_insert_rowid()` instead, as `RETURNING` there gathers its
/// rows before returning the first, which cost a million-row import a third more CPU.
pub fn returning_id(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "",
        Dialect::Postgres => " RETURNING \"id\"",
    }
}

impl Sql {
    pub fn new(e: &'static Entity, dialect: Dialect) -> Result<Sql> {
        let t = e.table();
        let marks = vec!["?"; e.fields.len() + 2].join(", ");
        let sets: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("{} = ?", ident(f.name)))
            .collect();
        // PostgreSQL: the id is crm's (`crm.next_record_id`, bound first), as SQLite's
        // AUTOINCREMENT gives it; its identity sequence would not roll back with a command.
        let (id_col, id_mark) = match dialect {
            Dialect::Sqlite => ("", ""),
            Dialect::Postgres => ("\"id\", ", "?, "),
        };
        Ok(Sql {
            insert: format!(
                "INSERT INTO {t} ({id_col}{}, \"created_at\", \"updated_at\") VALUES ({id_mark}{marks}) \
                 ON CONFLICT DO NOTHING{}",
                field_list(e),
                returning_id(dialect)
            ),
            update: format!(
                "UPDATE {t} SET {}, \"updated_at\" = ? WHERE \"id\" = ?",
                sets.join(", ")
            ),
            delete: format!("DELETE FROM {t} WHERE \"id\" = ?"),
            reinsert: format!(
                "INSERT INTO {t} (\"id\", {}, \"created_at\", \"updated_at\") VALUES (?, {marks}) \
                 ON CONFLICT DO NOTHING",
                field_list(e)
            ),
            delete_range: format!("DELETE FROM {t} WHERE \"id\" BETWEEN ? AND ?"),
            holder: e
                .fields
                .iter()
                .map(|f| {
                    (f.unique || matches!(f.default, Default::Generated(_)))
                        .then(|| format!("SELECT \"id\" FROM {t} WHERE {} = ?", ident(f.name)))
                })
                .collect(),
            refs: e
                .fields
                .iter()
                .map(|f| match f.kind {
                    Kind::Ref(target) => Ok(Some(RefSql::new(Entity::get(target)?))),
                    _ => Ok(None),
                })
                .collect::<Result<_>>()?,
        })
    }
}
