//! `crm pool`: the public customer pool (公海). A customer with no owner is in it; sales
//! claim from it, owners release to it, managers assign and sweep by the rules of
//! `crm config` (`pool.*`). Every change of owner goes through the one writer, audited and
//! recorded as an ownership event (`db::ownership`), from which the limits are counted.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::{Action, User};
use crate::context::Ctx;
use crate::db::records::{self, Stored};
use crate::db::write::{AuditPolicy, Writer};
use crate::db::{Store, ownership, settings as stored};
use crate::error::{Error, Result};
use crate::schema::{Entity, Value};
use crate::settings::{SETTINGS, as_bool, as_number};

mod rules;
mod sweep;

const DAY: i64 = 86_400;

pub fn command() -> Command {
    let customers = || {
        Arg::new("customers")
            .required(true)
            .num_args(1..)
            .value_name("CUSTOMER")
            .help("Customer ids or codes")
    };
    Command::new("pool")
        .about("The customer pool (公海): list, claim, release, assign, sweep")
        .long_about("The customer pool (公海): customers with no owner. Without a subcommand, lists them (TEXT and --where as in `crm find`). Sales claim customers from it and release their own to it; managers and admins assign customers and sweep back those that break the rules (`crm pool rules`, set with `crm config`).")
        .args_conflicts_with_subcommands(true)
        .arg(Arg::new("text").value_name("TEXT").help("Substring to search for, as in `crm find`"))
        .arg(Arg::new("where").long("where").short('w').value_name("EXPR").action(ArgAction::Append).help("Filter, e.g. level=A, city~深圳"))
        .arg(Arg::new("sort").long("sort").value_name("FIELD[:desc]").help("Sort by fields, comma-separated"))
        .arg(Arg::new("limit").long("limit").value_name("N").value_parser(clap::value_parser!(i64).range(0..)))
        .arg(Arg::new("offset").long("offset").value_name("N").value_parser(clap::value_parser!(i64).range(0..)))
        .arg(Arg::new("columns").long("columns").value_name("A,B").help("Exactly these columns, in this order"))
        .arg(Arg::new("count").long("count").action(ArgAction::SetTrue).help("Print only the number of customers in the pool"))
        .subcommand(Command::new("claim").about("Become the owner of customers in the pool").arg(customers()))
        .subcommand(
            Command::new("release")
                .about("Give customers back to the pool")
                .arg(customers())
                .arg(Arg::new("reason").long("reason").value_name("TEXT").help("Why (kept in the ownership history)")),
        )
        .subcommand(
            Command::new("assign")
                .about("Give customers to a user (manager, admin)")
                .arg(customers())
                .arg(Arg::new("to").long("to").required(true).value_name("USER"))
                .arg(Arg::new("reason").long("reason").value_name("TEXT").help("Why (kept in the ownership history)")),
        )
        .subcommand(
            Command::new("sweep")
                .about("Return every customer that breaks a rule to the pool (manager, admin; for cron)")
                .arg(Arg::new("as_of").long("as-of").value_name("DATE").help("Judge the rules as on this day [default: today]"))
                .arg(Arg::new("dry_run").long("dry-run").action(ArgAction::SetTrue).help("Show what would return, change nothing")),
        )
        .subcommand(Command::new("rules").about("The pool's rules as now set"))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    match m.subcommand() {
        Some(("claim", s)) => claim(ctx, s),
        Some(("release", s)) => release(ctx, s),
        Some(("assign", s)) => assign(ctx, s),
        Some(("sweep", s)) => sweep::run(ctx, s),
        Some(("rules", _)) => rules::run(ctx),
        _ => list(ctx, m),
    }
}

fn customer() -> &'static Entity {
    Entity::get("customer").expect("customer is registered")
}

fn list(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let e = customer();
    ctx.authorize(Action::Claim, Some(e), None)?;
    let mut q = super::find::query_from(ctx, e, m)?;
    q.filters.push(crate::db::query::parse_where(
        &ctx.db()?.store,
        e,
        "owner=",
    )?);
    super::find::list(ctx, e, &q, m)
}

/// The customers named, each once, in the order given (exit 3 for one that is not there).
fn named(conn: &Store, m: &ArgMatches) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for text in m.get_many::<String>("customers").into_iter().flatten() {
        let id = records::resolve_target(conn, customer(), text)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A customer as the messages name it: its code, else `customer ID`.
fn label(c: &Stored) -> String {
    c.draft
        .text("code")
        .map_or_else(|| format!("customer {}", c.id), str::to_string)
}

/// A rule's refusal: exit 5 naming the setting.
fn broken(key: &str, why: &str) -> Error {
    Error::conflict(format!("{why} (rule {key})"))
        .hint("`crm pool rules` shows the rules; an admin changes them with `crm config set`")
}

fn setting(conn: &Store, key: &str) -> Result<String> {
    stored::get(conn, key)
}

/// Refuses giving `n` more customers to `to` when the holding limit forbids it.
fn check_holding(conn: &Store, to: &str, n: i64) -> Result<()> {
    let max = i64::from(as_number(&setting(conn, "pool.max_per_user")?));
    if max == 0 {
        return Ok(());
    }
    let held = ownership::held(conn, to, as_bool(&setting(conn, "pool.count_won")?))?;
    if held + n > max {
        return Err(broken(
            "pool.max_per_user",
            &format!("{to} holds {held} customers and may hold at most {max}"),
        ));
    }
    Ok(())
}

/// Sets the owner of `c` (and, per `pool.open_work`, of its open work when it goes to the
/// pool) through the one writer, recorded as `action`.
fn set_owner(
    tx: &Store,
    by: &User,
    c: &Stored,
    to: Option<&str>,
    action: &'static str,
    reason: Option<String>,
) -> Result<()> {
    let e = customer();
    let mut new = c.draft.clone();
    new.set(
        "owner",
        to.map_or(Value::Null, |t| Value::Text(t.to_string())),
    );
    let detail = Some(format!("pool {action}"));
    let write = || {
        Writer::new(tx, e, AuditPolicy::PerField { detail }, &by.name)?
            .owner_event(action, reason)
            .update(c, new)?
            .map_err(|r| r.into_error(e))?;
        let open_work_goes = to.is_none() && setting(tx, "pool.open_work")? == "pool";
        if let (true, Some(from)) = (open_work_goes, c.draft.text("owner")) {
            sweep::open_work_to_pool(tx, by, c.id, from, action)?;
        }
        Ok(())
    };
    // Who may edit only their own customers moves one in or out of the pool by the pool's
    // own rules, not by the rights of an edit.
    if crate::roles::allowed(by.role, Action::Update, Some(e), Some(false)) {
        write()
    } else {
        ownership::with_pool_move(tx, action, write)
    }
}

fn claim(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let me = ctx.authorize(Action::Claim, Some(customer()), None)?;
    let db = ctx.db()?;
    let tx = db.write()?;
    let ids = named(&tx, m)?;
    let now = crate::clock::now();
    let cool = i64::from(as_number(&setting(&tx, "pool.reclaim_after_days")?));
    let mut claimed = Vec::new();
    for id in &ids {
        let c = records::must_get(&tx, customer(), *id)?;
        if let Some(owner) = c.draft.text("owner") {
            let whose = if owner == me.name { "yours" } else { owner };
            return Err(Error::conflict(format!(
                "{} is not in the pool (owner: {whose})",
                label(&c)
            )));
        }
        let lost = if cool > 0 {
            ownership::last_lost(&tx, &me.name, *id)?
        } else {
            None
        };
        if let Some(lost) = lost.filter(|t| now < t + cool * DAY) {
            return Err(broken(
                "pool.reclaim_after_days",
                &format!(
                    "{} left you on {}: you may claim it again from {}",
                    label(&c),
                    crate::schema::kinds::format_datetime(lost),
                    crate::schema::kinds::format_datetime(lost + cool * DAY)
                ),
            ));
        }
        claimed.push(c);
    }
    let n = i64::try_from(claimed.len()).expect("a count");
    let daily = i64::from(as_number(&setting(&tx, "pool.daily_claims")?));
    if daily > 0 {
        let today = crate::period::midnight(crate::clock::today());
        let done = ownership::claims_between(&tx, &me.name, today, today + DAY)?;
        if done + n > daily {
            return Err(broken(
                "pool.daily_claims",
                &format!(
                    "{} claimed {done} customers today and may claim {daily} a day",
                    me.name
                ),
            ));
        }
    }
    check_holding(&tx, &me.name, n)?;
    for c in &claimed {
        set_owner(&tx, &me, c, Some(&me.name), "claim", None)?;
    }
    tx.commit()?;
    outcome(ctx, "claimed", &claimed, Some(&me.name))
}

fn release(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let me = ctx.authorize(Action::Claim, Some(customer()), None)?;
    let reason = m.get_one::<String>("reason").cloned();
    let db = ctx.db()?;
    let tx = db.write()?;
    let ids = named(&tx, m)?;
    let mut released = Vec::new();
    for id in ids {
        let c = records::must_get(&tx, customer(), id)?;
        let Some(owner) = c.draft.text("owner") else {
            return Err(Error::conflict(format!(
                "{} is already in the pool",
                label(&c)
            )));
        };
        if !crate::auth::allowed(
            me.role,
            Action::Release,
            Some(customer()),
            Some(owner == me.name),
        ) {
            drop(tx);
            ctx.authorize(Action::Release, Some(customer()), Some(false))?;
            unreachable!("authorize refuses what allowed refused");
        }
        released.push(c);
    }
    for c in &released {
        set_owner(&tx, &me, c, None, "release", reason.clone())?;
    }
    tx.commit()?;
    outcome(ctx, "released", &released, None)
}

fn assign(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let me = ctx.authorize(Action::Assign, Some(customer()), None)?;
    let reason = m.get_one::<String>("reason").cloned();
    let db = ctx.db()?;
    let tx = db.write()?;
    let to_text = m.get_one::<String>("to").expect("required");
    let (to_id, to) = crate::auth::names::find(&tx, to_text)?
        .ok_or_else(|| Error::not_found(format!("no user named '{}'", to_text.escape_debug())))?;
    if crate::db::users::role_and_disabled(&tx, to_id)?.1 {
        return Err(Error::conflict(format!("user '{to}' is disabled")));
    }
    let mut moving = Vec::new();
    for id in named(&tx, m)? {
        let c = records::must_get(&tx, customer(), id)?;
        if c.draft.text("owner") != Some(to.as_str()) {
            moving.push(c);
        }
    }
    check_holding(&tx, &to, i64::try_from(moving.len()).expect("a count"))?;
    for c in &moving {
        set_owner(&tx, &me, c, Some(&to), "assign", reason.clone())?;
    }
    tx.commit()?;
    outcome(ctx, "assigned", &moving, Some(&to))
}

/// Says what changed: a line, or under `--format json` the customers with their new owner.
fn outcome(ctx: &mut Ctx, verb: &str, cs: &[Stored], to: Option<&str>) -> Result<()> {
    let names: Vec<String> = cs.iter().map(label).collect();
    let text = match (cs.len(), to) {
        (0, _) => format!("nothing {verb}: every customer named already has that owner"),
        (_, Some(to)) if verb != "claimed" => format!("{verb} to {to}: {}", names.join(", ")),
        _ => format!("{verb} {}", names.join(", ")),
    };
    let json: Vec<serde_json::Value> = cs
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id,
                "code": c.draft.text("code"),
                "name": c.draft.text("name"),
                "owner": to,
            })
        })
        .collect();
    ctx.out.outcome(&text, &serde_json::Value::Array(json))
}

/// Every pool setting with its value, for `pool rules` and `pool sweep`.
fn pool_settings(conn: &Store) -> Result<Vec<(&'static str, String)>> {
    SETTINGS
        .iter()
        .filter(|s| s.key.starts_with("pool."))
        .map(|s| Ok((s.key, stored::value(conn, s)?)))
        .collect()
}
