//! Quote and order lines: a line's unit price defaults to its product's, its amount is
//! quantity × unit price × (100 − discount) / 100, and the parent's amount is the sum of its
//! lines (an order without lines may carry a plain amount instead).

use super::{Cause, Change, Derived, Lookup};
use crate::error::{Error, Result};
use crate::schema::record::{Draft, Stored};
use crate::schema::{Entity, Value};

/// A line entity and the parent it adds up to.
pub struct Lines {
    /// The line entity (`quote_line`), whose field named like the parent refers to it.
    pub line: &'static str,
    /// The parent entity (`quote`), which has a `number` and an `amount`.
    pub parent: &'static str,
    /// Whether the parent's amount is always its lines' sum (a quote), or only once it has
    /// lines (an order may carry a plain amount).
    pub always_summed: bool,
    /// The fields these rules read or set.
    pub uses: &'static [(&'static str, &'static str)],
}

/// Fields every line rule reads, besides the parent reference.
macro_rules! line_uses {
    ($line:literal, $parent:literal) => {
        &[
            ($line, $parent),
            ($line, "product"),
            ($line, "unit_price"),
            ($line, "quantity"),
            ($line, "discount"),
            ($line, "amount"),
            ($parent, "number"),
            ($parent, "amount"),
            ("product", "unit_price"),
            ("product", "active"),
            ("product", "code"),
        ]
    };
}

pub const QUOTE: Lines = Lines {
    line: "quote_line",
    parent: "quote",
    always_summed: true,
    uses: line_uses!("quote_line", "quote"),
};

pub const ORDER: Lines = Lines {
    line: "order_line",
    parent: "order",
    always_summed: false,
    uses: line_uses!("order_line", "order"),
};

/// A line's amount in minor units, rounded half up; None when it would overflow.
pub fn line_amount(quantity: i64, unit_price: i64, discount: i64) -> Option<i64> {
    let gross = i128::from(quantity) * i128::from(unit_price) * i128::from(100 - discount);
    i64::try_from((gross + 50).div_euclid(100)).ok()
}

pub fn apply_line(
    spec: &Lines,
    look: &dyn Lookup,
    d: &mut Draft,
    old: Option<&Stored>,
) -> Result<()> {
    let Some(product) = d.int("product") else {
        return Ok(()); // the required-field check names it
    };
    let p = look
        .get(Entity::get("product")?, product)?
        .ok_or_else(|| Error::invalid(format!("no product with id {product}")))?;
    let (price, active) = (p.draft.int("unit_price"), p.draft.int("active"));
    let code = p.draft.text("code").unwrap_or_default();
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
    if let Some(parent) = d.int(spec.parent) {
        let others = exact_sum(spec, look, parent, old.map(|o| o.id))?.1;
        let total = others + i128::from(amount);
        if i64::try_from(total).is_err() {
            return Err(too_large(spec, look, parent, total));
        }
    }
    Ok(())
}

/// A quote's amount is always the sum of its lines; an order's is too once it has lines.
pub fn apply_parent(
    spec: &Lines,
    look: &dyn Lookup,
    d: &mut Draft,
    old: Option<&Stored>,
) -> Result<()> {
    let sum = match old {
        Some(o) => line_sum(spec, look, o.id)?,
        None => None,
    };
    let (Some(o), Some(sum)) = (old, sum) else {
        if spec.always_summed {
            d.set("amount", Value::Integer(0));
        }
        return Ok(());
    };
    let given = d.int("amount");
    if given == Some(sum) || spec.always_summed || given == o.draft.int("amount") {
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
        spec.line, spec.parent, o.id
    )))
}

/// The parent's amount, the sum of its lines, after a line was written or deleted; a line
/// moved to another parent updates the one it left too.
pub fn after_line(
    spec: &Lines,
    look: &dyn Lookup,
    d: &Draft,
    old: Option<&Draft>,
    id: i64,
) -> Result<Vec<Change>> {
    let cause = Cause {
        entity: d.entity.name,
        id,
    };
    let now = d.int(spec.parent);
    let before = old
        .and_then(|o| o.int(spec.parent))
        .filter(|b| Some(*b) != now);
    now.into_iter()
        .chain(before)
        .map(|p| {
            let sum = line_sum(spec, look, p)?.unwrap_or(0);
            parent_amount(spec, p, Value::Integer(sum), cause)
        })
        .collect()
}

/// An order without lines back to a plain amount (a reverted import of its lines).
pub fn restore_plain(
    look: &dyn Lookup,
    order: i64,
    amount: &Value,
    cause: Cause,
) -> Result<Vec<Change>> {
    if line_sum(&ORDER, look, order)?.is_some() {
        return Ok(Vec::new());
    }
    Ok(vec![parent_amount(&ORDER, order, amount.clone(), cause)?])
}

fn parent_amount(spec: &Lines, parent: i64, value: Value, cause: Cause) -> Result<Change> {
    Ok(Change::Derive(Derived {
        entity: Entity::get(spec.parent)?,
        id: parent,
        field: "amount",
        value,
        cause,
    }))
}

/// The sum of a parent's line amounts, None when it has no lines. Summed exactly (in two
/// parts that cannot overflow); a sum larger than an amount can be is refused (exit 4), so
/// no total is ever stored wrapped and no write fails with an internal error.
fn line_sum(spec: &Lines, look: &dyn Lookup, parent: i64) -> Result<Option<i64>> {
    let (n, sum) = exact_sum(spec, look, parent, None)?;
    if n == 0 {
        return Ok(None);
    }
    i64::try_from(sum)
        .map(Some)
        .map_err(|_| too_large(spec, look, parent, sum))
}

/// How many lines a parent has (leaving out `except`) and the exact sum of their amounts.
fn exact_sum(
    spec: &Lines,
    look: &dyn Lookup,
    parent: i64,
    except: Option<i64>,
) -> Result<(i64, i128)> {
    look.amounts(Entity::get(spec.line)?, spec.parent, parent, except)
}

/// The error for a parent whose lines add up to more than an amount can hold, naming the
/// parent by its number.
fn too_large(spec: &Lines, look: &dyn Lookup, parent: i64, sum: i128) -> Error {
    let p = spec.parent;
    let number = Entity::get(p)
        .and_then(|pe| look.field(pe, "number", parent))
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
