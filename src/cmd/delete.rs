//! `crm delete ENTITY ID… [--yes] [--cascade]`: deletes records in one transaction; the old
//! values stay in the audit log.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::records;
use crate::error::{Error, Result};
use crate::schema::Entity;

pub fn command() -> Command {
    Command::new("delete")
        .about("Delete records (asks on a terminal; scripts pass --yes)")
        .arg(Arg::new("entity").required(true).value_name("ENTITY"))
        .arg(
            Arg::new("ids")
                .required(true)
                .num_args(1..)
                .value_name("ID")
                .help("Ids or unique keys"),
        )
        .arg(super::yes_arg())
        .arg(
            Arg::new("cascade")
                .long("cascade")
                .action(ArgAction::SetTrue)
                .help("Also delete the records that refer to these"),
        )
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let e = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    ctx.authorize(Action::Delete, Some(e), None)?;
    let user = ctx.user()?;
    let mut ids = Vec::new();
    for t in m.get_many::<String>("ids").into_iter().flatten() {
        let conn = &ctx.db()?.conn;
        let id = records::resolve_target(conn, e, t)?;
        let rec = records::must_get(conn, e, id)?;
        let owns = super::owns(conn, &user, &rec.draft)?;
        ctx.authorize(Action::Delete, Some(e), owns)?;
        if !ids.contains(&id) {
            ids.push(id); // `delete customer 3 C000003` names one record twice
        }
    }
    let cascade = m.get_flag("cascade");
    if cascade {
        // What --cascade takes along must be the user's to delete too (a sales user may not
        // remove another's opportunity by deleting the customer).
        for &id in &ids {
            let conn = &ctx.db()?.conn;
            let mut checks = Vec::new();
            for (other, rid) in records::cascade_closure(conn, e, id)? {
                if let Some(rec) = records::get(conn, other, rid)? {
                    checks.push((other, super::owns(conn, &user, &rec.draft)?));
                }
            }
            for (other, owns) in checks {
                ctx.authorize(Action::Delete, Some(other), owns)?;
            }
        }
    }
    if !m.get_flag("yes") {
        if !ctx.g.interactive {
            return Err(Error::usage("delete needs confirmation")
                .hint("pass --yes to delete without a terminal"));
        }
        if !crate::prompt::confirm(&format!(
            "Delete {} {}?",
            e.name,
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))? {
            return Err(Error::usage("not deleted"));
        }
    }
    let db = ctx.db()?;
    let tx = db.write()?;
    for &id in &ids {
        records::delete(&tx, e, id, &user.name, cascade)?;
    }
    tx.commit()?;
    ctx.out.msg(&format!(
        "deleted {} {}",
        e.name,
        ids.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}
