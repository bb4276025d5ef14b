//! `crm show ENTITY ID`: one record with the records that refer to it (a customer's
//! contacts, opportunities, follow-ups, contracts, tickets, orders).

use clap::{Arg, ArgMatches, Command};
use serde_json::Value as J;

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::query::{Filter, Op, Query};
use crate::db::records;
use crate::error::Result;
use crate::output::{Format, object};
use crate::render;
use crate::schema::{ENTITIES, Entity, Field, Kind};

/// How many related records of each kind `show` lists.
const RELATED_LIMIT: i64 = 20;

pub fn command() -> Command {
    Command::new("show")
        .about("Show one record with its related records")
        .arg(
            Arg::new("entity")
                .required(true)
                .value_name("ENTITY")
                .help("customer, contact, lead, …"),
        )
        .arg(
            Arg::new("id")
                .required(true)
                .value_name("ID")
                .help("Record id, or its unique key (a customer's code)"),
        )
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let e = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    ctx.authorize(Action::Read, Some(e), None)?;
    let conn = &ctx.db()?.conn;
    let id = records::resolve_target(conn, e, m.get_one::<String>("id").expect("required"))?;
    let cols: Vec<&'static Field> = e.columns().collect();
    let row = super::display_row(conn, e, id, &cols)?;
    let mut related: Vec<(
        &'static Entity,
        Vec<&'static Field>,
        Vec<Vec<rusqlite::types::Value>>,
    )> = Vec::new();
    for other in ENTITIES {
        for f in other.fields.iter().filter(|f| f.kind == Kind::Ref(e.name)) {
            let user_role = ctx.user()?.role;
            if !crate::auth::allowed(user_role, Action::Read, Some(other), None) {
                continue;
            }
            let mut q = Query::new(other);
            q.filters.push(Filter {
                field: f,
                op: Op::Eq,
                value: rusqlite::types::Value::Integer(id),
            });
            q.sort.push((&crate::schema::SYSTEM_FIELDS[0], true));
            q.limit = Some(RELATED_LIMIT);
            let rcols = summary_columns(other, f.name);
            let rows = crate::db::query::rows(&ctx.db()?.conn, &q, &rcols)?;
            if !rows.is_empty() {
                related.push((other, rcols, rows));
            }
        }
    }
    let columns = render::columns(ctx, &cols);
    let values = render::json_row(&cols, &row);
    if ctx.out.format == Format::Json {
        let mut obj = object(&columns, &values);
        let rel: serde_json::Map<String, J> = related
            .iter()
            .map(|(o, rc, rows)| {
                let c = render::columns(ctx, rc);
                (
                    o.name.to_string(),
                    J::Array(
                        rows.iter()
                            .map(|r| object(&c, &render::json_row(rc, r)))
                            .collect(),
                    ),
                )
            })
            .collect();
        obj.as_object_mut()
            .expect("object")
            .insert("related".into(), J::Object(rel));
        return ctx.out.json(&obj);
    }
    ctx.out.record(&columns, &values)?;
    if ctx.out.format == Format::Table {
        for (o, rc, rows) in &related {
            let label = if ctx.g.zh { o.zh } else { o.en };
            ctx.out.data(&format!("\n{label} ({})\n", rows.len()))?;
            let c = render::columns(ctx, rc);
            let json_rows: Vec<Vec<J>> = rows.iter().map(|r| render::json_row(rc, r)).collect();
            ctx.out.rows(&c, &json_rows)?;
        }
    }
    Ok(())
}

/// A short list of a related entity's columns: id, its key and title, status-like fields.
fn summary_columns(e: &'static Entity, skip: &str) -> Vec<&'static Field> {
    let wanted = [
        "number", "code", e.title, "stage", "status", "type", "amount", "due_at", "done_at",
        "end_date", "priority", "title", "mobile", "phone",
    ];
    let mut cols = vec![&crate::schema::SYSTEM_FIELDS[0]];
    for f in e.fields {
        if f.name != skip && wanted.contains(&f.name) && cols.len() < 7 {
            cols.push(f);
        }
    }
    cols
}
