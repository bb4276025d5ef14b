//! The customers' ownership events: every change of a customer's owner (claim, release,
//! assign, sweep, edit, import), append-only. The pool's limits are counted from them, never
//! from a cache. The same SQL on both engines.

use std::fmt::Write as _;

use crate::db::Store;
use crate::error::Result;
use crate::schema::{Entity, Value};
use crate::vals;

/// One change of owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub customer_id: i64,
    pub at: i64,
    pub user: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub action: String,
    pub reason: Option<String>,
}

/// Appends an event (inside the write transaction of the change it records).
pub fn record(s: &Store, e: &Event) -> Result<()> {
    s.execute(
        "INSERT INTO ownership (customer_id, at, \"user\", from_owner, to_owner, action, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
        vals![
            e.customer_id,
            e.at,
            e.user.as_str(),
            e.from.as_deref(),
            e.to.as_deref(),
            e.action.as_str(),
            e.reason.as_deref()
        ],
    )?;
    Ok(())
}

/// A customer's events, oldest first.
pub fn of_customer(s: &Store, customer: i64) -> Result<Vec<Event>> {
    s.query(
        "SELECT customer_id, at, \"user\", from_owner, to_owner, action, reason FROM ownership WHERE customer_id = ? ORDER BY at, id",
        vals![customer],
    )?
    .into_iter()
    .map(|r| {
        Ok(Event {
            customer_id: r.get(0)?,
            at: r.get(1)?,
            user: r.get::<Option<String>>(2)?.unwrap_or_default(),
            from: r.get(3)?,
            to: r.get(4)?,
            action: r.get(5)?,
            reason: r.get(6)?,
        })
    })
    .collect()
}

/// How many customers `user` claimed from the pool in `[from, to)`.
pub fn claims_between(s: &Store, user: &str, from: i64, to: i64) -> Result<i64> {
    s.value(
        "SELECT COUNT(*) FROM ownership WHERE \"user\" = ? AND action = 'claim' AND at >= ? AND at < ?",
        vals![user, from, to],
    )
}

/// When `owner` last lost `customer` (released it, or had it taken back or reassigned).
pub fn last_lost(s: &Store, owner: &str, customer: i64) -> Result<Option<i64>> {
    s.value(
        "SELECT MAX(at) FROM ownership WHERE from_owner = ? AND customer_id = ?",
        vals![owner, customer],
    )
}

/// How many customers `owner` holds now (those with a won deal only when `count_won`).
pub fn held(s: &Store, owner: &str, count_won: bool) -> Result<i64> {
    let won = if count_won {
        ""
    } else {
        " AND NOT EXISTS (SELECT 1 FROM opportunity o WHERE o.customer = c.id AND o.stage = 'won')"
    };
    s.value(
        &format!("SELECT COUNT(*) FROM customer c WHERE c.owner = ?{won}"),
        vals![owner],
    )
}

/// An owned customer as the pool's sweep judges it.
pub struct Candidate {
    pub id: i64,
    pub code: Option<String>,
    pub name: Option<String>,
    pub owner: String,
    pub last_contacted_at: Option<i64>,
    pub created_at: i64,
    /// When its owner got it (their last ownership event), if recorded.
    pub held_since: Option<i64>,
    pub won: bool,
}

/// Where the sweep's rules could apply: a customer can break `pool.no_followup_days` only
/// if both its last follow-up (if any) and its creation lie before `followup`, and
/// `pool.no_deal_days` only if its creation lies before `deal` (its owner got it after it was
/// made). Unix seconds; None: the rule is off. The caller judges each candidate exactly.
#[derive(Debug, Clone, Copy)]
pub struct Cutoffs {
    pub followup: Option<i64>,
    pub deal: Option<i64>,
}

/// Every owned customer not exempt by level or by an active contract that `cut` leaves a
/// candidate, by id. The cut is two plain column tests, made before the look-ups of the
/// customer's ownership events, won deals and contracts: on a book worked daily only the
/// few near a rule's line pay for those.
pub fn candidates(
    s: &Store,
    exempt_levels: &[String],
    exempt_contract: bool,
    cut: Cutoffs,
) -> Result<Vec<Candidate>> {
    let mut sql = String::from(
        "SELECT c.id, c.code, c.name, c.owner, c.last_contacted_at, c.created_at, \
         (SELECT MAX(o.at) FROM ownership o WHERE o.customer_id = c.id AND o.to_owner = c.owner), \
         CASE WHEN EXISTS (SELECT 1 FROM opportunity p WHERE p.customer = c.id AND p.stage = 'won') THEN 1 ELSE 0 END \
         FROM customer c WHERE c.owner IS NOT NULL",
    );
    let mut params: Vec<Value> = Vec::new();
    let mut near = Vec::new();
    if let Some(t) = cut.followup {
        near.push(
            "(c.created_at < ? AND (c.last_contacted_at IS NULL OR c.last_contacted_at < ?))",
        );
        params.extend([Value::Integer(t), Value::Integer(t)]);
    }
    if let Some(t) = cut.deal {
        near.push("c.created_at < ?");
        params.push(Value::Integer(t));
    }
    if near.is_empty() {
        return Ok(Vec::new());
    }
    let _ = write!(sql, " AND ({})", near.join(" OR "));
    if !exempt_levels.is_empty() {
        let marks = vec!["?"; exempt_levels.len()].join(", ");
        let _ = write!(sql, " AND (c.level IS NULL OR c.level NOT IN ({marks}))");
        params.extend(exempt_levels.iter().cloned().map(Value::Text));
    }
    if exempt_contract {
        sql.push_str(
            " AND NOT EXISTS (SELECT 1 FROM contract k WHERE k.customer = c.id AND k.status = 'active')",
        );
    }
    sql.push_str(" ORDER BY c.id");
    s.query(&sql, &params)?
        .into_iter()
        .map(|r| {
            Ok(Candidate {
                id: r.get(0)?,
                code: r.get(1)?,
                name: r.get(2)?,
                owner: r.get(3)?,
                last_contacted_at: r.get(4)?,
                created_at: r.get(5)?,
                held_since: r.get(6)?,
                won: r.get::<i64>(7)? == 1,
            })
        })
        .collect()
}

/// The ids of `owner`'s open work under a customer: opportunities not won or lost, plans
/// not done.
pub fn open_work(s: &Store, e: &Entity, customer: i64, owner: &str) -> Result<Vec<i64>> {
    let still_open = match e.name {
        "opportunity" => "stage NOT IN ('won', 'lost')",
        "activity" => "done_at IS NULL",
        _ => return Ok(Vec::new()),
    };
    s.query(
        &format!(
            "SELECT id FROM {} WHERE customer = ? AND owner = ? AND {still_open} ORDER BY id",
            e.table()
        ),
        vals![customer, owner],
    )?
    .into_iter()
    .map(|r| r.get(0))
    .collect()
}

/// Runs `f`, a pool move (`claim` or `release`) by a user who may otherwise change only the
/// records they own. On `PostgreSQL` such a move is what the policies `<role>_claim` and
/// `<role>_release` let through, and only while the transaction-local setting
/// `crm.pool_move` names it: a stricter policy of a database administrator on ordinary
/// edits then stays in force, and the `pool_move` trigger checks that only the owner
/// changes, in the named direction (`migrate::postgres::security`).
pub fn with_pool_move<T>(s: &Store, action: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    if s.is_sqlite() {
        return f();
    }
    s.execute(
        "SELECT pg_catalog.set_config('crm.pool_move', ?, true)",
        vals![action],
    )?;
    let r = f();
    if r.is_ok() {
        s.execute(
            "SELECT pg_catalog.set_config('crm.pool_move', '', true)",
            vals![],
        )?;
    }
    r
}
