//! The agenda's groups: each one a query through the generic query builder (typed filters,
//! bound values) and a line of plain words per record saying why it is on the agenda.

use std::collections::HashMap;

use crate::db::Store;
use crate::schema::Value;

use crate::db::query::{Filter, Op, Query};
use crate::db::records::{self, Draft};
use crate::error::Result;
use crate::schema::{Entity, SYSTEM_FIELDS};

/// The moment the agenda is computed for.
pub struct AsOf {
    /// Unix seconds.
    pub moment: i64,
    /// The local date of that moment.
    pub today: chrono::NaiveDate,
    /// Unix seconds of the next local midnight.
    pub day_end: i64,
    pub days: i64,
    /// Most records listed per group (0: all); the total is counted either way.
    pub limit: i64,
    pub user: Option<String>,
    pub zh: bool,
}

impl AsOf {
    fn date(&self, days: i64) -> String {
        (self.today + chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    }
    /// Calendar days from a moment's local date to the agenda's day.
    fn days_since(&self, t: i64) -> i64 {
        use chrono::TimeZone;
        chrono::Local
            .timestamp_opt(t, 0)
            .single()
            .map_or(0, |d| (self.today - d.date_naive()).num_days())
    }
    fn say(&self, en: String, zh: String) -> String {
        if self.zh { zh } else { en }
    }
}

/// One record on the agenda, in the shape every group shares.
pub struct Item {
    pub id: i64,
    pub number: Option<String>,
    pub subject: String,
    pub customer: Option<i64>,
    pub owner: Option<String>,
    pub status: Option<String>,
    pub when: String,
    pub detail: String,
}

fn filter(e: &'static Entity, field: &str, op: Op, value: Value) -> Result<Filter> {
    Ok(Filter {
        field: e.field(field)?,
        op,
        value,
    })
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// A group's records (at most the limit) and how many there are in all.
#[derive(Default)]
pub struct Found {
    pub items: Vec<Item>,
    pub total: i64,
}

impl Found {
    /// Merges sorted parts: keeps the first `limit` by their sort key.
    fn merged(mut parts: Vec<(i64, Item)>, total: i64, limit: i64) -> Found {
        parts.sort_by_key(|(t, i)| (*t, i.id));
        if limit > 0 {
            parts.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        Found {
            items: parts.into_iter().map(|(_, i)| i).collect(),
            total,
        }
    }
}

/// The first matching records' raw values, sorted by `sort`, and the count of all matches.
fn find(
    conn: &Store,
    e: &'static Entity,
    filters: Vec<Filter>,
    sort: &str,
    at: &AsOf,
) -> Result<(Vec<(i64, Draft)>, i64)> {
    let mut q = Query::new(e);
    q.filters = filters;
    let total = crate::db::query::count(conn, &q)?;
    q.sort.push((e.field(sort)?, false));
    q.limit = (at.limit > 0).then_some(at.limit);
    let mut out = Vec::new();
    for row in crate::db::query::rows(conn, &q, &[&SYSTEM_FIELDS[0]])? {
        if let Some(Value::Integer(id)) = row.first() {
            out.push((*id, records::must_get(conn, e, *id)?.draft));
        }
    }
    Ok((out, total))
}

/// The entity's open records (as `show` defines them) that also match `f`.
fn open_and(e: &'static Entity, mut f: Vec<Filter>) -> Result<Vec<Filter>> {
    f.extend(crate::cmd::show::related::open_filters(e)?);
    Ok(f)
}

fn owned(e: &'static Entity, field: &str, at: &AsOf, mut f: Vec<Filter>) -> Result<Vec<Filter>> {
    if let Some(u) = &at.user {
        f.push(filter(e, field, Op::Eq, text(u))?);
    }
    Ok(f)
}

fn item(
    id: i64,
    d: &Draft,
    subject: &str,
    owner: &str,
    status: &str,
    when: &str,
    detail: String,
) -> Item {
    let e = d.entity;
    let show = |name: &str| {
        e.fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| records::show_value(f, d.get(name)))
    };
    Item {
        id,
        number: e.key.filter(|k| *k != subject).and_then(show),
        subject: show(subject).unwrap_or_default(),
        customer: d
            .entity
            .fields
            .iter()
            .any(|f| f.name == "customer")
            .then(|| d.int("customer"))
            .flatten(),
        owner: show(owner),
        status: show(status),
        when: show(when).unwrap_or_default(),
        detail,
    }
}

/// Follow-up plans and tasks not done and due by the end of the day.
pub fn followups(conn: &Store, at: &AsOf) -> Result<Found> {
    let e = Entity::get("activity")?;
    let f = owned(
        e,
        "owner",
        at,
        open_and(
            e,
            vec![filter(e, "due_at", Op::Lt, Value::Integer(at.day_end))?],
        )?,
    )?;
    let (rows, total) = find(conn, e, f, "due_at", at)?;
    let mut out = Vec::new();
    for (id, d) in rows {
        let due = d.int("due_at").unwrap_or_default();
        let late = at.days_since(due);
        let detail = if due >= at.moment {
            at.say("due today".into(), "今天到期".into())
        } else if late >= 1 {
            at.say(
                format!("overdue by {}", days(late)),
                format!("逾期 {late} 天"),
            )
        } else {
            at.say("overdue".into(), "已逾期".into())
        };
        out.push(item(id, &d, "subject", "owner", "type", "due_at", detail));
    }
    Ok(Found { items: out, total })
}

/// Open opportunities whose expected close date has passed.
pub fn opportunities(conn: &Store, at: &AsOf) -> Result<Found> {
    let e = Entity::get("opportunity")?;
    let f = owned(
        e,
        "owner",
        at,
        open_and(
            e,
            vec![filter(e, "expected_close", Op::Lt, text(&at.date(0)))?],
        )?,
    )?;
    let (rows, total) = find(conn, e, f, "expected_close", at)?;
    let mut out = Vec::new();
    for (id, d) in rows {
        let n = days_between(d.text("expected_close"), at.today);
        let detail = at.say(
            format!("expected close {} ago", days(n)),
            format!("预计成交日已过 {n} 天"),
        );
        out.push(item(
            id,
            &d,
            "name",
            "owner",
            "stage",
            "expected_close",
            detail,
        ));
    }
    Ok(Found { items: out, total })
}

/// Active contracts ending within the next `days` days.
pub fn contracts(conn: &Store, at: &AsOf) -> Result<Found> {
    let e = Entity::get("contract")?;
    // The status a reader sees is derived (active → expired), so match "not draft and not
    // terminated": that is active whatever the real clock says.
    let f = owned(
        e,
        "owner",
        at,
        vec![
            filter(e, "status", Op::Ne, text("draft"))?,
            filter(e, "status", Op::Ne, text("terminated"))?,
            filter(e, "end_date", Op::Ge, text(&at.date(0)))?,
            filter(e, "end_date", Op::Le, text(&at.date(at.days)))?,
        ],
    )?;
    let (rows, total) = find(conn, e, f, "end_date", at)?;
    let mut out = Vec::new();
    for (id, d) in rows {
        let n = -days_between(d.text("end_date"), at.today);
        let detail = if n == 0 {
            at.say("ends today".into(), "今天到期".into())
        } else {
            at.say(format!("ends in {}", days(n)), format!("{n} 天后到期"))
        };
        out.push(item(id, &d, "title", "owner", "status", "end_date", detail));
    }
    Ok(Found { items: out, total })
}

/// Open tickets past their priority's service time; with a user, theirs and unassigned ones.
pub fn tickets(conn: &Store, at: &AsOf) -> Result<Found> {
    let e = Entity::get("ticket")?;
    let (mut found, mut total) = (Vec::new(), 0);
    for (priority, hours) in crate::rules::SERVICE_HOURS {
        let mut base = open_and(
            e,
            vec![
                filter(e, "priority", Op::Eq, text(priority))?,
                filter(
                    e,
                    "opened_at",
                    Op::Lt,
                    Value::Integer(at.moment - hours * 3600),
                )?,
            ],
        )?;
        let mut sets = vec![owned(e, "assignee", at, base.clone())?];
        if at.user.is_some() {
            base.push(filter(e, "assignee", Op::Eq, Value::Null)?);
            sets.push(base);
        }
        for f in sets {
            let (rows, n) = find(conn, e, f, "opened_at", at)?;
            total += n;
            for (id, d) in rows {
                let open = (at.moment - d.int("opened_at").unwrap_or_default()) / 3600;
                let detail = at.say(
                    format!("{priority}: open {open}h > {hours}h"),
                    format!(
                        "{}：已受理 {open} 小时，时限 {hours} 小时",
                        zh_label(e, "priority", priority)
                    ),
                );
                found.push((
                    d.int("opened_at").unwrap_or_default(),
                    item(id, &d, "subject", "assignee", "status", "opened_at", detail),
                ));
            }
        }
    }
    Ok(Found::merged(found, total, at.limit))
}

/// Customers (not lost) without a follow-up for 30 days (never: added over 30 days ago).
pub fn customers(conn: &Store, at: &AsOf) -> Result<Found> {
    const QUIET_DAYS: i64 = 30;
    let e = Entity::get("customer")?;
    let cutoff = Value::Integer(at.moment - QUIET_DAYS * 86_400);
    let not_lost = filter(e, "status", Op::Ne, text("lost"))?;
    let never = vec![
        not_lost.clone(),
        filter(e, "last_contacted_at", Op::Eq, Value::Null)?,
        filter(e, "created_at", Op::Lt, cutoff.clone())?,
    ];
    let contacted = vec![not_lost, filter(e, "last_contacted_at", Op::Lt, cutoff)?];
    let (mut found, mut total) = (Vec::new(), 0);
    for (filters, sort) in [(never, "created_at"), (contacted, "last_contacted_at")] {
        let (rows, n) = find(conn, e, owned(e, "owner", at, filters)?, sort, at)?;
        total += n;
        for (id, d) in rows {
            // Quiet since the last follow-up, or since the customer was added.
            let (since, detail) = if let Some(last) = d.int("last_contacted_at") {
                let n = at.days_since(last);
                (
                    last,
                    at.say(
                        format!("no follow-up for {}", days(n)),
                        format!("{n} 天未跟进"),
                    ),
                )
            } else {
                let created = records::must_get(conn, e, id)?.created_at;
                let n = at.days_since(created);
                (
                    created,
                    at.say(
                        format!("never followed up (added {} ago)", days(n)),
                        format!("从未跟进（{n} 天前创建）"),
                    ),
                )
            };
            // The record is the customer itself: its code is `number`, its name `subject`.
            let i = item(
                id,
                &d,
                "name",
                "owner",
                "status",
                "last_contacted_at",
                detail,
            );
            found.push((since, i));
        }
    }
    Ok(Found::merged(found, total, at.limit))
}

/// `1 day`, `3 days`.
fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

/// A choice value's Chinese label (`urgent` → `紧急`), for the Chinese reasons.
fn zh_label(e: &'static Entity, field: &str, value: &str) -> String {
    e.field(field)
        .ok()
        .and_then(|f| match f.kind {
            crate::schema::Kind::Choice(choices) => choices.iter().find(|(v, _)| *v == value),
            _ => None,
        })
        .map_or_else(|| value.to_string(), |(_, zh)| (*zh).to_string())
}

/// Whole days from a `YYYY-MM-DD` date to `today` (positive when the date is past).
fn days_between(date: Option<&str>, today: chrono::NaiveDate) -> i64 {
    date.and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map_or(0, |d| (today - d).num_days())
}

/// Customer code and name by id, looked up once each.
#[derive(Default)]
pub struct Names(HashMap<i64, (String, String)>);

impl Names {
    pub fn get(&mut self, conn: &Store, id: i64) -> Result<(String, String)> {
        if let Some(n) = self.0.get(&id) {
            return Ok(n.clone());
        }
        let c = records::must_get(conn, Entity::get("customer")?, id)?;
        let n = (
            c.draft.text("code").unwrap_or_default().to_string(),
            c.draft.text("name").unwrap_or_default().to_string(),
        );
        self.0.insert(id, n.clone());
        Ok(n)
    }
}
