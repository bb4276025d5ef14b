//! `crm add ENTITY [--FIELD VALUE]…`: creates one record, prompting on a terminal for the
//! required fields not given.

use clap::{ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::records::Draft;
use crate::db::write;
use crate::error::{Error, Result};
use crate::schema::{Entity, Kind};

pub fn command() -> Command {
    Command::new("add")
        .about("Create a record")
        .long_about("Create a record. Flags come from the entity's fields (`crm add customer --help`). On a terminal, crm prompts for required fields that were not given; with --no-input or without a terminal a missing required field is a usage error (exit 2).")
        .subcommand_required(true)
        .subcommands(super::entity_subcommands("Create", false, super::lines::extra_args))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let (name, sub) = m.subcommand().expect("entity subcommand is required");
    let e = Entity::get(name)?;
    ctx.authorize(Action::Create, Some(e), None)?;
    let user = ctx.user()?;
    let interactive = ctx.g.interactive;
    let conn = &ctx.db()?.store;
    let mut d = Draft::empty(e);
    let mut given = Vec::new();
    super::read_flags(conn, e, sub, &mut d, &mut given)?;
    // No field flags at all on a terminal: a short form (required fields, then the choices).
    let form = interactive && given.is_empty();
    for f in e
        .writable()
        // A required field with a default (a custom one) gets it like any default.
        .filter(|f| {
            f.required && !given.contains(&f.name) && f.default == crate::schema::Default::None
        })
    {
        if !interactive {
            return Err(
                Error::usage(format!("{} {} is required", e.name, f.name)).hint(format!(
                    "pass --{} (prompts only run on a terminal without --no-input)",
                    f.flag()
                )),
            );
        }
        let v = crate::prompt::field(conn, f, None)?;
        d.set(f.name, v);
    }
    if form {
        for f in e
            .writable()
            .filter(|f| !f.required && matches!(f.kind, Kind::Choice(_)))
        {
            let current = match f.default {
                crate::schema::Default::Value(v) => Some(v.to_string()),
                _ => None,
            };
            let v = crate::prompt::field(conn, f, current.as_deref())?;
            d.set(f.name, v);
        }
    }
    // Ownership is judged on the record as it would be stored (owner defaults to the user);
    // the draft itself gets its defaults inside the write transaction, so a generated code
    // is taken under the lock and two concurrent adds cannot pick the same one.
    let mut complete = d.clone();
    write::fill_defaults(conn, &mut complete, &user.name)?;
    let lines = super::lines::parse(conn, e, sub)?;
    super::placement::authorize(ctx, Action::Create, &user, &complete, None)?;
    let db = ctx.db()?;
    // A record whose rules change no other record only adds: such adds may run side by side.
    let adds_only = lines.is_empty() && crate::rules::of(e).and_then(|r| r.after_write).is_none();
    let tx = if adds_only {
        db.write_adding()?
    } else {
        db.write()?
    };
    let id = write::insert(&tx, d, &user.name)?;
    super::lines::insert(&tx, e, id, &lines, &user.name)?;
    tx.commit()?;
    if ctx.out.quiet {
        return ctx.out.data(&format!("{id}\n"));
    }
    // The key too (a generated customer code is what the user will type next).
    let key = match e.key {
        Some(k) => {
            let f = e.field(k)?;
            let row = super::display_row(&ctx.db()?.store, e, id, &[f])?;
            row.first()
                .map(|v| format!(" ({})", f.kind.format(v)))
                .unwrap_or_default()
        }
        None => String::new(),
    };
    ctx.out.msg(&format!("created {} {id}{key}", e.name));
    super::print_record(ctx, e, id)?;
    // The lines given with --line are shown under a quote or order, as `show` lists them.
    if !lines.is_empty() && ctx.out.format == crate::output::Format::Table {
        super::show::print_lines(ctx, e, id)?;
    }
    Ok(())
}
