//! `crm done activity ID [--at DATETIME] [--notes TEXT]`: completes a follow-up plan or task;
//! the customer's `last_contacted_at` follows.

use clap::{Arg, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::records;
use crate::db::write;
use crate::error::{Error, Result};
use crate::schema::Entity;
use crate::schema::Value;

pub fn command() -> Command {
    Command::new("done")
        .about("Complete a follow-up plan or task (跟进计划)")
        .arg(
            Arg::new("entity")
                .required(true)
                .value_name("ENTITY")
                .value_parser(super::EntityParser(Some(&["activity"]))),
        )
        .arg(
            Arg::new("id")
                .required(true)
                .value_name("ID")
                .help("Activity id"),
        )
        .arg(
            Arg::new("at")
                .long("at")
                .value_name("DATETIME")
                .help("When it was done [default: now]"),
        )
        .arg(
            Arg::new("notes")
                .long("notes")
                .value_name("TEXT")
                .help("The outcome, stored in notes"),
        )
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let e = Entity::get("activity")?;
    ctx.authorize(Action::Update, Some(e), None)?;
    let user = ctx.user()?;
    let conn = &ctx.db()?.store;
    let id = records::resolve_target(conn, e, m.get_one::<String>("id").expect("required"))?;
    let old = records::must_get(conn, e, id)?;
    let owns = super::owns(conn, &user, &old.draft)?;
    ctx.authorize(Action::Update, Some(e), owns)?;
    let conn = &ctx.db()?.store;
    let done = old.draft.get("done_at");
    if *done != Value::Null {
        ctx.out.msg(&format!(
            "activity {id} was already done at {}",
            e.field("done_at")?.kind.format(done)
        ));
        // A script gets the record either way, as after a first `done`.
        if ctx.out.format == crate::output::Format::Json {
            return super::print_record(ctx, e, id);
        }
        return Ok(());
    }
    let mut new = old.draft.clone();
    let at = match m.get_one::<String>("at") {
        Some(t) => records::parse_value(conn, e.field("done_at")?, t)
            .map_err(|why| Error::invalid(format!("--at: {why}")))?,
        None => Value::Integer(crate::clock::now()),
    };
    new.set("done_at", at);
    if let Some(n) = m.get_one::<String>("notes") {
        new.set(
            "notes",
            e.field("notes")?.kind.parse(n).map_err(Error::invalid)?,
        );
    }
    let db = ctx.db()?;
    let tx = db.write()?;
    // Another process may have completed it meanwhile: refuse rather than overwrite.
    let current = records::must_get(&tx, e, id)?;
    if current.draft != old.draft {
        return Err(
            Error::conflict(format!("activity {id} changed since it was read"))
                .hint("run the command again"),
        );
    }
    write::update(&tx, &old, new, &user.name)?;
    tx.commit()?;
    ctx.out.msg(&format!("activity {id} done"));
    if ctx.out.quiet {
        return Ok(());
    }
    super::print_record(ctx, e, id)
}
