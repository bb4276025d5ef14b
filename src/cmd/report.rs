//! `crm report NAME [--from D] [--to D] [--as-of D] [--owner U] [--by G] [--limit N]
//! [--section S]`: the named analyses (funnel, sales, customers, service, contracts,
//! activities), read in one snapshot; `customers --save` writes RFM segments.

use chrono::NaiveDate;
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::report::{self, Params, Window};
use crate::schema::Entity;

/// Each report: name, short help, the groupings `--by` takes.
const REPORTS: [(&str, &str, &str); 6] = [
    (
        "funnel",
        "Sales funnel: stages, conversion from stage history, win rate (销售漏斗)",
        "owner",
    ),
    (
        "sales",
        "Won deals, orders and payments per period or owner; forecast; top customers (销售分析)",
        "month, quarter, year, week, day, owner",
    ),
    (
        "customers",
        "Customers by status, level, industry, source, city, owner; new and churn per period; RFM segments (客户分析)",
        "month, quarter, year, week, day",
    ),
    (
        "service",
        "Tickets by status, type, priority; resolution times, breaches, complaints, satisfaction (服务分析)",
        "assignee, month, quarter, year, week, day",
    ),
    (
        "contracts",
        "Contracts by status, value, expiring in 30/60/90 days, renewals (合同统计)",
        "",
    ),
    (
        "activities",
        "Follow-ups done and overdue per owner per period; customers without follow-up (跟进分析)",
        "month, quarter, year, week, day",
    ),
];

pub fn command() -> Command {
    let mut c = Command::new("report")
        .about("Reports: funnel, sales, customers, service, contracts, activities")
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
    for (name, about, by) in REPORTS {
        let help = match name {
            "funnel" => report::funnel::HELP,
            "sales" => report::sales::HELP,
            "customers" => report::customers::HELP,
            "service" => report::service::HELP,
            "contracts" => report::contracts::HELP,
            _ => report::activities::HELP,
        };
        let mut sub = Command::new(name)
            .about(about)
            .long_about(format!("{about}.\n\n{help}"));
        for a in common_args(by) {
            sub = sub.arg(a);
        }
        if name == "customers" {
            sub = sub.arg(
                Arg::new("save")
                    .long("save")
                    .action(ArgAction::SetTrue)
                    .help("Write each customer's RFM segment into its `segment` field (admin, manager)"),
            );
        }
        c = c.subcommand(sub);
    }
    c
}

fn common_args(by: &str) -> Vec<Arg> {
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
                .help(format!("Group by: {by}")),
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
    ctx.authorize(Action::Report, None, None)?;
    // A report shows only what the role may read: each entity it reads goes through the one
    // door as `find` would (a refusal is audited, exit 7).
    let reads = crate::auth::report_reads(name)?;
    for entity in reads {
        ctx.authorize(Action::Read, Some(Entity::get(entity)?), None)
            .map_err(|e| e.hint(format!("report {name} reads {}", reads.join(", "))))?;
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
    let save = sub.try_get_one::<bool>("save").ok().flatten() == Some(&true);
    let user = if save {
        // Saving is a bulk write over many customers: the roles that may import.
        Some(ctx.authorize(Action::Import, Some(Entity::get("customer")?), None)?)
    } else {
        None
    };
    let db = ctx.db()?;
    crate::db::report::prepare_scans(&db.conn);
    let report = if let Some(user) = user {
        let tx = db.write()?;
        let (r, changed) = report::customers::run(&tx, &params, Some(&user.name))?;
        // A bad --section must not leave the segments saved: check it before committing.
        report::show::pick(&r, sub.get_one::<String>("section").map(String::as_str))?;
        tx.commit()?;
        ctx.out
            .msg(&format!("saved RFM segments: {changed} customers changed"));
        r
    } else {
        // One read transaction: every query of the report sees the same snapshot.
        let tx = db.conn.read()?;
        let r = match name {
            "funnel" => report::funnel::run(&tx, &params)?,
            "sales" => report::sales::run(&tx, &params)?,
            "customers" => report::customers::run(&tx, &params, None)?.0,
            "service" => report::service::run(&tx, &params)?,
            "contracts" => report::contracts::run(&tx, &params)?,
            "activities" => report::activities::run(&tx, &params)?,
            _ => unreachable!("clap only accepts the listed reports"),
        };
        tx.finish()?;
        r
    };
    report::show::print(
        ctx,
        &report,
        sub.get_one::<String>("section").map(String::as_str),
    )
}
