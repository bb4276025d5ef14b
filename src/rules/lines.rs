//! Quote and order lines: a line's unit price defaults to its product's, its amount is
//! quantity × unit price × (100 − discount) / 100, and the parent's amount is the sum of its
//! lines (an order without lines may carry a plain amount instead).

use super::Cause;
use crate::db::records::{Draft, Stored};
use crate::db::{Store, lookup};
use crate::error::{Error, Result};
use crate::schema::{Entity, Value};

/// The parent field of a line entity (`quote_line.quote`, `order_line.order`).
fn parent_of(line: &str) -> &'static str {
    if line == "quote_line" {
        "quote"
    } else {
        "order"
    }
}

/// A line's amount in minor units, rounded half up; None when it would overflow.
pub fn line_amount(quantity: i64, unit_price: i64, discount: i64) -> Option<i64> {
    let gross = i128::from(quantity) * i128::from(unit_price) * i128::from(100 - discount);
    i64::try_from((gross + 50).div_euclid(100)).ok()
}

pub fn apply_line(conn: &Store, d: &mut Draft, old: Option<&Stored>) -> Result<()> {
    let Some(product) = d.int("product") else {
        return Ok(()); // the required-field check names it
    };
    let (price, active, code) = lookup::product_terms(conn, product)?
        .ok_or_else(|| Error::invalid(format!("no product with id {product}")))?;
    let product_changed = old.is_none_or(|o| o.draft.int("product") != Some(product));
    if product_changed && active == Some(0) {
        return Err(Error::invalid(format!(
            "product {code} is inactive and cannot be put on a new line"
        ))
        .hint(format!(
            "reactivate it: crm edit product {code} --active true"
        )));
    }
    if d.int("unit_price").is_none() {
        let price = price.ok_or_else(|| {
            Error::invalid(format!(
                "{} unit_price is required: product {code} has no unit price",
                d.entity.name
            ))
            .hint("pass --unit-price, or set the product's unit_price")
        })?;
        d.set("unit_price", Value::Integer(price));
    }
    let quantity = d.int("quantity").unwrap_or(1);
    let discount = d.int("discount").unwrap_or(0);
    let amount =
        line_amount(quantity, d.int("unit_price").unwrap_or(0), discount).ok_or_else(|| {
            Error::invalid(format!(
                "{} amount: quantity × unit_price is more than the largest amount ({})",
                d.entity.name,
                crate::schema::kinds::format_money(i64::MAX)
            ))
        })?;
    d.set("amount", Value::Integer(amount));
    // The parent's total must stay an amount too: refused here, before anything is written,
    // so an import rejects just this row.
    if let Some(parent) = d.int(parent_of(d.entity.name)) {
        let others = line_sum_except(conn, d.entity, parent, old.map(|o| o.id))?;
        let total = others + i128::from(amount);
        if i64::try_from(total).is_err() {
            return Err(too_large(conn, d.entity, parent, total));
        }
    }
    Ok(())
}

/// A quote's amount is always the sum of its lines; an order's is too once it has lines.
pub fn apply_parent(conn: &Store, d: &mut Draft, old: Option<&Stored>) -> Result<()> {
    let line = Entity::get(&format!("{}_line", d.entity.name))?;
    let Some(o) = old else {
        if d.entity.name == "quote" {
            d.set("amount", Value::Integer(0));
        }
        return Ok(());
    };
    let Some(sum) = line_sum(conn, line, o.id)? else {
        if d.entity.name == "quote" {
            d.set("amount", Value::Integer(0));
        }
        return Ok(());
    };
    let given = d.int("amount");
    if given == Some(sum) || d.entity.name == "quote" || given == o.draft.int("amount") {
        d.set("amount", Value::Integer(sum));
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{} {} has lines: its amount is their sum, {}",
        d.entity.name,
        d.text("number").unwrap_or_default(),
        crate::schema::kinds::format_money(sum)
    ))
    .hint(format!(
        "change the lines instead (crm find {} --where {}={})",
        line.name, d.entity.name, o.id
    )))
}

/// Sets the parent's amount to the sum of its lines after a line was written or deleted;
/// a line moved to another parent updates the one it left too.
pub fn after_line(conn: &Store, d: &Draft, old: Option<&Draft>, cause: &Cause) -> Result<()> {
    let parent = parent_of(d.entity.name);
    let now = d.int(parent);
    if let Some(p) = now {
        recompute(conn, d.entity, p, cause)?;
    }
    if let Some(before) = old.and_then(|o| o.int(parent)).filter(|b| Some(*b) != now) {
        recompute(conn, d.entity, before, cause)?;
    }
    Ok(())
}

/// The sum of a parent's line amounts, None when it has no lines. Summed exactly (in two
/// parts that cannot overflow); a sum larger than an amount can be is refused (exit 4), so
/// no total is ever stored wrapped and no write fails with an internal error.
fn line_sum(conn: &Store, line: &Entity, parent: i64) -> Result<Option<i64>> {
    let (n, sum) = exact_sum(conn, line, parent, None)?;
    if n == 0 {
        return Ok(None);
    }
    i64::try_from(sum)
        .map(Some)
        .map_err(|_| too_large(conn, line, parent, sum))
}

/// The exact sum of a parent's line amounts but one line's (the one being written).
fn line_sum_except(conn: &Store, line: &Entity, parent: i64, except: Option<i64>) -> Result<i128> {
    Ok(exact_sum(conn, line, parent, except)?.1)
}

/// How many lines a parent has (leaving out `except`) and the exact sum of their amounts.
fn exact_sum(conn: &Store, line: &Entity, parent: i64, except: Option<i64>) -> Result<(i64, i128)> {
    lookup::line_totals(conn, line, parent_of(line.name), parent, except)
}

/// The error for a parent whose lines add up to more than an amount can hold, naming the
/// parent by its number.
fn too_large(conn: &Store, line: &Entity, parent: i64, sum: i128) -> Error {
    let p = parent_of(line.name);
    let number = Entity::get(p)
        .and_then(|pe| lookup::field(conn, pe, "number", parent))
        .ok()
        .flatten()
        .and_then(|v| match v {
            Value::Text(t) => Some(t),
            _ => None,
        });
    Error::invalid(format!(
        "{p} {} amount: its lines would add up to {}, more than the largest amount ({})",
        number.unwrap_or_else(|| parent.to_string()),
        crate::report::money::format_total(sum),
        crate::schema::kinds::format_money(i64::MAX)
    ))
    .hint(format!("split the lines over several {p}s"))
}

fn recompute(conn: &Store, line: &Entity, parent: i64, cause: &Cause) -> Result<()> {
    let sum = line_sum(conn, line, parent)?.unwrap_or(0);
    let pe = Entity::get(parent_of(line.name))?;
    super::derive(conn, pe, parent, "amount", &Value::Integer(sum), cause)
}

/// Sets an order without lines back to a plain amount (a reverted import of its lines).
pub fn restore_plain(conn: &Store, order: i64, amount: &Value, cause: &Cause) -> Result<()> {
    let line = Entity::get("order_line")?;
    if line_sum(conn, line, order)?.is_some() {
        return Ok(());
    }
    super::derive(conn, Entity::get("order")?, order, "amount", amount, cause)
}
