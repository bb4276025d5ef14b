//! What `crm show` lists under a record: the records that refer to it, as sections. An
//! entity whose registry entry names its lists (`Entity::related`: a customer's contacts,
//! open opportunities and quotes, …) gets those; any other every entity that refers to it.

use crate::context::Ctx;
use crate::schema::Value;

use crate::db::query::{Filter, Op, Query};
use crate::error::Result;
use crate::schema::{Entity, Field, Kind, Open, SYSTEM_FIELDS};

/// How many related records of each kind `show` lists (the heading gives the total).
pub const LIMIT: i64 = 20;

/// What "open" means per entity — the records that still need work — as the registry
/// declares it (`Entity::open`), for `show` and `agenda`. An entity without such a notion
/// has no filter.
pub fn open_filters(e: &'static Entity) -> Result<Vec<Filter>> {
    match e.open {
        Open::Always => Ok(Vec::new()),
        Open::WhileNull(field) => Ok(vec![Filter {
            field: e.field(field)?,
            op: Op::Eq,
            value: Value::Null,
        }]),
        Open::Unless(field, closed) => closed
            .iter()
            .map(|v| {
                Ok(Filter {
                    field: e.field(field)?,
                    op: Op::Ne,
                    value: Value::Text((*v).to_string()),
                })
            })
            .collect(),
    }
}

/// One list under the record.
pub struct Section {
    pub entity: &'static Entity,
    /// The field of `entity` that refers to the shown record.
    pub via: &'static Field,
    pub open_only: bool,
    pub sort: Vec<(&'static Field, bool)>,
    pub en: String,
    pub zh: String,
    pub columns: Vec<&'static Field>,
}

/// The sections shown under a record of `e`.
pub fn sections(e: &'static Entity) -> Result<Vec<Section>> {
    if !e.related.is_empty() {
        return e
            .related
            .iter()
            .map(|r| {
                let other = Entity::get(r.entity)?;
                let mut s = generic(other, other.field(r.via)?);
                s.open_only = r.open_only;
                s.sort.insert(0, (other.field(r.sort)?, r.desc));
                s.en = r.en.into();
                s.zh = r.zh.into();
                Ok(s)
            })
            .collect();
    }
    Ok(crate::schema::all()
        .iter()
        .flat_map(|other| {
            other
                .fields
                .iter()
                .filter(|f| f.kind == Kind::Ref(e.name))
                .map(|f| generic(other, f))
        })
        .collect())
}

/// Every record of `other` that refers through `via`, newest first; line items in their
/// own order.
fn generic(other: &'static Entity, via: &'static Field) -> Section {
    let lines = other.owner_via == Some(via.name);
    Section {
        entity: other,
        via,
        open_only: false,
        sort: vec![(&SYSTEM_FIELDS[0], !lines)],
        en: plural(other.en),
        zh: other.zh.to_string(),
        columns: summary_columns(other, via.name),
    }
}

/// `Opportunity` → `Opportunities`, `Order line` → `Order lines`.
pub fn plural(label: &str) -> String {
    match label.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{label}s"),
    }
}

/// A short list of a related entity's columns: id, its key and title, status-like fields.
fn summary_columns(e: &'static Entity, skip: &str) -> Vec<&'static Field> {
    let wanted = [
        // A line item shown under its product names the quote or order it is on.
        "quote",
        "order",
        "number",
        "code",
        e.title,
        "title",
        "type",
        "subject",
        "stage",
        "status",
        "priority",
        "quantity",
        "unit_price",
        "discount",
        "amount",
        // An amount means nothing without its currency (EUR and CNY side by side).
        "currency",
        "mobile",
        "phone",
        "email",
        "is_primary",
        "expected_close",
        "valid_until",
        "order_date",
        "end_date",
        "due_at",
        "done_at",
        "owner",
        "assignee",
    ];
    let mut cols = vec![&SYSTEM_FIELDS[0]];
    for f in e.fields {
        if f.name != skip && wanted.contains(&f.name) && cols.len() < 7 {
            cols.push(f);
        }
    }
    cols
}

/// A section's first rows (values in `columns` order) and its total count.
pub fn fetch(ctx: &mut Ctx, s: &Section, id: i64) -> Result<(Vec<Vec<Value>>, i64)> {
    let mut q = Query::new(s.entity);
    q.filters.push(Filter {
        field: s.via,
        op: Op::Eq,
        value: Value::Integer(id),
    });
    if s.open_only {
        q.filters.extend(open_filters(s.entity)?);
    }
    q.sort.clone_from(&s.sort);
    let total = crate::db::query::count(&ctx.db()?.store, &q)?;
    q.limit = Some(LIMIT);
    Ok((super::super::masked_rows(ctx, q, &s.columns)?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_labels() {
        assert_eq!(plural("Opportunity"), "Opportunities");
        assert_eq!(plural("Order line"), "Order lines");
        assert_eq!(plural("Quote"), "Quotes");
    }

    #[test]
    fn customer_sections_in_order() {
        let names: Vec<&str> = sections(Entity::get("customer").unwrap())
            .unwrap()
            .iter()
            .map(|s| s.entity.name)
            .collect();
        assert_eq!(
            names,
            [
                "contact",
                "opportunity",
                "quote",
                "activity",
                "contract",
                "ticket",
                "order"
            ]
        );
    }

    #[test]
    fn open_means_not_closed() {
        let f = open_filters(Entity::get("opportunity").unwrap()).unwrap();
        let closed: Vec<String> = f
            .iter()
            .map(|f| match &f.value {
                Value::Text(t) => t.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(closed, ["won", "lost"]);
        assert!(
            open_filters(Entity::get("contact").unwrap())
                .unwrap()
                .is_empty()
        );
    }
}
