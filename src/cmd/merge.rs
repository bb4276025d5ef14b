//! `crm merge ENTITY KEEP DUP… [--prefer FIELD=ID]… [--dry-run] [--yes]`: folds duplicates
//! into the record kept, in one audited transaction (`db::merge`); `crm merge history` and
//! `crm merge revert N` are in `merge_log`.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::merge;
use crate::db::records;
use crate::error::{Error, Result};
use crate::schema::Entity;

pub fn command() -> Command {
    Command::new("merge")
        .about("Merge duplicate records into one; list and revert merges")
        .long_about(
            "Merge duplicate records into the one kept, in one transaction: KEEP's empty fields take the first \
             non-empty value of the DUPs in the order given (tags: the union), unless --prefer FIELD=ID names the \
             record whose value wins; every record that references a DUP (any reference field of any entity) points \
             to KEEP; the DUPs are deleted. Audited with every old value. Asks on a terminal; scripts pass --yes. \
             `crm merge history` lists merges; `crm merge revert N` brings the DUPs back with their ids and values, \
             points their references back and restores KEEP, unless any of those records changed since (exit 5).",
        )
        .args_conflicts_with_subcommands(true)
        .subcommand_negates_reqs(true)
        .arg(super::show::entity_arg())
        .arg(Arg::new("keep").required(true).value_name("KEEP").help("The record kept: id or unique key"))
        .arg(Arg::new("dups").required(true).num_args(1..).value_name("DUP").help("The duplicates merged into it and deleted"))
        .arg(Arg::new("prefer").long("prefer").value_name("FIELD=ID").action(ArgAction::Append).help("Take FIELD from record ID (KEEP or a DUP) when it has a value"))
        .arg(Arg::new("dry_run").long("dry-run").action(ArgAction::SetTrue).help("Show the plan, change nothing"))
        .arg(super::yes_arg())
        .subcommand(
            Command::new("history")
                .about("List merges, newest first")
                .arg(Arg::new("entity").long("entity").value_name("ENTITY").value_parser(super::EntityParser(None)).help("Only merges of this entity"))
                .arg(Arg::new("limit").long("limit").value_name("N").value_parser(clap::value_parser!(i64).range(1..)).default_value("50")),
        )
        .subcommand(
            Command::new("revert")
                .about("Undo a merge: the duplicates back, their references pointed back, KEEP restored")
                .arg(Arg::new("merge").required(true).value_name("N").value_parser(clap::value_parser!(i64)).help("Merge number from `crm merge history`")),
        )
}

/// `--prefer FIELD=ID`: the field and the record (which must be one of `ids`).
fn prefer(
    conn: &crate::db::Store,
    e: &'static Entity,
    text: &str,
    ids: &[i64],
) -> Result<(&'static str, i64)> {
    let bad = || Error::usage(format!("--prefer '{text}': expected FIELD=ID"));
    let (field, id) = text.split_once('=').ok_or_else(bad)?;
    let f = e.field(field)?;
    if f.read_only {
        return Err(Error::usage(format!(
            "--prefer: {} {} is read-only",
            e.name, f.name
        )));
    }
    let id = records::resolve(conn, e, id)?
        .filter(|i| ids.contains(i))
        .ok_or_else(|| {
            Error::usage(format!(
                "--prefer {text}: '{id}' is not KEEP or one of the DUPs"
            ))
        })?;
    Ok((f.name, id))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    match m.subcommand() {
        Some(("history", sub)) => return super::merge_log::history(ctx, sub),
        Some(("revert", sub)) => return super::merge_log::revert(ctx, sub),
        _ => {}
    }
    let e = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    let user = ctx.authorize(Action::Merge, Some(e), None)?;
    let conn = &ctx.db()?.store;
    let keep = records::resolve_target(conn, e, m.get_one::<String>("keep").expect("required"))?;
    let mut dups: Vec<i64> = Vec::new();
    for t in m.get_many::<String>("dups").into_iter().flatten() {
        let id = records::resolve_target(conn, e, t)?;
        if id == keep {
            return Err(
                Error::usage(format!("{} {id} cannot be merged into itself", e.name))
                    .hint("name KEEP once, then the other records"),
            );
        }
        if !dups.contains(&id) {
            dups.push(id);
        }
    }
    let all: Vec<i64> = std::iter::once(keep).chain(dups.iter().copied()).collect();
    let prefers = m
        .get_many::<String>("prefer")
        .into_iter()
        .flatten()
        .map(|p| prefer(conn, e, p, &all))
        .collect::<Result<Vec<_>>>()?;
    let plan = merge::plan(conn, e, keep, &dups, &prefers)?;
    let involved = plan.involved(conn)?;
    super::merge_log::authorize(ctx, &user, &involved)?;
    let dry_run = m.get_flag("dry_run");
    if !dry_run && !m.get_flag("yes") {
        if !ctx.g.interactive {
            return Err(Error::usage("merge needs confirmation")
                .hint("pass --yes to merge without a terminal (--dry-run shows the plan)"));
        }
        let them = if dups.len() == 1 { "it" } else { "them" };
        let question = format!(
            "Merge {} {} into {keep} and delete {them}?",
            e.name,
            super::merge_log::join(&dups)
        );
        if !crate::prompt::confirm(&question)? {
            return Err(Error::usage("nothing was merged (answered no)"));
        }
    }
    let n = if dry_run {
        None
    } else {
        let db = ctx.db()?;
        let tx = db.write()?;
        // Planned again under the write lock: what is merged is what is stored now.
        let plan = merge::plan(&tx, e, keep, &dups, &prefers)?;
        let n = merge::apply(&tx, &plan, &user.name)?;
        tx.commit()?;
        Some(n)
    };
    super::merge_log::report(ctx, &plan, n)
}
