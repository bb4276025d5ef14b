//! `crm agenda [--days N] [--user U] [--as-of DATE]` (提醒与预警): overdue and due follow-ups,
//! open opportunities past their expected close, contracts ending soon, tickets past their
//! service time, customers without a follow-up for 30 days — grouped for a terminal, one
//! JSON object with an array per group for a cron job.

mod groups;
mod render;

use chrono::TimeZone;
use clap::{Arg, ArgMatches, Command};
use serde_json::{Value as J, json};

use crate::auth::{Action, Role};
use crate::context::Ctx;
use crate::db::Store;
use crate::error::{Error, Result};
use crate::schema::Entity;
use groups::AsOf;

type GroupFn = fn(&Store, &AsOf) -> Result<groups::Found>;

/// The groups: JSON key, entity, English and Chinese headings, the query, and the field the
/// group's "status" column shows.
const GROUPS: &[(&str, &str, &str, &str, GroupFn, &str)] = &[
    (
        "followups",
        "activity",
        "Follow-ups overdue and due today",
        "跟进提醒（逾期与今日到期）",
        groups::followups,
        "type",
    ),
    (
        "opportunities",
        "opportunity",
        "Open opportunities past expected close",
        "超期未成交的销售机会",
        groups::opportunities,
        "stage",
    ),
    (
        "contracts",
        "contract",
        "Contracts ending soon",
        "即将到期的合同",
        groups::contracts,
        "status",
    ),
    (
        "tickets",
        "ticket",
        "Tickets past their service time",
        "超时未解决的工单",
        groups::tickets,
        "status",
    ),
    (
        "customers",
        "customer",
        "Customers without a follow-up for 30 days",
        "30 天未跟进的客户",
        groups::customers,
        "status",
    ),
];

pub fn command() -> Command {
    Command::new("agenda")
        .about("What needs attention: due follow-ups, late deals, expiring contracts, late tickets")
        .long_about("What needs attention (提醒与预警): follow-up plans and tasks overdue or due today; open opportunities past their expected close; active contracts ending within --days; tickets open past their priority's service time (urgent 4h, high 1 day, normal 3 days, low 7 days); customers (not lost) without a follow-up for 30 days: the last follow-up (last_contacted_at) is over 30 days old, or there is none and the customer was added over 30 days ago — the same count as `crm report activities`. Sales and service users see their own records (service also unassigned tickets) unless --user names another user or `all`; others see everyone's.")
        .arg(Arg::new("days").long("days").value_name("N").default_value("30").value_parser(clap::value_parser!(i64).range(0..=3650)).help("Contracts ending within N days"))
        .arg(Arg::new("limit").long("limit").value_name("N").default_value("50").value_parser(clap::value_parser!(i64).range(0..)).help("List at most N records per group, the most pressing first (0: all)"))
        .arg(Arg::new("user").long("user").value_name("USER").help("Only this user's records, or `all`"))
        .arg(Arg::new("as-of").long("as-of").value_name("DATE").help("Compute the agenda as of this date (00:00) or date-time [default: now]"))
}

fn as_of(ctx: &Ctx, m: &ArgMatches, user: Option<String>) -> Result<AsOf> {
    let text = m.get_one::<String>("as-of");
    let midnight = |d: chrono::NaiveDate| {
        chrono::Local
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .earliest()
            .map_or(0, |t| t.timestamp())
    };
    let (moment, today) = match text {
        None => (crate::clock::now(), crate::clock::today()),
        Some(t) => {
            if let Ok(d) = crate::schema::kinds::parse_date(t) {
                (midnight(d), d)
            } else {
                let m = crate::schema::kinds::parse_datetime(t)
                    .map_err(|why| Error::usage(format!("--as-of: {why}")))?;
                let d = chrono::Local
                    .timestamp_opt(m, 0)
                    .single()
                    .map_or(crate::clock::today(), |d| d.date_naive());
                (m, d)
            }
        }
    };
    Ok(AsOf {
        moment,
        today,
        day_end: midnight(today + chrono::Duration::days(1)),
        days: *m.get_one::<i64>("days").expect("has a default"),
        limit: *m.get_one::<i64>("limit").expect("has a default"),
        user,
        zh: ctx.g.zh,
    })
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    // Each group is shown only to roles that may read its entity (service: tickets, customers).
    let me = ctx.user()?;
    let user = match m.get_one::<String>("user").map(String::as_str) {
        Some("all") => None,
        Some(u) => {
            let f = Entity::get("activity")?.field("owner")?;
            crate::db::records::parse_value(&ctx.db()?.store, f, u).map_err(Error::not_found)?;
            Some(u.to_string())
        }
        None if matches!(me.role, Role::Sales | Role::Service) => Some(me.name.clone()),
        None => None,
    };
    let at = as_of(ctx, m, user)?;
    let conn = &ctx.db()?.store;
    let mut names = groups::Names::default();
    let mut out: Vec<render::Group> = Vec::new();
    for (key, entity, en, zh, query, _) in GROUPS {
        if !crate::auth::allowed(me.role, Action::Read, Some(Entity::get(entity)?), None) {
            continue;
        }
        let mut rows = Vec::new();
        let found = query(conn, &at)?;
        for i in found.items {
            let (code, name) = match i.customer {
                Some(c) => {
                    let (code, name) = names.get(conn, c)?;
                    (json!(code), json!(name))
                }
                None => (J::Null, J::Null),
            };
            rows.push(vec![
                json!(i.id),
                json!(i.number),
                json!(i.subject),
                code,
                name,
                json!(i.owner),
                json!(i.status),
                json!(i.when),
                json!(i.detail),
            ]);
        }
        out.push((key, if at.zh { zh } else { en }, found.total, rows));
    }
    render::print(ctx, &at, &out)
}

#[cfg(test)]
mod tests {
    use crate::schema::Entity;

    #[test]
    fn every_group_names_an_entity_and_its_status_field() {
        for (key, entity, _, _, _, field) in super::GROUPS {
            let e = Entity::get(entity).unwrap_or_else(|_| panic!("{key}: no entity {entity}"));
            assert!(
                e.field(field).is_ok(),
                "{key}: {entity} has no field {field}"
            );
        }
    }
}
