//! `crm find ENTITY [TEXT] [--where EXPR]… [--sort F[:desc]] [--limit N] [--offset N]
//! [--columns A,B] [--count]`: search, typed filters, sorted pages.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::query::{self, Query};
use crate::error::{Error, Result};
use crate::render;
use crate::schema::Entity;

pub fn command() -> Command {
    Command::new("find")
        .about("Find records: text search, --where filters, sorting and paging")
        .long_about(
            "Find records. TEXT is a case-insensitive substring searched in the entity's text fields \
             (Chinese included: `crm find customer 科技`). --where compares typed values: FIELD=V, FIELD!=V, \
             FIELD>V, >=, <, <=, FIELD~TEXT (substring); several are ANDed; FIELD= matches an empty field.",
        )
        .arg(super::show::entity_arg())
        .arg(Arg::new("text").value_name("TEXT").help("Substring to search for in text fields"))
        .arg(Arg::new("where").long("where").short('w').value_name("EXPR").action(ArgAction::Append).help("Filter, e.g. level=A, amount>1000, city~深圳"))
        .arg(Arg::new("sort").long("sort").value_name("FIELD[:desc]").help("Sort by fields, comma-separated"))
        .arg(Arg::new("limit").long("limit").value_name("N").value_parser(clap::value_parser!(i64).range(0..)))
        .arg(Arg::new("offset").long("offset").value_name("N").value_parser(clap::value_parser!(i64).range(0..)))
        .arg(Arg::new("columns").long("columns").value_name("A,B").help("Exactly these columns, in this order"))
        .arg(Arg::new("count").long("count").action(ArgAction::SetTrue).help("Print only the number of matches"))
}

/// Builds the query from `find`'s (and `export`'s) flags.
pub fn query_from(ctx: &mut Ctx, e: &'static Entity, m: &ArgMatches) -> Result<Query> {
    let conn = &ctx.db()?.store;
    let mut q = Query::new(e);
    // Trimmed as stored text is, so a pasted `　科技 ` finds what `科技` finds.
    q.text = m
        .try_get_one::<String>("text")
        .ok()
        .flatten()
        .map(|t| crate::schema::kinds::trim(t).to_string());
    for w in m.get_many::<String>("where").into_iter().flatten() {
        q.filters.push(query::parse_where(conn, e, w)?);
    }
    if let Some(sort) = m.try_get_one::<String>("sort").ok().flatten() {
        for part in sort.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, dir) = part.split_once(':').unwrap_or((part, "asc"));
            let desc = match dir.trim() {
                "desc" => true,
                "asc" => false,
                other => {
                    return Err(Error::usage(format!(
                        "--sort direction '{other}' is not asc or desc"
                    )));
                }
            };
            q.sort.push((e.field(name)?, desc));
        }
    }
    q.limit = m.try_get_one::<i64>("limit").ok().flatten().copied();
    q.offset = m.try_get_one::<i64>("offset").ok().flatten().copied();
    ctx.check_masked_query(&q)?;
    Ok(q)
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let e = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    ctx.authorize(Action::Read, Some(e), None)?;
    let q = query_from(ctx, e, m)?;
    list(ctx, e, &q, m)
}

/// Prints what `q` finds as `find` does: `--count`, `--columns`, a table or a stream.
pub fn list(ctx: &mut Ctx, e: &'static Entity, q: &Query, m: &ArgMatches) -> Result<()> {
    let cols = render::list_columns(ctx, e, m.get_one::<String>("columns"))?;
    // Columns the user named are all shown, however narrow the terminal.
    ctx.out.fit = !m.contains_id("columns") || m.get_one::<String>("columns").is_none();
    // The mask also narrows the text search, so it comes before the count.
    let mut q = q.clone();
    let mut mask = ctx.row_mask(e, &cols, &mut q)?;
    if m.get_flag("count") {
        let n = query::count(&ctx.db()?.store, &q)?;
        return ctx.out.data(&format!("{n}\n"));
    }
    let qcols = mask
        .as_ref()
        .map_or_else(|| cols.clone(), |k| k.columns(&cols));
    let mut shown = |r: &[crate::schema::Value]| match mask.as_mut() {
        Some(k) => k.apply(&cols, r),
        None => r.to_vec(),
    };
    let columns = render::columns(ctx, &cols);
    if let Some(mut stream) = ctx.out.stream(&columns)? {
        let conn = &ctx.db()?.store;
        let res = query::for_each(conn, &q, &qcols, |r| {
            stream.row(&render::json_row(&cols, &shown(r)))
        });
        return match res {
            Ok(()) => {
                stream.finish()?;
                reveal_audit(ctx, mask.as_ref())
            }
            Err(e) => {
                stream.abandon();
                Err(e)
            }
        };
    }
    let rows: Vec<_> = query::rows(&ctx.db()?.store, &q, &qcols)?
        .iter()
        .map(|r| shown(r))
        .collect();
    reveal_audit(ctx, mask.as_ref())?;
    let json: Vec<Vec<serde_json::Value>> = rows
        .iter()
        .map(|r| render::view_row(ctx, &cols, r))
        .collect();
    if json.is_empty() {
        // An empty table is easy to misread as a failure: say so (stderr, so data stays data).
        ctx.out.msg(&format!("no {} matches", e.name));
    }
    ctx.out.rows(&columns, &json)
}

/// The audit of what `--reveal` showed, if anything.
pub fn reveal_audit(ctx: &mut Ctx, mask: Option<&crate::mask::rows::RowMask>) -> Result<()> {
    mask.map_or(Ok(()), |m| ctx.audit_reveal(m))
}
