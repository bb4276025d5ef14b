//! `--line PRODUCT:QTY[:PRICE]` on `crm add order` and `crm add quote`: line items given with
//! their parent, written in the parent's transaction (so either all land or none).

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::db::Store;
use crate::db::records::{self, Draft};
use crate::db::write;
use crate::error::{Error, Result};
use crate::schema::Entity;
use crate::schema::Value;

/// One parsed `--line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSpec {
    pub product: i64,
    pub quantity: i64,
    pub unit_price: Option<i64>,
}

/// Adds `--line` to the entities that have lines (the `extra` hook of `entity_subcommands`).
pub fn extra_args(c: Command) -> Command {
    if !matches!(c.get_name(), "order" | "quote") {
        return c;
    }
    c.arg(
        Arg::new("line")
            .long("line")
            .value_name("PRODUCT:QTY[:PRICE]")
            .action(ArgAction::Append)
            .help("A line item: product code or id, quantity, unit price (default: the product's); repeatable"),
    )
}

/// The line entity of a parent entity, if it has one.
fn line_entity(e: &Entity) -> Option<&'static Entity> {
    Entity::get(&format!("{}_line", e.name))
        .ok()
        .filter(|_| matches!(e.name, "order" | "quote"))
}

/// Reads and checks the `--line` values before anything is written.
pub fn parse(conn: &Store, e: &'static Entity, m: &ArgMatches) -> Result<Vec<LineSpec>> {
    let Some(line) = line_entity(e) else {
        return Ok(Vec::new());
    };
    let specs: Vec<&String> = m
        .try_get_many::<String>("line")
        .ok()
        .flatten()
        .into_iter()
        .flatten()
        .collect();
    if !specs.is_empty() && e.name == "order" && m.get_one::<String>("amount").is_some() {
        return Err(Error::usage("--amount and --line contradict each other")
            .hint("an order with lines has their sum as its amount; give one or the other"));
    }
    specs
        .into_iter()
        .map(|s| parse_one(conn, line, s))
        .collect()
}

fn parse_one(conn: &Store, line: &'static Entity, s: &str) -> Result<LineSpec> {
    let bad = |why: String| {
        Error::invalid(format!("--line {s}: {why}")).hint("write PRODUCT:QTY or PRODUCT:QTY:PRICE")
    };
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad("expected 2 or 3 parts separated by ':'".into()));
    }
    let product = records::parse_value(conn, line.field("product")?, parts[0]).map_err(bad)?;
    let quantity = records::parse_value(conn, line.field("quantity")?, parts[1]).map_err(bad)?;
    let unit_price = match parts.get(2) {
        Some(p) => records::parse_value(conn, line.field("unit_price")?, p).map_err(bad)?,
        None => Value::Null,
    };
    let int = |v: &Value| match v {
        Value::Integer(i) => Some(*i),
        _ => None,
    };
    Ok(LineSpec {
        product: int(&product).ok_or_else(|| bad("no product given".into()))?,
        quantity: int(&quantity).ok_or_else(|| bad("no quantity given".into()))?,
        unit_price: int(&unit_price),
    })
}

/// Inserts the lines of a new parent (inside the caller's transaction).
pub fn insert(
    conn: &Store,
    e: &'static Entity,
    parent: i64,
    specs: &[LineSpec],
    user: &str,
) -> Result<()> {
    let Some(line) = line_entity(e) else {
        return Ok(());
    };
    for s in specs {
        let mut d = Draft::empty(line);
        d.set(e.name, Value::Integer(parent));
        d.set("product", Value::Integer(s.product));
        d.set("quantity", Value::Integer(s.quantity));
        d.set(
            "unit_price",
            s.unit_price.map_or(Value::Null, Value::Integer),
        );
        write::insert(conn, d, user)?;
    }
    Ok(())
}
