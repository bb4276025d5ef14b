//! `crm report service`: tickets opened in the window by status, type and priority; average
//! and 90th-percentile resolution time; service-time breaches (urgent 4 h, high 1 day,
//! normal 3 days, low 7 days; an unresolved ticket breaches once it is older than that);
//! complaint rate; average satisfaction and its distribution; optionally by assignee or period.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::{Params, Report, Section, col, hours, mean, rate};
use crate::db::Store;
use crate::db::report::{Args, int, opt_int, service as q, text};
use crate::error::Result;
use crate::period::{self, Period};
use crate::schema::Entity;

/// The long help of `crm report service`: what each figure means.
pub const HELP: &str = r#"Tickets opened in the window by status, type and priority: resolved by "now" (the end of --as-of), average and 90th-percentile (nearest rank) resolution hours, breaches of the service time (urgent 4 h, high 1 day, normal 3 days, low 7 days; an open ticket breaches once older than that), complaint rate; satisfaction mean and distribution. --owner is the assignee; --by assignee, a period, or a choice field of the ticket (built-in or custom) adds a breakdown."#;

/// `crm report service` in the report registry (`report::REPORTS`).
pub const DEF: super::ReportDef = super::ReportDef {
    name: "service",
    about: "Tickets by status, type, priority; resolution times, breaches, complaints, satisfaction (服务分析)",
    help: HELP,
    by: "assignee, month, quarter, year, week, day",
    by_choice: "ticket",
    reads: &["ticket"],
    run,
    save: None,
};

/// Service time per priority, in seconds.
pub const LIMITS: [(&str, i64); 4] = [
    ("urgent", 4 * 3600),
    ("high", 86_400),
    ("normal", 3 * 86_400),
    ("low", 7 * 86_400),
];
const COMPLAINT: &str = "complaint";

/// One ticket's figures.
struct Ticket {
    status: String,
    kind: String,
    priority: String,
    /// The assignee, or the value of the choice field grouped by.
    group: String,
    opened: i64,
    /// Seconds to resolution, if resolved by the report's "now".
    took: Option<i64>,
    breached: bool,
    satisfaction: Option<i64>,
}

/// The nearest-rank percentile of sorted values: the smallest value with at least p% of
/// the values at or below it (so it is always an observed value).
pub fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Aggregates of a group of tickets.
#[derive(Default)]
struct Agg {
    n: i64,
    took: Vec<i64>,
    breached: i64,
    complaints: i64,
    sat_sum: i64,
    sat_n: i64,
}

impl Agg {
    fn add(&mut self, t: &Ticket) {
        self.n += 1;
        if let Some(s) = t.took {
            self.took.push(s);
        }
        self.breached += i64::from(t.breached);
        self.complaints += i64::from(t.kind == COMPLAINT);
        if let Some(s) = t.satisfaction {
            self.sat_sum += s;
            self.sat_n += 1;
        }
    }

    fn row(&mut self, label: &str) -> Vec<J> {
        self.took.sort_unstable();
        let resolved = i64::try_from(self.took.len()).unwrap_or(0);
        let sum: i64 = self.took.iter().sum();
        #[allow(clippy::cast_precision_loss)]
        let avg = if resolved == 0 {
            J::Null
        } else {
            hours(sum as f64 / resolved as f64)
        };
        #[allow(clippy::cast_precision_loss)]
        let p90 = percentile(&self.took, 90).map_or(J::Null, |s| hours(s as f64));
        vec![
            J::from(label),
            J::from(self.n),
            J::from(resolved),
            avg,
            p90,
            rate(self.breached, self.n),
            rate(self.complaints, self.n),
            mean(self.sat_sum, self.sat_n),
        ]
    }
}

fn agg_cols(first: &'static str, zh: &'static str) -> Vec<super::Col> {
    vec![
        col(first, first, zh),
        col("tickets", "tickets", "工单数"),
        col("resolved", "resolved", "已解决"),
        col("avg_hours", "avg_hours", "平均解决时长(小时)"),
        col("p90_hours", "p90_hours", "P90解决时长(小时)"),
        col("breached", "breached", "超时率"),
        col("complaints", "complaints", "投诉率"),
        col("satisfaction", "satisfaction", "满意度均值"),
    ]
}

#[allow(clippy::many_single_char_names)]
pub fn run(conn: &Store, p: &Params) -> Result<Report> {
    // A period, the assignee, or a choice field of the ticket (its values are the groups:
    // its column name and Chinese label).
    let mut group = ("assignee", "处理人");
    let period = match p.by.as_deref() {
        None | Some("assignee") => None,
        Some(b) => {
            let per = Period::parse(b);
            if per.is_none() {
                let f = super::choice_by("ticket", b)?
                    .ok_or_else(|| super::bad_by("service", b, DEF.by, "ticket"))?;
                group = (f.name, f.zh);
            }
            per
        }
    };
    let w = match period {
        Some(per) => p.window.with_default_from(per, 12),
        None => p.window.clone(),
    };
    let now = w.now;
    let args = Args::window(&w, p.owner.as_deref());
    let tickets: Vec<Ticket> = q::tickets(conn, &args, w.from.is_some(), group.0)?
        .iter()
        .map(|r| {
            let priority = text(&r[2]).unwrap_or_default();
            let opened = int(&r[4]);
            let resolved = opt_int(&r[5]).filter(|&t| t <= now);
            let limit = LIMITS.iter().find(|(p, _)| *p == priority).map(|l| l.1);
            let age = resolved.unwrap_or(now) - opened;
            Ticket {
                status: text(&r[0]).unwrap_or_default(),
                kind: text(&r[1]).unwrap_or_default(),
                priority,
                group: text(&r[3]).unwrap_or_default(),
                opened,
                took: resolved.map(|t| (t - opened).max(0)),
                breached: limit.is_some_and(|l| age > l),
                satisfaction: opt_int(&r[6]),
            }
        })
        .collect();

    let e = Entity::get("ticket")?;
    let mut all = Agg::default();
    let mut by_field: BTreeMap<&str, BTreeMap<String, Agg>> = BTreeMap::new();
    let mut groups: BTreeMap<String, Agg> = BTreeMap::new();
    let buckets = match period {
        Some(per) => period::buckets(per, &w)?,
        None => Vec::new(),
    };
    for t in &tickets {
        all.add(t);
        for (f, v) in [
            ("status", &t.status),
            ("type", &t.kind),
            ("priority", &t.priority),
        ] {
            by_field
                .entry(f)
                .or_default()
                .entry(v.clone())
                .or_default()
                .add(t);
        }
        if p.by.is_some() {
            let key = if period.is_some() {
                let k = buckets.partition_point(|b| b.end_ts <= t.opened);
                buckets.get(k).map_or_else(String::new, |b| b.label.clone())
            } else {
                t.group.clone()
            };
            groups.entry(key).or_default().add(t);
        }
    }

    let mut sections = Vec::new();
    let mut summary = Section::summary("summary", "Summary", "汇总");
    let open = tickets.iter().filter(|t| t.took.is_none()).count();
    summary.put("tickets", J::from(all.n));
    summary.put("unresolved", J::from(open));
    let overall = all.row("all");
    for (i, k) in [
        "resolved",
        "avg_hours",
        "p90_hours",
        "breached",
        "complaint_rate",
        "satisfaction",
    ]
    .iter()
    .enumerate()
    {
        summary.put(k, overall[i + 2].clone());
    }
    sections.push(summary);

    for (f, name, en, zh) in [
        ("status", "by_status", "Tickets by status", "按处理状态"),
        ("type", "by_type", "Tickets by type", "按服务类型"),
        ("priority", "by_priority", "Tickets by priority", "按优先级"),
    ] {
        let field = e.field(f)?;
        let mut cols = agg_cols("value", "取值");
        cols.insert(1, col("label", "label", "名称"));
        let mut s = Section::table(name, en, zh, cols).chart("label", "tickets");
        let mut found = by_field.remove(f).unwrap_or_default();
        if let crate::schema::Kind::Choice(choices) = field.kind {
            for (v, label) in choices {
                if let Some(mut a) = found.remove(*v) {
                    let mut row = a.row(v);
                    row.insert(1, J::from(*label));
                    s.rows.push(row);
                }
            }
        }
        for (v, mut a) in found {
            let mut row = a.row(&v);
            row.insert(1, J::from(v));
            s.rows.push(row);
        }
        if f == "priority" {
            s.cols.push(col("limit_hours", "limit_hours", "时限(小时)"));
            for row in &mut s.rows {
                let lim = LIMITS.iter().find(|(p, _)| Some(*p) == row[0].as_str());
                #[allow(clippy::cast_precision_loss)]
                row.push(lim.map_or(J::Null, |l| hours(l.1 as f64)));
            }
        }
        sections.push(s);
    }

    let mut dist = Section::table(
        "satisfaction",
        "Satisfaction distribution",
        "满意度分布",
        vec![
            col("score", "score", "评分"),
            col("tickets", "tickets", "工单数"),
            col("share", "share", "占比"),
        ],
    )
    .chart("score", "tickets");
    for score in 1..=5 {
        let n = i64::try_from(
            tickets
                .iter()
                .filter(|t| t.satisfaction == Some(score))
                .count(),
        )
        .unwrap_or(0);
        dist.rows
            .push(vec![J::from(score), J::from(n), rate(n, all.sat_n)]);
    }
    sections.push(dist);

    if p.by.is_some() {
        let mut s = Section::table(
            "by_group",
            "By group",
            "分组",
            if period.is_some() {
                agg_cols("period", "期间")
            } else {
                agg_cols(group.0, group.1)
            },
        );
        let first = s.cols[0].key;
        s = s.chart(first, "tickets");
        if period.is_some() {
            for b in &buckets {
                let mut a = groups.remove(&b.label).unwrap_or_default();
                s.rows.push(a.row(&b.label));
            }
        } else {
            for (k, mut a) in groups {
                s.rows.push(a.row(&k));
            }
        }
        sections.push(s);
    }
    let mut params = p.clone();
    params.window = w;
    Ok(Report {
        name: "service",
        params,
        sections,
    })
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentile() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v[..1], 90), Some(1));
        let w: Vec<i64> = (1..=11).collect();
        assert_eq!(percentile(&w, 90), Some(10)); // rank ceil(9.9) = 10
        assert_eq!(percentile(&[], 90), None);
    }
}
