//! `crm delete ENTITY ID… [--yes] [--cascade]`: deletes records in one transaction; the old
//! values stay in the audit log.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::Store;
use crate::db::records;
use crate::db::write;
use crate::error::{Error, Result};
use crate::schema::Entity;

pub fn command() -> Command {
    Command::new("delete")
        .about("Delete records (asks on a terminal; scripts pass --yes)")
        .arg(super::show::entity_arg())
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
        let conn = &ctx.db()?.store;
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
            let conn = &ctx.db()?.store;
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
    } else {
        // Refused for its references before the question, not after a "yes".
        let conn = &ctx.db()?.store;
        for &id in &ids {
            records::refuse_if_referenced(conn, e, id, &ids)?;
        }
    }
    if !m.get_flag("yes") {
        if !ctx.g.interactive {
            return Err(Error::usage("delete needs confirmation")
                .hint("pass --yes to delete without a terminal"));
        }
        let conn = &ctx.db()?.store;
        let mut names = Vec::new();
        for &id in &ids {
            names.push(describe(conn, e, id)?);
        }
        let also = match (cascade, ids.len()) {
            (false, _) => "",
            (true, 1) => " and what refers to it",
            (true, _) => " and what refers to them",
        };
        // One record per line: a long question wraps and the prompt redraws it twice.
        let question = if let [one] = names.as_slice() {
            format!("Delete {one}{also}?")
        } else {
            for n in &names {
                crate::output::eprint_line(&format!("  {n}"));
            }
            format!("Delete these {} records{also}?", names.len())
        };
        if !crate::prompt::confirm(&question)? {
            return Err(Error::usage("nothing was deleted (answered no)"));
        }
    }
    let db = ctx.db()?;
    let tx = db.write()?;
    for &id in &ids {
        write::delete(&tx, e, id, &user.name, cascade)?;
    }
    tx.commit()?;
    ctx.out.outcome(
        &format!("deleted {} {}", e.name, join(&ids)),
        &serde_json::json!({"entity": e.name, "deleted": ids, "cascade": cascade}),
    )
}

fn join(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `customer 3 C000003 北京测试有限公司`: what the question names, so the user sees which
/// record they are about to lose, not just its number.
fn describe(conn: &Store, e: &'static Entity, id: i64) -> Result<String> {
    let mut fields = Vec::new();
    if let Some(k) = e.key {
        fields.push(e.field(k)?);
    }
    if e.key != Some(e.title) {
        fields.push(e.field(e.title)?);
    }
    let row = super::display_row(conn, e, id, &fields)?;
    let mut words = vec![e.name.to_string(), id.to_string()];
    for (f, v) in fields.iter().zip(&row) {
        let text = f.kind.format(v);
        if !text.is_empty() {
            words.push(text);
        }
    }
    Ok(words.join(" "))
}
