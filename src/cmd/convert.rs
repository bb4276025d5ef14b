//! `crm convert lead ID …` and `crm convert quote ID`: the CRM's two hand-overs, each one
//! transaction with the records it creates, audited with a `convert` row naming them.

use clap::{Arg, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::Store;
use crate::db::audit::{self, Entry};
use crate::db::query::{Filter, Op, Query};
use crate::db::records::{self, Draft};
use crate::db::write;
use crate::error::{Error, Result};
use crate::schema::Value;
use crate::schema::{Entity, SYSTEM_FIELDS};

mod lead;
mod plan;

pub fn command() -> Command {
    Command::new("convert")
        .about("Convert a lead into a customer, or an accepted quote into an order")
        .subcommand_required(true)
        .subcommand(lead::command())
        .subcommand(
            Command::new("quote")
                .about("Turn an accepted quote into an order with the same lines")
                .arg(
                    Arg::new("id")
                        .required(true)
                        .value_name("ID")
                        .help("Quote id or number"),
                ),
        )
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    match m.subcommand() {
        Some(("lead", sub)) => lead::run(ctx, sub),
        Some(("quote", sub)) => quote(ctx, sub),
        _ => Err(Error::usage("convert what?").hint("crm convert lead ID, crm convert quote ID")),
    }
}

/// The ids of an entity's records where `field = value`, in id order.
pub fn ids_where(conn: &Store, e: &'static Entity, field: &str, value: Value) -> Result<Vec<i64>> {
    let mut q = Query::new(e);
    q.filters.push(Filter {
        field: e.field(field)?,
        op: Op::Eq,
        value,
    });
    let rows = crate::db::query::rows(conn, &q, &[&SYSTEM_FIELDS[0]])?;
    Ok(rows
        .iter()
        .filter_map(|r| match r.first() {
            Some(Value::Integer(i)) => Some(*i),
            _ => None,
        })
        .collect())
}

/// The audit row that ties a conversion's records together.
pub fn audit_convert(conn: &Store, user: &str, e: &Entity, id: i64, detail: String) -> Result<()> {
    audit::log(
        conn,
        &[Entry {
            user: Some(user),
            action: "convert",
            entity: Some(e.name),
            record_id: Some(id),
            detail: Some(detail),
            ..Entry::default()
        }],
    )
}

fn quote(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let qe = Entity::get("quote")?;
    let oe = Entity::get("order")?;
    let le = Entity::get("order_line")?;
    ctx.authorize(Action::Read, Some(qe), None)?;
    ctx.authorize(Action::Create, Some(oe), None)?;
    let user = ctx.user()?;
    let conn = &ctx.db()?.store;
    let id = records::resolve_target(conn, qe, m.get_one::<String>("id").expect("required"))?;
    let q = records::must_get(conn, qe, id)?;
    let number = q.draft.text("number").unwrap_or_default().to_string();
    let status = q.draft.text("status").unwrap_or_default();
    if status != "accepted" {
        return Err(Error::invalid(format!(
            "quote {number} is {status}; only an accepted quote becomes an order"
        ))
        .hint(format!("crm edit quote {number} --status accepted")));
    }
    if let Some(order) = ids_where(conn, oe, "quote", Value::Integer(id))?.first() {
        let o = records::must_get(conn, oe, *order)?;
        return Err(Error::conflict(format!(
            "quote {number} was already converted to order {}",
            o.draft.text("number").unwrap_or_default()
        )));
    }
    let mut d = Draft::empty(oe);
    for f in ["customer", "opportunity", "currency", "owner"] {
        d.set(f, q.draft.get(f).clone());
    }
    d.set("quote", Value::Integer(id));
    d.set("status", Value::Text("confirmed".into()));
    write::fill_defaults(conn, &mut d, &user.name)?;
    super::placement::authorize(ctx, Action::Create, &user, &d, None)?;
    let conn = &ctx.db()?.store;
    let quote_lines = ids_where(
        conn,
        Entity::get("quote_line")?,
        "quote",
        Value::Integer(id),
    )?;
    let db = ctx.db()?;
    let tx = db.write()?;
    // Checked again under the write lock, so two conversions cannot both make an order.
    if records::must_get(&tx, qe, id)?.draft != q.draft
        || !ids_where(&tx, oe, "quote", Value::Integer(id))?.is_empty()
    {
        return Err(
            Error::conflict(format!("quote {number} changed since it was read"))
                .hint("run the command again"),
        );
    }
    let order = write::insert(&tx, d, &user.name)?;
    for lid in &quote_lines {
        let l = records::must_get(&tx, Entity::get("quote_line")?, *lid)?;
        let mut ol = Draft::empty(le);
        ol.set("order", Value::Integer(order));
        for f in ["product", "quantity", "unit_price", "discount"] {
            ol.set(f, l.draft.get(f).clone());
        }
        write::insert(&tx, ol, &user.name)?;
    }
    audit_convert(&tx, &user.name, qe, id, format!("order {order}"))?;
    tx.commit()?;
    let conn = &ctx.db()?.store;
    let shown = records::must_get(conn, oe, order)?;
    ctx.out.msg(&format!(
        "created order {} from quote {number} with {} line(s)",
        shown.draft.text("number").unwrap_or_default(),
        quote_lines.len()
    ));
    if ctx.out.quiet {
        return ctx.out.data(&format!("{order}\n"));
    }
    super::print_record(ctx, oe, order)
}
