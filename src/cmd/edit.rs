//! `crm edit ENTITY ID [--FIELD VALUE]… [--unset FIELD]…`: changes fields; with none given on a
//! terminal, walks every field with its current value as the default. With `--where` or
//! `--all` instead of an ID, a bulk edit (`edit_bulk`).

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::records;
use crate::db::write;
use crate::error::{Error, Result};
use crate::schema::Entity;
use crate::schema::Value;

pub fn command() -> Command {
    Command::new("edit")
        .about("Change a record's fields")
        .subcommand_required(true)
        .subcommands(super::entity_subcommands("Change", true, |c| {
            // No ID: the records --where (or --all) chooses (`edit_bulk`).
            let c = c.mut_arg("id", |a| a.required(false)).arg(
                Arg::new("unset")
                    .long("unset")
                    .value_name("FIELD")
                    .action(ArgAction::Append)
                    .help("Clear a field (repeatable)"),
            );
            super::edit_bulk::args(c)
        }))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let (name, sub) = m.subcommand().expect("entity subcommand is required");
    let e = Entity::get(name)?;
    if super::edit_bulk::is_bulk(sub) {
        return super::edit_bulk::run(ctx, e, sub);
    }
    super::edit_bulk::refuse_single(e, sub)?;
    let Some(target) = sub.get_one::<String>("id") else {
        return Err(
            Error::usage(format!("edit {} needs an ID, or --where EXPR", e.name))
                .hint("--where chooses the records to change; --all changes every record"),
        );
    };
    ctx.authorize(Action::Update, Some(e), None)?;
    let user = ctx.user()?;
    let interactive = ctx.g.interactive;
    let quiet = ctx.out.quiet;
    let policy = ctx.mask_policy()?;
    let reveal = ctx.g.reveal;
    let conn = &ctx.db()?.store;
    let id = records::resolve_target(conn, e, target)?;
    let old = records::must_get(conn, e, id)?;
    // What the user sees masked on this record is not shown by the walk either.
    let owns_read = super::owns(conn, &user, &old.draft)?;
    let hidden =
        |f: &crate::schema::Field| !reveal && policy.masks(e, f) && policy.applies(owns_read);
    let mut new = old.draft.clone();
    let mut given = Vec::new();
    super::read_flags(conn, e, sub, &mut new, &mut given)?;
    for name in sub.get_many::<String>("unset").into_iter().flatten() {
        let f = e.field(name)?;
        if f.read_only {
            return Err(Error::usage(format!(
                "{} {} is set by crm and cannot be changed",
                e.name, f.name
            )));
        }
        if given.contains(&f.name) {
            return Err(Error::usage(format!(
                "--{} and --unset {} contradict each other",
                f.flag(),
                f.name
            )));
        }
        new.set(f.name, Value::Null);
        given.push(f.name);
    }
    let walked = given.is_empty();
    if walked {
        if !interactive {
            return Err(Error::usage("nothing to change").hint(format!(
                "pass field flags, see `crm edit {} --help`",
                e.name
            )));
        }
        if !quiet {
            crate::output::eprint_line(&format!(
                "editing {} {id}: Enter keeps the value in [brackets], {} clears it, Ctrl-C leaves without saving",
                e.name,
                crate::prompt::CLEAR
            ));
        }
        for f in e.writable() {
            if hidden(f)
                && let Value::Text(masked) = crate::mask::masked(f.kind, new.get(f.name))
            {
                if let Some(v) = crate::prompt::field_masked(conn, f, &masked)? {
                    new.set(f.name, v);
                }
                continue;
            }
            let current = records::show_value(f, new.get(f.name));
            let shown = match (f.kind, new.get(f.name)) {
                (crate::schema::Kind::Ref(t), Value::Integer(rid)) => {
                    let target = Entity::get(t)?;
                    super::display_row(
                        conn,
                        target,
                        *rid,
                        &[target.key.map_or(&crate::schema::SYSTEM_FIELDS[0], |k| {
                            target.field(k).expect("key")
                        })],
                    )
                    .ok()
                    .and_then(|r| r.first().map(|v| f.kind.format(v)))
                    .or(current)
                }
                _ => current,
            };
            let v = crate::prompt::field(conn, f, shown.as_deref())?;
            new.set(f.name, v);
        }
    }
    // Refused early, before any prompt, on the record as first read; judged again below on
    // the record as stored when the write lock is held.
    ctx.authorize(Action::Update, Some(e), owns_read)?;
    super::placement::authorize(ctx, Action::Update, &user, &new, Some(&old.draft))?;
    let db = ctx.db()?;
    let tx = db.write()?;
    // Read again under the write lock (BEGIN IMMEDIATE), so the change applies to the record
    // as stored now: rules derive their values from it and the audit's old values are its own.
    let current = records::must_get(&tx, e, id)?;
    let new = if walked {
        // The walk showed every writable field: it may not overwrite one changed meanwhile.
        // Derived fields (not shown) and `updated_at` are not the walk's concern.
        if let Some(f) = e
            .writable()
            .find(|f| old.draft.get(f.name) != current.draft.get(f.name))
        {
            return Err(Error::conflict(format!(
                "{} {id} changed since it was read ({} is now {})",
                e.name,
                f.name,
                if hidden(f) {
                    Some("masked".into())
                } else {
                    records::show_value(f, current.draft.get(f.name))
                }
                .unwrap_or_else(|| "empty".into())
            ))
            .hint("run the edit again"));
        }
        on_current(&current, &new, e.writable().map(|f| f.name))
    } else {
        // Flags change only the fields they name: edits of other fields never conflict, and
        // for the same field the last writer wins.
        on_current(&current, &new, given.iter().copied())
    };
    let allowed = |owns| crate::auth::allowed(user.role, Action::Update, Some(e), owns);
    let owns_stored = super::owns(&tx, &user, &current.draft)?;
    let owns_after = super::owns(&tx, &user, &new)?;
    if !allowed(owns_stored) || !allowed(owns_after) {
        drop(tx);
        let owns = if allowed(owns_stored) {
            owns_after
        } else {
            owns_stored
        };
        ctx.authorize(Action::Update, Some(e), owns)?;
        return Err(Error::conflict(format!(
            "{} {id} changed since it was read",
            e.name
        )));
    }
    let changed = write::update(&tx, &current, new, &user.name)?;
    tx.commit()?;
    ctx.out.msg(&if changed {
        format!("updated {} {id}", e.name)
    } else {
        format!("{} {id} unchanged", e.name)
    });
    if ctx.out.quiet {
        return Ok(());
    }
    super::print_record(ctx, e, id)
}

/// The stored record with the named fields taken from `edited`.
fn on_current<'a>(
    current: &records::Stored,
    edited: &records::Draft,
    fields: impl Iterator<Item = &'a str>,
) -> records::Draft {
    let mut d = current.draft.clone();
    for f in fields {
        d.set(f, edited.get(f).clone());
    }
    d
}
