//! The export side of bulk data: rows streamed as borrowed values.

use rusqlite::params_from_iter;

use crate::db::Store;
use crate::db::query::{Query, select_sql};
use crate::db::sqlite::value::value_ref;
use crate::error::{Error, Result};
use crate::schema::{Entity, Field, Kind, Value, ValueRef};

/// Streams an export's rows as borrowed values (no copy per cell), references as keys.
pub fn export_rows(
    conn: &Store,
    q: &Query,
    columns: &[&'static Field],
    mut f: impl FnMut(&[ValueRef]) -> Result<()>,
) -> Result<u64> {
    let mut args = Vec::new();
    let sql = select_sql(conn.dialect(), q, columns, &mut args);
    let Store::Sqlite(c) = conn else {
        return export_pg(conn, &sql, &args, columns, f);
    };
    let mut stmt = c.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let keyed = keyed(columns);
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let buf = (0..columns.len())
            .map(|i| r.get_ref(i).map(value_ref))
            .collect::<rusqlite::Result<Vec<ValueRef>>>()?;
        check_keyed(&buf, &keyed, columns)?;
        f(&buf)?;
        n += 1;
    }
    Ok(n)
}

/// References to an entity with a key are written as that key (text). A bare id there
/// means the referenced record lacks its key: it would re-import onto whichever record
/// has that id as its key, so the export fails instead of writing it.
fn keyed(columns: &[&'static Field]) -> Vec<Option<&'static Entity>> {
    columns
        .iter()
        .map(|f| match f.kind {
            Kind::Ref(t) => Entity::get(t).ok().filter(|t| t.key.is_some()),
            _ => None,
        })
        .collect()
}

fn check_keyed(
    buf: &[ValueRef],
    keyed: &[Option<&'static Entity>],
    columns: &[&'static Field],
) -> Result<()> {
    for ((v, t), f) in buf.iter().zip(keyed).zip(columns) {
        if let (ValueRef::Integer(id), Some(t)) = (v, t) {
            let key = t.key.unwrap_or_default();
            return Err(Error::invalid(format!(
                "{} {id} has no {key}: the {} column cannot name it by its key",
                t.name, f.name
            ))
            .hint(format!(
                "give it one (crm edit {} {id} --{key} VALUE), then export again",
                t.name
            )));
        }
    }
    Ok(())
}

/// [`export_rows`] on `PostgreSQL`: the rows streamed as they arrive.
fn export_pg(
    conn: &Store,
    sql: &str,
    args: &[Value],
    columns: &[&'static Field],
    mut f: impl FnMut(&[ValueRef]) -> Result<()>,
) -> Result<u64> {
    let keyed = keyed(columns);
    let mut n = 0;
    conn.each(sql, args, |row| {
        let buf: Vec<ValueRef> = row
            .0
            .iter()
            .map(|v| match v {
                Value::Null => ValueRef::Null,
                Value::Integer(i) => ValueRef::Integer(*i),
                Value::Real(r) => ValueRef::Real(*r),
                Value::Text(t) => ValueRef::Text(t.as_bytes()),
                Value::Blob(b) => ValueRef::Blob(b),
            })
            .collect();
        check_keyed(&buf, &keyed, columns)?;
        f(&buf)?;
        n += 1;
        Ok(())
    })?;
    Ok(n)
}
