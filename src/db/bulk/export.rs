//! The export side of bulk data: rows streamed as borrowed values.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, params_from_iter};

use crate::db::query::{Query, select_sql};
use crate::error::Result;
use crate::schema::Field;

/// Streams an export's rows as borrowed values (no copy per cell), references as keys.
pub fn export_rows(
    conn: &Connection,
    q: &Query,
    columns: &[&'static Field],
    mut f: impl FnMut(&[ValueRef]) -> Result<()>,
) -> Result<u64> {
    let mut args = Vec::new();
    let sql = select_sql(q, columns, &mut args);
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let buf = (0..columns.len())
            .map(|i| r.get_ref(i))
            .collect::<rusqlite::Result<Vec<ValueRef>>>()?;
        f(&buf)?;
        n += 1;
    }
    Ok(n)
}
