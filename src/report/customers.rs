//! `crm report customers`: counts by status, level, industry, source, city and owner; new
//! customers and churn per period (customers active at a period's start that became lost
//! or inactive during it ÷ customers active at its start, from the audit log's status
//! changes); RFM segmentation, optionally saved into each customer's `segment`.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::{Params, Report, Section, col, rate, rfm};
use crate::db::Store;
use crate::db::report::customers::{self as q, St};
use crate::db::report::{Args, customers_pass};
use crate::error::{Error, Result};
use crate::period::{self, Bucket, Period};
use crate::schema::{Entity, Kind};

/// The long help of `crm report customers`: what each figure means.
pub const HELP: &str = r#"Counts by status, level, industry, source, city and owner (now; top --limit values plus "(other)"). Per period (--by, default month, last 12 without --from): new customers, and churn = customers active at the period's start that became lost or inactive during it ÷ customers active at its start, from the status changes in the audit log (a customer whose status the log never saw set, as after a bulk import, counts with its current status since its creation). RFM over booked orders in the window: recency (days from the last order to --as-of), frequency, monetary (per currency, never added across currencies); each compared with its mean (monetary: with its currency's mean) (R high = at or below the mean recency) into eight segments (重要价值客户 … 一般挽留客户). --save writes each customer's segment into its `segment` field (customers without orders in the window lose theirs), in one transaction with one audit entry."#;

/// `crm report customers` in the report registry (`report::REPORTS`).
/// Churn comes from customer status changes kept in the audit table (customer data,
/// not the audit trail), and the RFM figures from orders.
pub const DEF: super::ReportDef = super::ReportDef {
    name: "customers",
    about: "Customers by status, level, industry, source, city, owner; new and churn per period; RFM segments (客户分析)",
    help: HELP,
    by_choice: "",
    by: "month, quarter, year, week, day",
    reads: &["customer", "order"],
    run: read,
    save: Some(super::Save {
        help: "Write each customer's RFM segment into its `segment` field (admin, manager)",
        writes: "customer",
        run: save,
    }),
};

/// The fields counted, in this order.
const DIMENSIONS: [&str; 6] = ["status", "level", "industry", "source", "city", "owner"];
const ACTIVE: &str = "active";
/// Takes one customer's timeline (time-ordered status changes) into the churn counts.
type AddTimeline<'a> = dyn FnMut(&[(i64, St)]) + 'a;

/// Active at the start of each bucket, and of those, how many churned during it.
struct Churn {
    active: Vec<i64>,
    churned: Vec<i64>,
}

impl Churn {
    fn new(n: usize) -> Churn {
        Churn {
            active: vec![0; n],
            churned: vec![0; n],
        }
    }

    /// Adds one customer's timeline (time-ordered status changes).
    fn add(&mut self, events: &[(i64, St)], buckets: &[Bucket]) {
        let mut cur = St::None;
        let mut e = 0;
        for (k, b) in buckets.iter().enumerate() {
            while e < events.len() && events[e].0 < b.start_ts {
                cur = events[e].1;
                e += 1;
            }
            if cur == St::Active {
                self.active[k] += 1;
                if events[e..]
                    .iter()
                    .take_while(|(at, _)| *at < b.end_ts)
                    .any(|(_, s)| *s == St::Churned)
                {
                    self.churned[k] += 1;
                }
            }
        }
    }
}

/// The report alone, in a read snapshot.
fn read(conn: &Store, p: &Params) -> Result<Report> {
    Ok(run(conn, p, None)?.0)
}

/// `--save`: the report, writing each customer's segment as `user`.
fn save(conn: &Store, p: &Params, user: &str) -> Result<(Report, String)> {
    let (r, changed) = run(conn, p, Some(user))?;
    Ok((
        r,
        format!("saved RFM segments: {changed} customers changed"),
    ))
}

/// Builds the report; with `save_as` (a user name), also writes the segments in `conn`,
/// which must then be a write transaction. Returns the report and how many changed.
#[allow(clippy::many_single_char_names)]
pub fn run(conn: &Store, p: &Params, save_as: Option<&str>) -> Result<(Report, usize)> {
    let by = p.by.as_deref().unwrap_or("month");
    let period = Period::parse(by).ok_or_else(|| {
        Error::usage(format!("customers cannot be grouped by '{by}'"))
            .hint("use --by day, week, month, quarter or year")
    })?;
    let w = p.window.with_default_from(period, 12);
    let buckets = period::buckets(period, &w)?;
    let window_bucket = vec![period::whole(&w)];
    let args = Args::window(&w, p.owner.as_deref());
    let e = Entity::get("customer")?;
    let mut sections = Vec::new();

    let mut total = 0;
    let mut active_now = 0;
    let mut dims = Vec::new();
    let mut counts: Vec<BTreeMap<Option<String>, i64>> = vec![BTreeMap::new(); DIMENSIONS.len()];
    // Every customer created before the window's end (for new customers and churn's
    // baselines below), the counts by owner and status, and by the other four fields
    // (on `SQLite` an index scan and a pass over the table; on `PostgreSQL` one pass).
    let (now, owner_status, profile) = customers_pass::now_and_profile(conn, &args)?;
    for (owner, status, n) in owner_status {
        *counts[5].entry(owner).or_default() += n;
        *counts[0].entry(status).or_default() += n;
    }
    for (d, found) in profile.into_iter().enumerate() {
        counts[d + 1] = found;
    }
    for (name, found) in DIMENSIONS.iter().zip(counts) {
        let f = e.field(name)?;
        // Largest first; ties by value, none first.
        let mut rows: Vec<(Option<String>, i64)> = found.into_iter().collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let sum: i64 = rows.iter().map(|r| r.1).sum();
        if *name == "status" {
            total = sum;
            active_now = rows
                .iter()
                .filter(|r| r.0.as_deref() == Some(ACTIVE))
                .map(|r| r.1)
                .sum();
        }
        let mut s = Section::table(
            match *name {
                "status" => "by_status",
                "level" => "by_level",
                "industry" => "by_industry",
                "source" => "by_source",
                "city" => "by_city",
                _ => "by_owner",
            },
            f.en,
            f.zh,
            vec![
                col("value", "value", "取值"),
                col("label", "label", "名称"),
                col("customers", "customers", "客户数"),
                col("share", "share", "占比"),
            ],
        )
        .chart("label", "customers");
        let limit = usize::try_from(p.limit).unwrap_or(usize::MAX);
        let mut rest = 0;
        for (i, (v, n)) in rows.into_iter().enumerate() {
            if i >= limit {
                rest += n;
                continue;
            }
            let label = match (f.kind, v.as_deref()) {
                (Kind::Choice(c), Some(v)) => c
                    .iter()
                    .find(|(k, _)| *k == v)
                    .map_or(v.to_string(), |(_, zh)| (*zh).to_string()),
                (_, Some(v)) => v.to_string(),
                (_, None) => "(none)".to_string(),
            };
            s.rows.push(vec![
                v.map_or(J::Null, J::from),
                J::from(label),
                J::from(n),
                rate(n, sum),
            ]);
        }
        if rest > 0 {
            s.rows.push(vec![
                J::Null,
                J::from("(other)"),
                J::from(rest),
                rate(rest, sum),
            ]);
        }
        dims.push(s);
    }

    // New customers and churn per period, and churn over the whole window.
    // New customers per bucket, from `now` (read above).
    let mut new = vec![0; buckets.len()];
    for &(_, created, _) in &now {
        let k = buckets.partition_point(|b| b.end_ts <= created);
        if buckets.get(k).is_some_and(|b| b.start_ts <= created) {
            new[k] += 1;
        }
    }
    let mut churn = Churn::new(buckets.len());
    let mut churn_all = Churn::new(1);
    let mut add = |events: &[(i64, St)]| {
        churn.add(events, &buckets);
        churn_all.add(events, &window_bucket);
    };
    // Each customer's timeline: its audited status changes, after a baseline where the
    // audit log did not see the status set (an imported customer: bulk import audits the
    // batch, not each field): its status since creation is the one its first audited change
    // left (`old`), or with no audited change at all, the one it has now.
    let mut next = 0; // the first customer of `now` not yet added
    let mut events: Vec<(i64, St)> = Vec::new();
    let mut current: Option<i64> = None;
    let baseline = |id: i64, next: &mut usize, add: &mut AddTimeline| {
        while let Some(&(_, created, status)) = now.get(*next).filter(|c| c.0 < id) {
            add(&[(created, status)]);
            *next += 1;
        }
        now.get(*next)
            .filter(|c| c.0 == id)
            .map(|&(_, created, _)| {
                *next += 1;
                created
            })
    };
    q::status_history(conn, &args, |id, at, new, old| {
        if current != Some(id) {
            add(&events);
            events.clear();
            current = Some(id);
            let created = baseline(id, &mut next, &mut add);
            if let (Some(created), Some(old)) = (created, old) {
                events.push((created.min(at), St::of(Some(old))));
            }
        }
        events.push((at, St::of(new)));
    })?;
    add(&events);
    baseline(i64::MAX, &mut next, &mut add);

    let mut per = Section::table(
        "per_period",
        "New customers and churn per period",
        "新增客户与流失率",
        vec![
            col("period", "period", "期间"),
            col("new", "new", "新增客户"),
            col("active_at_start", "active_at_start", "期初活跃"),
            col("churned", "churned", "流失"),
            col("churn_rate", "churn_rate", "流失率"),
        ],
    )
    .chart("period", "new");
    for (k, b) in buckets.iter().enumerate() {
        per.rows.push(vec![
            J::from(b.label.as_str()),
            J::from(new[k]),
            J::from(churn.active[k]),
            J::from(churn.churned[k]),
            rate(churn.churned[k], churn.active[k]),
        ]);
    }

    let scored = rfm::score(
        conn,
        &Params {
            window: w.clone(),
            ..p.clone()
        },
    )?;
    let rfm_sections = rfm::sections(&scored);
    let mut changed = 0;
    if let Some(user) = save_as {
        let seg: Vec<(i64, &str)> = scored
            .assigned
            .iter()
            .map(|(id, i)| (*id, rfm::SEGMENTS[*i].zh))
            .collect();
        let detail = format!(
            "RFM segments from orders {} to {} as of {}",
            w.from_text().unwrap_or_default(),
            w.to_text(),
            period::ymd(w.as_of)
        );
        changed = q::save_segments(conn, &seg, p.owner.as_deref(), user, &detail)?;
    }

    let mut summary = Section::summary("summary", "Summary", "汇总");
    summary.put("customers", J::from(total));
    summary.put("active", J::from(active_now));
    summary.put("new", J::from(new.iter().sum::<i64>()));
    summary.put("active_at_start", J::from(churn_all.active[0]));
    summary.put("churned", J::from(churn_all.churned[0]));
    summary.put(
        "churn_rate",
        rate(churn_all.churned[0], churn_all.active[0]),
    );
    if save_as.is_some() {
        summary.put("segments_changed", J::from(changed));
    }
    sections.push(summary);
    sections.extend(dims);
    sections.push(per);
    sections.extend(rfm_sections);
    let mut params = p.clone();
    params.window = w;
    params.by = Some(period.name().to_string());
    Ok((
        Report {
            name: "customers",
            params,
            sections,
        },
        changed,
    ))
}
