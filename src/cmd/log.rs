//! `crm log customer ID "text" [--type call]`: records a follow-up in one line (done now,
//! owned by the current user). `log contact` and `log opportunity` fill in the customer.

use clap::{Arg, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::records::{self, Draft};
use crate::db::write;
use crate::error::{Error, Result};
use crate::schema::Entity;
use crate::schema::Value;

pub fn command() -> Command {
    let activity = Entity::get("activity").expect("registry has activity");
    let kind = activity.field("type").expect("activity has a type");
    Command::new("log")
        .about("Record a follow-up (跟进记录) in one line")
        .long_about("Record a follow-up in one line: `crm log customer C000001 \"回访：客户满意\" --type call`. The activity is done now (or --at), owned by you, and the customer's last_contacted_at follows. `log contact ID` and `log opportunity ID` record it against that contact or opportunity and its customer.")
        .arg(Arg::new("entity").required(true).value_name("ENTITY").value_parser(super::EntityParser(Some(&["customer", "contact", "opportunity"]))))
        .arg(Arg::new("id").required(true).value_name("ID").help("Record id, or its unique key"))
        .arg(Arg::new("text").required(true).value_name("TEXT").help("What happened: the activity's subject"))
        .arg(super::field_arg(kind))
        .arg(Arg::new("at").long("at").value_name("DATETIME").help("When it happened [default: now]"))
        .arg(Arg::new("notes").long("notes").value_name("TEXT").help("Longer notes"))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let ae = Entity::get("activity")?;
    ctx.authorize(Action::Create, Some(ae), None)?;
    let user = ctx.user()?;
    let conn = &ctx.db()?.store;
    let target = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    let id = records::resolve_target(conn, target, m.get_one::<String>("id").expect("required"))?;
    let rec = records::must_get(conn, target, id)?;
    let mut d = Draft::empty(ae);
    match target.name {
        "customer" => d.set("customer", Value::Integer(id)),
        other => {
            d.set("customer", rec.draft.get("customer").clone());
            d.set(other, Value::Integer(id));
        }
    }
    let text = m.get_one::<String>("text").expect("required");
    if text.trim().is_empty() {
        return Err(Error::usage("the follow-up text is empty")
            .hint("crm log customer ID \"what happened\""));
    }
    d.set(
        "subject",
        ae.field("subject")?
            .kind
            .parse(text)
            .map_err(Error::invalid)?,
    );
    for (flag, field) in [("type", "type"), ("at", "done_at"), ("notes", "notes")] {
        if let Some(text) = m.get_one::<String>(flag) {
            let v = records::parse_value(conn, ae.field(field)?, text)
                .map_err(|why| Error::invalid(format!("--{flag}: {why}")))?;
            d.set(field, v);
        }
    }
    if d.int("done_at").is_none() {
        d.set("done_at", Value::Integer(crate::clock::now()));
    }
    write::fill_defaults(conn, &mut d, &user.name)?;
    super::placement::authorize(ctx, Action::Create, &user, &d, None)?;
    let db = ctx.db()?;
    let tx = db.write()?;
    let aid = write::insert(&tx, d, &user.name)?;
    tx.commit()?;
    if ctx.out.quiet {
        return ctx.out.data(&format!("{aid}\n"));
    }
    ctx.out
        .msg(&format!("logged activity {aid} for {} {id}", target.name));
    super::print_record(ctx, ae, aid)
}
