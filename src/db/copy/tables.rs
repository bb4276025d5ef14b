//! The tables a copy moves, in the order their references allow, and what each engine
//! needs to know of them: their columns, a multi-row insert, and the id position a table's
//! next insert starts from.

use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::error::Result;
use crate::schema::ENTITIES;
use crate::vals;

/// One table a copy moves.
pub struct Table {
    pub name: &'static str,
    /// Whether its key is an `id` that new rows take from a counter.
    pub has_id: bool,
    /// Whether it is a registry entity (an AUTOINCREMENT table on `SQLite`, named in the
    /// audit log as `entity`).
    pub entity: bool,
    /// The key the rows are read in.
    pub order: &'static str,
}

/// Every table of a crm database but the sessions (and the server's own: its logins and
/// schema version, which the destination makes): users and the audit log first, the
/// entities in registry order (each one's references point to earlier ones), then what
/// points at them.
#[allow(non_snake_case)]
pub fn ALL() -> Vec<Table> {
    let t = |name, has_id, entity, order| Table {
        name,
        has_id,
        entity,
        order,
    };
    let mut all = vec![t("users", true, false, "id"), t("audit", true, false, "id")];
    all.extend(ENTITIES.iter().map(|e| t(e.name, true, true, "id")));
    all.extend([
        t("import_batch", true, false, "id"),
        t("import_change", false, false, "batch, record_id"),
        t("import_insert", false, false, "batch, first_id"),
        t("opportunity_stage", true, false, "id"),
        // Numbered by crm (one past the largest), so no counter to carry over.
        t("merge_log", false, false, "id"),
        // `crm config`'s values and the customers' ownership events (the pool's limits are
        // counted from them): a copy without them would change what the rules decide.
        t("settings", false, false, "\"key\""),
        t("ownership", true, false, "id"),
    ]);
    all
}

/// A name quoted for SQL (the same on both engines: `order` and `user` are keywords).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table's columns in their order on this store.
pub fn columns(s: &Store, table: &str) -> Result<Vec<String>> {
    let sql = match s.dialect() {
        Dialect::Sqlite => "SELECT name FROM pragma_table_info(?) ORDER BY cid",
        Dialect::Postgres => {
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'crm' AND table_name = ? ORDER BY ordinal_position"
        }
    };
    s.query(sql, vals![table])?
        .into_iter()
        .map(|r| r.get(0))
        .collect()
}

/// `INSERT INTO table (cols) VALUES (?, …), …` for `rows` rows.
pub fn insert_sql(table: &str, cols: &[String], rows: usize) -> String {
    let one = format!("({})", vec!["?"; cols.len()].join(", "));
    let names: Vec<String> = cols.iter().map(|c| quote(c)).collect();
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        quote(table),
        names.join(", "),
        vec![one; rows].join(", ")
    )
}

/// The highest id the table has given out, as far as the source tells: its rows, its
/// counter where the session may read it, and for a record table the ids the audit log
/// and import batches name (a deleted record's id is never given out again).
pub fn position(src: &Store, t: &Table) -> Result<i64> {
    let mut at: i64 = src.value(
        &format!("SELECT COALESCE(MAX(id), 0) FROM {}", quote(t.name)),
        vals![],
    )?;
    let counter: Option<i64> = match src.dialect() {
        Dialect::Sqlite if t.entity => src
            .query_opt("SELECT seq FROM sqlite_sequence WHERE name = ?", vals![t.name])?
            .map(|r| r.get(0))
            .transpose()?,
        Dialect::Sqlite => None,
        Dialect::Postgres => src
            .query_opt(
                "SELECT last_value FROM pg_catalog.pg_sequences WHERE schemaname = 'crm' AND sequencename = ?",
                vals![format!("{}_id_seq", t.name)],
            )?
            .map(|r| r.get::<Option<i64>>(0))
            .transpose()?
            .flatten(),
    };
    at = at.max(counter.unwrap_or(0));
    if t.entity {
        let named: i64 = src.value(
            "SELECT COALESCE(MAX(record_id), 0) FROM audit WHERE entity = ?",
            vals![t.name],
        )?;
        let imported: i64 = src.value(
            "SELECT COALESCE(MAX(i.last_id), 0) FROM import_insert i JOIN import_batch b ON b.id = i.batch WHERE b.entity = ?",
            vals![t.name],
        )?;
        at = at.max(named).max(imported);
    }
    Ok(at)
}

/// Moves the table's counter to `at`, so the next insert gets `at + 1`.
pub fn set_position(dst: &Store, t: &Table, at: i64) -> Result<()> {
    if at <= 0 {
        return Ok(());
    }
    match dst.dialect() {
        // Tables without AUTOINCREMENT take max(id) + 1, which the copied rows set.
        Dialect::Sqlite if !t.entity => Ok(()),
        Dialect::Sqlite => {
            dst.execute(
                "UPDATE sqlite_sequence SET seq = ? WHERE name = ? AND seq < ?",
                vals![at, t.name, at],
            )?;
            dst.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)",
                vals![t.name, at, t.name],
            )?;
            Ok(())
        }
        Dialect::Postgres => {
            dst.execute(
                "SELECT setval(pg_get_serial_sequence(?, 'id'), ?, true)",
                vals![format!("crm.{}", quote(t.name)), at],
            )?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ALL, insert_sql};
    use crate::schema::{Entity, Kind};

    #[test]
    fn references_point_to_tables_written_before() {
        let all = ALL();
        let at = |name: &str| all.iter().position(|t| t.name == name);
        for (i, t) in all.iter().enumerate() {
            let Some(e) = Entity::lookup(t.name) else {
                continue;
            };
            for f in e.fields {
                if let Kind::Ref(target) = f.kind {
                    let j = at(target).expect("a reference names a copied table");
                    assert!(
                        j < i,
                        "{}.{} points to {target}, written later",
                        t.name,
                        f.name
                    );
                }
            }
        }
        assert!(at("import_batch") < at("import_change"));
        assert!(at("opportunity") < at("opportunity_stage"));
        assert!(at("sessions").is_none(), "sessions are not copied");
    }

    #[test]
    fn one_placeholder_per_cell() {
        let cols = vec!["id".to_string(), "user".to_string()];
        assert_eq!(
            insert_sql("audit", &cols, 2),
            "INSERT INTO \"audit\" (\"id\", \"user\") VALUES (?, ?), (?, ?)"
        );
    }
}
