//! `crm show ENTITY ID`: one record with the records that refer to it — for a customer its
//! contacts, open opportunities and quotes, latest activities, contracts, open tickets and
//! orders — and for an opportunity also its stage history.

pub(super) mod related;

use clap::{Arg, ArgMatches, Command};
use serde_json::{Value as J, json};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::records;
use crate::error::Result;
use crate::output::{Column, Format, object};
use crate::render;
use crate::schema::{Entity, Field};
use related::Section;

pub fn command() -> Command {
    Command::new("show")
        .about("Show one record with its related records")
        .long_about("Show one record with its related records. A customer lists its contacts, open opportunities and quotes, latest activities, contracts, open tickets and orders; an opportunity its quotes, orders, activities and stage history; any other record the records that refer to it. Each list shows at most 20 records (the heading gives the total; `crm find` lists them all). With --format json the lists are under \"related\", their totals under \"related_total\", and an opportunity's stages under \"stages\".")
        .arg(entity_arg())
        .arg(
            Arg::new("id")
                .required(true)
                .value_name("ID")
                .help("Record id, or its unique key (a customer's code)"),
        )
}

/// The ENTITY argument of `show`, `find` and `delete`: the registry's names as clap's
/// possible values (listed in `--help`, completed by the shells, near misses suggested),
/// `quote-line` and any case accepted as `Entity::get` accepts them.
pub(super) fn entity_arg() -> Arg {
    Arg::new("entity")
        .required(true)
        .value_name("ENTITY")
        .value_parser(super::EntityParser(None))
}

/// A section with its rows (as JSON values) and total count.
type Listed = (Section, Vec<Vec<J>>, i64);

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let e = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    ctx.authorize(Action::Read, Some(e), None)?;
    let role = ctx.user()?.role;
    let id = records::resolve_target(
        &ctx.db()?.store,
        e,
        m.get_one::<String>("id").expect("required"),
    )?;
    let cols: Vec<&'static Field> = e.columns().collect();
    let row = super::shown_row(ctx, e, id, &cols)?;
    let mut fetched = Vec::new();
    for s in related::sections(e)? {
        // A list the user's role may not read is left out, not refused.
        if !crate::auth::allowed(role, Action::Read, Some(s.entity), None) {
            continue;
        }
        let (rows, total) = related::fetch(ctx, &s, id)?;
        fetched.push((s, rows, total));
    }
    let conn = &ctx.db()?.store;
    let stages = if e.name == "opportunity" {
        crate::db::stages::history(conn, id)?
    } else {
        Vec::new()
    };
    let owners = if e.name == "customer" {
        crate::db::ownership::of_customer(conn, id)?
    } else {
        Vec::new()
    };
    let listed = shown(ctx, fetched);
    let columns = render::columns(ctx, &cols);
    let values = render::view_row(ctx, &cols, &row);
    if ctx.out.format == Format::Json {
        let mut obj = object(&columns, &values);
        let map = obj.as_object_mut().expect("a record is an object");
        let mut rel = serde_json::Map::new();
        let mut totals = serde_json::Map::new();
        for (s, rows, total) in &listed {
            let c = render::columns(ctx, &s.columns);
            rel.insert(
                s.entity.name.into(),
                J::Array(rows.iter().map(|r| object(&c, r)).collect()),
            );
            totals.insert(s.entity.name.into(), json!(total));
        }
        map.insert("related".into(), J::Object(rel));
        map.insert("related_total".into(), J::Object(totals));
        if e.name == "opportunity" {
            let list = stages
                .iter()
                .map(|s| json!({"stage": s.stage, "entered_at": crate::schema::kinds::format_datetime(s.entered_at)}))
                .collect();
            map.insert("stages".into(), J::Array(list));
        }
        if e.name == "customer" {
            let list = owners.iter().map(ownership_json).collect();
            map.insert("ownership".into(), J::Array(list));
        }
        return ctx.out.json(&obj);
    }
    ctx.out.record(&columns, &values)?;
    if ctx.out.format != Format::Table {
        return Ok(());
    }
    print_sections(ctx, &listed)?;
    print_ownership(ctx, &owners)?;
    if stages.is_empty() {
        Ok(())
    } else {
        print_stages(ctx, &stages)
    }
}

fn ownership_json(o: &crate::db::ownership::Event) -> J {
    json!({
        "at": crate::schema::kinds::format_datetime(o.at),
        "user": o.user,
        "from": o.from,
        "to": o.to,
        "action": o.action,
        "reason": o.reason,
    })
}

/// A customer's changes of owner (claims, releases, assignments, sweeps, edits).
fn print_ownership(ctx: &Ctx, owners: &[crate::db::ownership::Event]) -> Result<()> {
    if owners.is_empty() {
        return Ok(());
    }
    let title = if ctx.g.zh {
        "负责人变更"
    } else {
        "Owner changes"
    };
    ctx.out.data(&format!("\n{title} ({})\n", owners.len()))?;
    let keys = ["at", "user", "from", "to", "action", "reason"];
    let cols: Vec<crate::output::Column> = crate::output::Column::named(&keys);
    let rows: Vec<Vec<J>> = owners
        .iter()
        .map(|o| {
            let j = ownership_json(o);
            keys.iter().map(|k| j[*k].clone()).collect()
        })
        .collect();
    ctx.out.rows(&cols, &rows)
}

/// The line items of a new quote or order, under the record `add` prints.
pub fn print_lines(ctx: &mut Ctx, e: &'static Entity, id: i64) -> Result<()> {
    let mut fetched = Vec::new();
    for s in related::sections(e)? {
        if s.entity.owner_via == Some(s.via.name) {
            let (rows, total) = related::fetch(ctx, &s, id)?;
            fetched.push((s, rows, total));
        }
    }
    print_sections(ctx, &shown(ctx, fetched))
}

/// Sections' stored rows turned into the values shown.
fn shown(ctx: &Ctx, fetched: Vec<(Section, Vec<Vec<crate::schema::Value>>, i64)>) -> Vec<Listed> {
    fetched
        .into_iter()
        .map(|(s, rows, total)| {
            let rows = rows
                .iter()
                .map(|r| render::view_row(ctx, &s.columns, r))
                .collect();
            (s, rows, total)
        })
        .collect()
}

/// Each non-empty section: a heading with its count, and its table.
fn print_sections(ctx: &Ctx, listed: &[Listed]) -> Result<()> {
    for (s, rows, total) in listed {
        if *total == 0 {
            continue;
        }
        let heading = if ctx.g.zh { &s.zh } else { &s.en };
        let count = if usize::try_from(*total).is_ok_and(|t| t > rows.len()) {
            format!("{} of {total}", rows.len())
        } else {
            total.to_string()
        };
        ctx.out.data(&format!("\n{heading} ({count})\n"))?;
        ctx.out.rows(&render::columns(ctx, &s.columns), rows)?;
    }
    Ok(())
}

/// The stage history as a table: each stage, when it was entered and how long it lasted.
fn print_stages(ctx: &Ctx, stages: &[crate::db::stages::Stage]) -> Result<()> {
    let (title, heads) = if ctx.g.zh {
        ("阶段历史", ["销售阶段", "进入时间", "停留天数"])
    } else {
        ("Stage history", ["stage", "entered_at", "days"])
    };
    let keys = ["stage", "entered_at", "days"];
    let columns: Vec<Column> = keys
        .iter()
        .zip(heads)
        .map(|(k, h)| Column {
            key: (*k).into(),
            header: h.into(),
        })
        .collect();
    let now = crate::clock::now();
    let stage = Entity::get("opportunity")?.field("stage")?;
    let rows: Vec<Vec<J>> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // A won or lost opportunity stays in its last stage for good: no count there.
            let until = match stages.get(i + 1) {
                Some(next) => Some(next.entered_at),
                None if matches!(s.stage.as_str(), "won" | "lost") => None,
                None => Some(now),
            };
            vec![
                render::view_row(
                    ctx,
                    &[stage],
                    &[crate::schema::Value::Text(s.stage.clone())],
                )
                .pop()
                .unwrap_or(J::Null),
                json!(crate::schema::kinds::format_datetime(s.entered_at)),
                until.map_or(J::Null, |u| json!((u - s.entered_at).max(0) / 86_400)),
            ]
        })
        .collect();
    ctx.out.data(&format!("\n{title} ({})\n", stages.len()))?;
    ctx.out.rows(&columns, &rows)
}
