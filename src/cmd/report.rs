//! `crm report NAME [--from D] [--to D] [--as-of D] [--owner U] [--by G] [--limit N]
//! [--section S]`: the named analyses (funnel, sales, customers, service, contracts,
//! activities), read in one snapshot; `customers --save` writes RFM segments.

use chrono::NaiveDate;
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::report::{self, Params, REPORTS, ReportDef, Window};
use crate::schema::Entity;

pub fn command() -> Command {
    let mut c = Command::new("report")
        .about(format!(
            "Reports: {}",
            REPORTS.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
        ))
        .long_about(
            "Reports over the whole database. Money is exact and given per currency (never \
             added across currencies: JSON rows carry a `currency` key); rates carry their \
             numerator and denominator in JSON. Tables get a bar chart when stdout is a terminal. --as-of fixes \
             \"today\" (the end of that day is \"now\") for reproducible output; --from/--to bound \
             the window (inclusive days; --to defaults to the as-of day; per-period reports default \
             to the last 12 periods). CSV rows start with their section's name.",
        )
        .subcommand_required(true)
        .arg_required_else_help(true);
    for r in REPORTS {
        let mut sub = Command::new(r.name)
            .about(r.about)
            .long_about(format!("{}.\n\n{}", r.about, r.help));
        for a in common_args(r.by, r.by_choice) {
            sub = sub.arg(a);
        }
        if let Some(save) = &r.save {
            sub = sub.arg(
                Arg::new("save")
                    .long("save")
                    .action(ArgAction::SetTrue)
                    .help(save.help),
            );
        }
        c = c.subcommand(sub);
    }
    c
}

fn common_args(by: &str, by_choice: &str) -> Vec<Arg> {
    let mut v = vec![
        Arg::new("from")
            .long("from")
            .value_name("DATE")
            .help("First day of the window (YYYY-MM-DD)"),
        Arg::new("to")
            .long("to")
            .value_name("DATE")
            .help("Last day of the window [default: the as-of day]"),
        Arg::new("as_of")
            .long("as-of")
            .value_name("DATE")
            .help("The day treated as today [default: today]"),
        Arg::new("owner")
            .long("owner")
            .value_name("USER")
            .help("Only records of this owner (tickets: assignee)"),
        Arg::new("limit")
            .long("limit")
            .value_name("N")
            .default_value("20")
            .value_parser(clap::value_parser!(i64).range(0..))
            .help("Longest list of values or records in a section"),
        Arg::new("section")
            .long("section")
            .value_name("NAME")
            .help("Print only this section"),
    ];
    if !by.is_empty() {
        v.push(
            Arg::new("by")
                .long("by")
                .value_name("GROUP")
                .help(if by_choice.is_empty() {
                    format!("Group by: {by}")
                } else {
                    format!("Group by: {by}, or a choice field of {by_choice} (built-in or custom)")
                }),
        );
    }
    v
}

fn date(m: &ArgMatches, name: &str, flag: &str) -> Result<Option<NaiveDate>> {
    m.get_one::<String>(name)
        .map(|s| {
            crate::schema::kinds::parse_date(s)
                .map_err(|why| Error::usage(format!("--{flag}: {why}")))
        })
        .transpose()
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let (name, sub) = m.subcommand().expect("a report is required");
    let def = ReportDef::get(name).expect("clap only accepts the registered reports");
    ctx.authorize(Action::Report, None, None)?;
    // A report shows only what the role may read: each entity it reads goes through the one
    // door as `find` would (a refusal is audited, exit 7).
    for entity in def.reads {
        ctx.authorize(Action::Read, Some(Entity::get(entity)?), None)
            .map_err(|e| e.hint(format!("report {name} reads {}", def.reads.join(", "))))?;
    }
    let params = Params {
        window: Window::new(
            date(sub, "from", "from")?,
            date(sub, "to", "to")?,
            date(sub, "as_of", "as-of")?,
        )?,
        owner: sub.get_one::<String>("owner").cloned(),
        by: sub.try_get_one::<String>("by").ok().flatten().cloned(),
        limit: sub.get_one::<i64>("limit").copied().unwrap_or(20),
    };
    if let (Some(by), false) = (params.by.as_deref(), def.by_choice.is_empty()) {
        // Opening the database loads its custom fields into the registry first.
        ctx.db()?;
        if let Some(f) = report::choice_by(def.by_choice, by)? {
            ctx.check_masked_group(Entity::get(def.by_choice)?, f)?;
        }
    }
    let save = def
        .save
        .as_ref()
        .filter(|_| sub.try_get_one::<bool>("save").ok().flatten() == Some(&true));
    let user = match save {
        // Saving is a bulk write: the roles that may import what it writes.
        Some(s) => Some(ctx.authorize(Action::Import, Some(Entity::get(s.writes)?), None)?),
        None => None,
    };
    let db = ctx.db()?;
    crate::db::report::prepare_scans(&db.store);
    let report = if let (Some(s), Some(user)) = (save, user) {
        let tx = db.write()?;
        let (r, said) = (s.run)(&tx, &params, &user.name)?;
        // A bad --section must not leave the segments saved: check it before committing.
        report::show::pick(&r, sub.get_one::<String>("section").map(String::as_str))?;
        tx.commit()?;
        ctx.out.msg(&said);
        r
    } else {
        // One read transaction: every query of the report sees the same snapshot.
        let tx = db.store.read()?;
        let r = (def.run)(&tx, &params)?;
        tx.finish()?;
        r
    };
    report::show::print(
        ctx,
        &report,
        sub.get_one::<String>("section").map(String::as_str),
    )
}
