//! `crm pool sweep [--as-of DATE] [--dry-run]`: returns to the pool every owned customer that
//! breaks a rule (`pool.no_followup_days`, `pool.no_deal_days`) and is not exempt (its
//! level, an active contract, a won deal). Days count from the later of the last follow-up
//! and the day its owner got it, so a stale customer claimed yesterday is not returned today.
//! Idempotent: a second sweep on the same day finds nothing more to do.

use chrono::{NaiveDate, TimeZone};
use clap::ArgMatches;

use super::{customer, set_owner, setting};
use crate::auth::{Action, User};
use crate::context::Ctx;
use crate::db::records;
use crate::db::write::{AuditPolicy, Writer};
use crate::db::{Store, ownership};
use crate::error::{Error, Result};
use crate::output::Column;
use crate::schema::{Entity, Value};
use crate::settings::{as_bool, as_number};

/// A customer the sweep returns, and why.
struct Due {
    id: i64,
    code: Option<String>,
    name: Option<String>,
    owner: String,
    rule: &'static str,
    days: i64,
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let me = ctx.authorize(Action::Assign, Some(customer()), None)?;
    let as_of = match m.get_one::<String>("as_of") {
        Some(s) => crate::schema::kinds::parse_date(s)
            .map_err(|e| Error::invalid(format!("--as-of '{}': {e}", s.escape_debug())))?,
        None => crate::clock::today(),
    };
    let dry = m.get_flag("dry_run");
    let db = ctx.db()?;
    let due = if dry {
        due(&db.store, as_of)?
    } else {
        let tx = db.write()?;
        let due = due(&tx, as_of)?;
        for d in &due {
            let c = records::must_get(&tx, customer(), d.id)?;
            let why = format!("{} > {}", d.rule, setting(&tx, d.rule)?);
            set_owner(&tx, &me, &c, None, "sweep", Some(why))?;
        }
        tx.commit()?;
        due
    };
    let verb = if dry { "would return" } else { "returned" };
    ctx.out
        .msg(&format!("{verb} {} customers to the pool", due.len()));
    let rows: Vec<Vec<serde_json::Value>> = due
        .iter()
        .map(|d| {
            vec![
                d.id.into(),
                d.code.clone().into(),
                d.name.clone().into(),
                d.owner.clone().into(),
                d.rule.into(),
                d.days.into(),
            ]
        })
        .collect();
    let cols: Vec<Column> = Column::named(&["id", "code", "name", "owner", "rule", "days"]);
    ctx.out.rows(&cols, &rows)
}

/// The local calendar date of a moment.
fn date_of(t: i64) -> Option<NaiveDate> {
    chrono::Local
        .timestamp_opt(t, 0)
        .single()
        .map(|d| d.date_naive())
}

/// Every owned customer that breaks a rule on `as_of`, by id.
fn due(s: &Store, as_of: NaiveDate) -> Result<Vec<Due>> {
    let followup = i64::from(as_number(&setting(s, "pool.no_followup_days")?));
    let deal = i64::from(as_number(&setting(s, "pool.no_deal_days")?));
    if followup == 0 && deal == 0 {
        return Ok(Vec::new());
    }
    let levels: Vec<String> = setting(s, "pool.exempt_levels")?
        .split(',')
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let exempt_contract = as_bool(&setting(s, "pool.exempt_contract")?);
    let exempt_won = as_bool(&setting(s, "pool.exempt_won")?);
    // The start of the local day after the last one each rule may still leave alone: a
    // day later than exact, so the cut never drops a customer the exact test below returns.
    let cutoff = |n: i64| -> Option<i64> {
        let day = as_of.checked_sub_days(chrono::Days::new(u64::try_from(n).ok()?))?;
        let t = chrono::Local
            .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
            .earliest()?
            .timestamp();
        Some(t + 86_400)
    };
    let cut = ownership::Cutoffs {
        followup: (followup > 0).then(|| cutoff(followup).unwrap_or(i64::MAX)),
        deal: (deal > 0).then(|| cutoff(deal).unwrap_or(i64::MAX)),
    };
    let mut out = Vec::new();
    for c in ownership::candidates(s, &levels, exempt_contract, cut)? {
        let won = c.won;
        if won && exempt_won {
            continue;
        }
        let since = c.held_since.unwrap_or(c.created_at);
        let contacted = c.last_contacted_at.unwrap_or(since).max(since);
        let days = |t: i64| date_of(t).map_or(0, |d| (as_of - d).num_days());
        let broke = if followup > 0 && days(contacted) > followup {
            Some(("pool.no_followup_days", days(contacted)))
        } else if deal > 0 && !won && days(since) > deal {
            Some(("pool.no_deal_days", days(since)))
        } else {
            None
        };
        if let Some((rule, days)) = broke {
            out.push(Due {
                id: c.id,
                code: c.code,
                name: c.name,
                owner: c.owner,
                rule,
                days,
            });
        }
    }
    Ok(out)
}

/// `pool.open_work = pool`: the open opportunities and plans `from` owned under a customer
/// that went to the pool lose their owner too, each through the writer.
pub fn open_work_to_pool(
    tx: &Store,
    by: &User,
    customer_id: i64,
    from: &str,
    action: &'static str,
) -> Result<()> {
    for name in ["opportunity", "activity"] {
        let e = Entity::get(name)?;
        let ids = ownership::open_work(tx, e, customer_id, from)?;
        for id in ids {
            let old = records::must_get(tx, e, id)?;
            let mut new = old.draft.clone();
            new.set("owner", Value::Null);
            let detail = Some(format!("pool {action}: its customer went to the pool"));
            Writer::new(tx, e, AuditPolicy::PerField { detail }, &by.name)?
                .update(&old, new)?
                .map_err(|r| r.into_error(e))?;
        }
    }
    Ok(())
}
