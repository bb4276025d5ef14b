//! What the rules read of other records, and the derived fields they write back: single
//! fields by id, a product's terms, a parent's line totals, a customer's last activity.
//! Statements are cached: the rules run once per row of an import.

use crate::db::Store;
use crate::error::Result;
use crate::schema::{Entity, Value, ident};
use crate::vals;

/// One field of a record; None when the record does not exist.
pub fn field(s: &Store, e: &Entity, field: &str, id: i64) -> Result<Option<Value>> {
    let sql = format!(
        "SELECT {} FROM {} WHERE \"id\" = ?",
        ident(field),
        e.table()
    );
    s.query_opt(&sql, vals![id])?.map(|r| r.get(0)).transpose()
}

/// Sets one field of a record (the caller audits it).
pub fn set_field(s: &Store, e: &Entity, field: &str, id: i64, v: &Value) -> Result<()> {
    let sql = format!(
        "UPDATE {} SET {} = ? WHERE \"id\" = ?",
        e.table(),
        ident(field)
    );
    s.execute(&sql, &[v.clone(), Value::Integer(id)])?;
    if e.fields.iter().any(|f| f.name == field && f.search) {
        crate::db::search::reindex(s, e, id)?;
    }
    Ok(())
}

/// A product's list price, active flag and code.
pub type ProductTerms = (Option<i64>, Option<i64>, String);

/// A product's terms; None when there is no such product.
pub fn product_terms(s: &Store, product: i64) -> Result<Option<ProductTerms>> {
    s.query_opt(
        "SELECT \"unit_price\", \"active\", \"code\" FROM \"product\" WHERE \"id\" = ?",
        vals![product],
    )?
    .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .transpose()
}

/// How many lines of `line` a parent has through `parent_field` (leaving out `except`),
/// and the exact sum of their amounts (summed in two parts that cannot overflow).
pub fn line_totals(
    s: &Store,
    line: &Entity,
    parent_field: &str,
    parent: i64,
    except: Option<i64>,
) -> Result<(i64, i128)> {
    let sql = format!(
        "SELECT COUNT(*), {} FROM {} WHERE {} = ? AND \"id\" {} ?",
        crate::db::report::split_sum("\"amount\""),
        line.table(),
        ident(parent_field),
        s.dialect().distinct()
    );
    let r = s.query_one(&sql, vals![parent, except])?;
    let (n, hi, lo): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
    Ok((n, i128::from(hi) * 1_000_000_000 + i128::from(lo)))
}

/// When the customer's latest done activity was done (null when none is).
pub fn last_done_at(s: &Store, customer: i64) -> Result<Value> {
    s.value(
        "SELECT MAX(\"done_at\") FROM \"activity\" WHERE \"customer\" = ?",
        vals![customer],
    )
}
