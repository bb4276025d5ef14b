//! `crm convert lead ID [--customer C] [--opportunity NAME [--amount N]]`: the lead becomes a
//! customer (or joins the existing one it matches by name, phone or email), a contact and
//! optionally an opportunity, and is marked converted — in one audited transaction.

use clap::{Arg, ArgMatches, Command};
use serde_json::json;

use super::plan::{build, matches};
use super::{audit_convert, ids_where};
use crate::auth::Action;
use crate::context::Ctx;
use crate::db::Store;
use crate::db::records;
use crate::db::write;
use crate::error::{Error, Result};
use crate::output::Column;
use crate::schema::Entity;
use crate::schema::Value;

pub fn command() -> Command {
    Command::new("lead")
        .about("Turn a lead into a customer, a contact and optionally an opportunity")
        .long_about("Turn a lead into a customer, a contact and optionally an opportunity, and mark it converted. An existing customer whose name equals the lead's company (or name), or whose phone or email (or a contact's) equals the lead's, is linked instead of creating a duplicate; crm says which and why. When several customers match, pick one with --customer.")
        .arg(Arg::new("id").required(true).value_name("ID").help("Lead id"))
        .arg(Arg::new("customer").long("customer").value_name("CUSTOMER").help("Link to this customer (id or code) instead of matching"))
        .arg(Arg::new("opportunity").long("opportunity").value_name("NAME").help("Also create an opportunity with this name"))
        .arg(Arg::new("amount").long("amount").value_name("N").requires("opportunity").help("The opportunity's amount"))
}

fn key_of(conn: &Store, id: i64) -> Result<String> {
    let c = records::must_get(conn, Entity::get("customer")?, id)?;
    Ok(format!(
        "{} {}",
        c.draft.text("code").unwrap_or_default(),
        c.draft.text("name").unwrap_or_default()
    ))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let (le, ce, ke) = (
        Entity::get("lead")?,
        Entity::get("customer")?,
        Entity::get("contact")?,
    );
    ctx.authorize(Action::Update, Some(le), None)?;
    let user = ctx.user()?;
    let conn = &ctx.db()?.store;
    let id = records::resolve_target(conn, le, m.get_one::<String>("id").expect("required"))?;
    let lead = records::must_get(conn, le, id)?;
    match lead.draft.text("status") {
        Some("converted") => {
            return Err(Error::conflict(format!("lead {id} is already converted")));
        }
        Some("disqualified") => {
            return Err(
                Error::invalid(format!("lead {id} is disqualified")).hint(format!(
                    "requalify it first: crm edit lead {id} --status qualified"
                )),
            );
        }
        _ => {}
    }
    let owner = lead.draft.get("owner").clone();
    let (existing, why) = match m.get_one::<String>("customer") {
        Some(c) => (
            Some(records::resolve_target(conn, ce, c)?),
            vec!["--customer"],
        ),
        None => match matches(conn, &lead.draft)?.as_slice() {
            [] => (None, vec![]),
            [(c, why)] => (Some(*c), why.clone()),
            many => {
                let list: Vec<String> = many
                    .iter()
                    .map(|(c, w)| Ok(format!("{} ({})", key_of(conn, *c)?, w.join(", "))))
                    .collect::<Result<_>>()?;
                return Err(Error::conflict(format!(
                    "lead {id} matches several customers: {}",
                    list.join("; ")
                ))
                .hint("pass --customer CODE to choose one"));
            }
        },
    };
    let plan = build(conn, &lead, existing, &owner, m, &user.name)?;
    for d in plan.drafts() {
        super::super::placement::authorize(ctx, Action::Create, &user, d, None)?;
    }
    let owns = super::super::owns(&ctx.db()?.store, &user, &lead.draft)?;
    ctx.authorize(Action::Update, Some(le), owns)?;
    let db = ctx.db()?;
    let tx = db.write()?;
    // Another process may have converted or changed the lead meanwhile: refuse, not repeat.
    if records::must_get(&tx, le, id)?.draft != lead.draft {
        return Err(
            Error::conflict(format!("lead {id} changed since it was read"))
                .hint("run the command again"),
        );
    }
    let customer = match existing {
        Some(c) => c,
        None => write::insert(
            &tx,
            plan.customer
                .expect("build plans a customer when none matched"),
            &user.name,
        )?,
    };
    // The same person already on file at that customer is kept, not added twice.
    let same_name = ids_where(&tx, ke, "customer", Value::Integer(customer))?
        .into_iter()
        .find(|k| {
            records::get(&tx, ke, *k)
                .ok()
                .flatten()
                .is_some_and(|k| k.draft.text("name") == lead.draft.text("name"))
        });
    let contact = if let Some(k) = same_name {
        (k, false)
    } else {
        let mut d = plan.contact;
        d.set("customer", Value::Integer(customer));
        (write::insert(&tx, d, &user.name)?, true)
    };
    let opportunity = match plan.opportunity {
        Some(mut d) => {
            d.set("customer", Value::Integer(customer));
            Some(write::insert(&tx, d, &user.name)?)
        }
        None => None,
    };
    let mut converted = lead.draft.clone();
    converted.set("status", Value::Text("converted".into()));
    write::update(&tx, &lead, converted, &user.name)?;
    let detail = format!(
        "customer {customer} ({}), contact {}, opportunity {}",
        if existing.is_some() {
            "linked"
        } else {
            "created"
        },
        contact.0,
        opportunity.map_or("none".into(), |o| o.to_string())
    );
    audit_convert(&tx, &user.name, le, id, detail)?;
    tx.commit()?;
    let conn = &ctx.db()?.store;
    let shown = key_of(conn, customer)?;
    let code = records::must_get(conn, ce, customer)?
        .draft
        .text("code")
        .unwrap_or_default()
        .to_string();
    ctx.out.msg(&match existing {
        Some(_) => format!(
            "linked lead {id} to the existing customer {shown} (matched by {})",
            why.join(", ")
        ),
        None => format!("created customer {shown}"),
    });
    ctx.out.msg(&if contact.1 {
        format!("created contact {}", contact.0)
    } else {
        format!("kept the existing contact {}", contact.0)
    });
    if let Some(o) = opportunity {
        ctx.out.msg(&format!("created opportunity {o}"));
    }
    ctx.out.msg(&format!("lead {id} converted"));
    if ctx.out.quiet {
        return ctx.out.data(&format!("{customer}\n"));
    }
    let keys = [
        "lead",
        "customer",
        "customer_created",
        "matched_by",
        "contact",
        "contact_created",
        "opportunity",
    ];
    let values = vec![
        json!(id),
        json!(code),
        json!(existing.is_none()),
        json!(why.join(",")),
        json!(contact.0),
        json!(contact.1),
        json!(opportunity),
    ];
    let columns: Vec<Column> = keys
        .iter()
        .map(|k| Column {
            key: (*k).into(),
            header: (*k).into(),
        })
        .collect();
    ctx.out.record(&columns, &values)
}
