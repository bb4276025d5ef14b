//! The statements of the write path, built once per writer (per command, or per import
//! batch) and then only bound: no SQL string is made per row. They are written in the SQL
//! `SQLite` and `PostgreSQL` read alike (`?` parameters, `ON CONFLICT DO NOTHING`), but
//! for how an insert hands back its id ([`returning_id`]).

use rusqlite::OptionalExtension;

use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::db::records::field_list;
use crate::error::Result;
use crate::schema::{Default, Entity, Kind, ident};

/// How a reference field's target is found: by its unique key, then by its id.
#[derive(Debug)]
pub struct RefSql {
    pub target: &'static Entity,
    by_key: Option<String>,
    by_id: String,
}

impl RefSql {
    pub fn new(target: &'static Entity) -> RefSql {
        RefSql {
            target,
            by_key: target.key.map(|k| {
                format!(
                    "SELECT \"id\" FROM {} WHERE {} = ?",
                    target.table(),
                    ident(k)
                )
            }),
            by_id: format!("SELECT \"id\" FROM {} WHERE \"id\" = ?", target.table()),
        }
    }

    /// The id of the record `text` names: its key first (a key may look like a number),
    /// then its id.
    pub fn find(&self, conn: &Store, text: &str) -> Result<Option<i64>> {
        if let Some(sql) = &self.by_key {
            let id = conn
                .sqlite()
                .prepare_cached(sql)?
                .query_row([text], |r| r.get(0))
                .optional()?;
            if id.is_some() {
                return Ok(id);
            }
        }
        let Ok(n) = text.trim().parse::<i64>() else {
            return Ok(None);
        };
        Ok(conn
            .sqlite()
            .prepare_cached(&self.by_id)?
            .query_row([n], |r| r.get(0))
            .optional()?)
    }
}

/// Every statement one entity's writes use.
#[derive(Debug)]
pub struct Sql {
    /// All fields and both timestamps; a unique conflict inserts nothing (0 rows changed).
    pub insert: String,
    /// All fields, `updated_at`, then the id: one statement whatever changed.
    pub update: String,
    pub delete: String,
    pub delete_range: String,
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
        Ok(Sql {
            insert: format!(
                "INSERT INTO {t} ({}, \"created_at\", \"updated_at\") VALUES ({marks}) \
                 ON CONFLICT DO NOTHING{}",
                field_list(e),
                returning_id(dialect)
            ),
            update: format!(
                "UPDATE {t} SET {}, \"updated_at\" = ? WHERE \"id\" = ?",
                sets.join(", ")
            ),
            delete: format!("DELETE FROM {t} WHERE \"id\" = ?"),
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
