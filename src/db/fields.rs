//! Where custom fields live (`crm field`, `schema::custom`): their definitions in the
//! `custom_field` table, their values in a column of the entity's table, with an index so a
//! filter or sort on one is as fast as on a built-in field. On `SQLite` crm alters the table
//! itself; on `PostgreSQL` through `crm.custom_field_add` and `crm.custom_field_drop` (v6:
//! SECURITY DEFINER, admins only, as the tables belong to the schema's owner).

use crate::db::Store;
use crate::db::audit::{self, Entry};
use crate::error::{Error, Result};
use crate::schema::custom::Def;
use crate::schema::{Entity, Field, Kind, Value, ident};
use crate::vals;

const COLUMNS: &str =
    "entity, name, kind, choices, label_en, label_zh, required, \"unique\", default_value";

/// Every definition, in the order the fields were added.
pub fn load(s: &Store) -> Result<Vec<Def>> {
    s.query(
        &format!("SELECT {COLUMNS} FROM custom_field ORDER BY position"),
        vals![],
    )?
    .into_iter()
    .map(|r| {
        Ok(Def {
            entity: r.get(0)?,
            name: r.get(1)?,
            kind: r.get(2)?,
            choices: r.get(3)?,
            label_en: r.get(4)?,
            label_zh: r.get(5)?,
            required: r.get::<i64>(6)? != 0,
            unique: r.get::<i64>(7)? != 0,
            default: r.get(8)?,
        })
    })
    .collect()
}

/// The definition as the audit log keeps it.
pub fn def_json(d: &Def) -> String {
    serde_json::json!({
        "kind": d.kind, "choices": d.choices, "label_en": d.label_en, "label_zh": d.label_zh,
        "required": d.required, "unique": d.unique, "default": d.default,
    })
    .to_string()
}

fn index_name(d: &Def) -> String {
    ident(&format!("cf_{}_{}", d.entity, d.name))
}

/// Adds a field: its definition, its column and index, and the audit entry; a `fill` value
/// is given to the records already there (a required field added to a filled table).
pub fn add(s: &Store, d: &Def, kind: Kind, by: &str, now: i64, fill: &Value) -> Result<()> {
    create(s, d, kind, by, now)?;
    let table = ident(&d.entity);
    let col = ident(&d.name);

    let mut entries = vec![Entry {
        user: Some(by),
        action: "field add",
        entity: Some(&d.entity),
        field: Some(&d.name),
        new: Some(def_json(d)),
        ..Entry::default()
    }];
    let filled = if *fill == Value::Null {
        0
    } else {
        s.execute(
            &format!("UPDATE {table} SET {col} = ?"),
            std::slice::from_ref(fill),
        )?
    };
    if filled > 0 && kind.is_searchable() {
        let e = Entity::get(&d.entity)?;
        let mut with: Vec<Field> = e.fields.to_vec();
        // Searched only where the entity has an index (`schema::custom::install`).
        with.push(crate::schema::custom::field(
            d,
            e.search_fields().next().is_some(),
        )?);
        crate::db::search::rebuild(s, view(&d.entity, with)?)?;
    }
    if filled > 0 && s.is_sqlite() {
        // On PostgreSQL the row trigger audits each record it fills.
        entries.push(Entry {
            user: Some(by),
            action: "update",
            entity: Some(&d.entity),
            field: Some(&d.name),
            new: Some(kind.format(fill)),
            detail: Some(format!("{filled} records given the new field's default")),
            ..Entry::default()
        });
    }
    audit::log(s, &entries)
}

/// Makes a field's definition, column and index, unaudited: for [`add`], and for `crm copy`,
/// whose copied audit log already tells how the field came.
pub fn create(s: &Store, d: &Def, kind: Kind, by: &str, now: i64) -> Result<()> {
    let table = ident(&d.entity);
    let col = ident(&d.name);
    match s {
        Store::Sqlite(_) => {
            let position: i64 = s.value(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM custom_field",
                vals![],
            )?;
            s.execute(
                &format!(
                    "INSERT INTO custom_field ({COLUMNS}, position, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                vals![
                    d.entity.as_str(),
                    d.name.as_str(),
                    d.kind.as_str(),
                    d.choices.as_str(),
                    d.label_en.as_str(),
                    d.label_zh.as_str(),
                    i64::from(d.required),
                    i64::from(d.unique),
                    d.default.clone(),
                    position,
                    now,
                    by
                ],
            )?;
            s.batch(&format!(
                "ALTER TABLE {table} ADD COLUMN {col} {}",
                kind.sql_type()
            ))?;
            let unique = if d.unique { "UNIQUE " } else { "" };
            s.batch(&format!(
                "CREATE {unique}INDEX {} ON {table} ({col})",
                index_name(d)
            ))?;
        }
        Store::Postgres(_) => {
            let ty = if kind.sql_type() == "INTEGER" {
                "bigint"
            } else {
                "text"
            };
            s.execute(
                "SELECT crm.custom_field_add(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vals![
                    d.entity.as_str(),
                    d.name.as_str(),
                    d.kind.as_str(),
                    d.choices.as_str(),
                    d.label_en.as_str(),
                    d.label_zh.as_str(),
                    i64::from(d.required),
                    i64::from(d.unique),
                    d.default.clone(),
                    ty
                ],
            )?;
        }
    }
    Ok(())
}

/// Changes a definition's labels, choices, required or default (checked by the caller
/// against the values stored), audited with the old and new definitions.
pub fn edit(s: &Store, old: &Def, new: &Def, by: &str) -> Result<()> {
    s.execute(
        "UPDATE custom_field SET choices = ?, label_en = ?, label_zh = ?, required = ?, default_value = ? WHERE entity = ? AND name = ?",
        vals![
            new.choices.as_str(),
            new.label_en.as_str(),
            new.label_zh.as_str(),
            i64::from(new.required),
            new.default.clone().map_or(Value::Null, Value::Text),
            old.entity.as_str(),
            old.name.as_str()
        ],
    )?;
    audit::log(
        s,
        &[Entry {
            user: Some(by),
            action: "field edit",
            entity: Some(&old.entity),
            field: Some(&old.name),
            old: Some(def_json(old)),
            new: Some(def_json(new)),
            ..Entry::default()
        }],
    )
}

/// Drops a field: its values go into the audit entry (`{"id": "value", …}`), then its
/// column, index and definition.
pub fn drop(s: &Store, e: &Entity, d: &Def, kind: Kind, by: &str) -> Result<()> {
    let col = ident(&d.name);
    let rows = s.query(
        &format!(
            "SELECT id, {col} FROM {} WHERE {col} IS NOT NULL ORDER BY id",
            e.table()
        ),
        vals![],
    )?;
    let mut values = serde_json::Map::new();
    for r in rows {
        let v = r.into_values();
        let Some(Value::Integer(id)) = v.first() else {
            continue;
        };
        values.insert(id.to_string(), kind.format(&v[1]).into());
    }
    audit::log(
        s,
        &[Entry {
            user: Some(by),
            action: "field drop",
            entity: Some(&d.entity),
            field: Some(&d.name),
            old: Some(serde_json::Value::Object(values).to_string()),
            detail: Some(def_json(d)),
            ..Entry::default()
        }],
    )?;
    drop_column(s, e, d)?;
    if kind.is_searchable() {
        // The index forgets the dropped values: rebuilt from the fields that remain.
        let without: Vec<Field> = e
            .fields
            .iter()
            .filter(|f| f.name != d.name)
            .copied()
            .collect();
        crate::db::search::rebuild(s, view(e.name, without)?)?;
    }
    Ok(())
}

/// The entity as the registry will see it once a field is added or dropped (this process
/// loaded the registry before the change).
fn view(name: &str, fields: Vec<Field>) -> Result<&'static Entity> {
    let e = Entity::get(name)?;
    Ok(Box::leak(Box::new(Entity {
        fields: Box::leak(fields.into_boxed_slice()),
        ..*e
    })))
}

fn drop_column(s: &Store, e: &Entity, d: &Def) -> Result<()> {
    let col = ident(&d.name);
    match s {
        Store::Sqlite(_) => {
            s.execute(
                "DELETE FROM custom_field WHERE entity = ? AND name = ?",
                vals![d.entity.as_str(), d.name.as_str()],
            )?;
            s.batch(&format!(
                "DROP INDEX IF EXISTS {}; ALTER TABLE {} DROP COLUMN {col}",
                index_name(d),
                e.table()
            ))
        }
        Store::Postgres(_) => s
            .execute(
                "SELECT crm.custom_field_drop(?, ?)",
                vals![d.entity.as_str(), d.name.as_str()],
            )
            .map(|_| ()),
    }
}

/// How many records have the field set, and how many of those hold a value outside
/// `allowed` (a choice list being narrowed), for `crm field edit`.
pub fn stored(s: &Store, e: &Entity, name: &str, allowed: &[&str]) -> Result<(i64, i64)> {
    let col = ident(name);
    let set: i64 = s.value(
        &format!("SELECT COUNT(*) FROM {} WHERE {col} IS NOT NULL", e.table()),
        vals![],
    )?;
    if allowed.is_empty() {
        return Ok((set, 0));
    }
    let marks = vec!["?"; allowed.len()].join(", ");
    let params: Vec<Value> = allowed.iter().map(|a| Value::Text((*a).into())).collect();
    let outside: i64 = s.value(
        &format!(
            "SELECT COUNT(*) FROM {} WHERE {col} IS NOT NULL AND {col} NOT IN ({marks})",
            e.table()
        ),
        &params,
    )?;
    Ok((set, outside))
}

/// How many records an entity has (a required field added to a filled table needs a default).
pub fn records(s: &Store, e: &Entity) -> Result<i64> {
    s.value(&format!("SELECT COUNT(*) FROM {}", e.table()), vals![])
}

/// A field of that name that is not custom: refused by `edit` and `drop`.
pub fn not_custom(e: &Entity, name: &str) -> Error {
    Error::usage(format!("{} has no custom field '{name}'", e.name))
        .hint(format!("see `crm field list {}`", e.name))
}
