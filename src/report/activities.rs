//! `crm report activities`: follow-ups done and overdue per owner per period, the open
//! overdue backlog, and customers (not lost) without a follow-up done for 30 days.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::{Params, Report, Section, col};
use crate::db::Store;
use crate::db::report::{Args, activities as q, index, int, opt_int, text};
use crate::error::{Error, Result};
use crate::period::{self, Period};
use crate::schema::kinds::format_datetime;

/// The long help of `crm report activities`: what each figure means.
pub const HELP: &str = r#"Per owner and period (--by, default month, last 12 without --from): follow-ups done, and overdue (due in the period before "now" and not done by the due time); the open overdue backlog at "now"; customers (not lost) without a follow-up for 30 days, counted per owner and listed (first --limit): the last follow-up (last_contacted_at, or a follow-up done) is over 30 days old, or there is none and the customer was added over 30 days ago — the same definition as `crm agenda`."#;

/// `crm report activities` in the report registry (`report::REPORTS`).
pub const DEF: super::ReportDef = super::ReportDef {
    name: "activities",
    about: "Follow-ups done and overdue per owner per period; customers without follow-up (跟进分析)",
    help: HELP,
    by_choice: "",
    by: "month, quarter, year, week, day",
    reads: &["activity", "customer"],
    run,
    save: None,
};

/// Days without a follow-up after which a customer is listed.
pub const NEGLECT_DAYS: i64 = 30;

pub fn run(conn: &Store, p: &Params) -> Result<Report> {
    let by = p.by.as_deref().unwrap_or("month");
    let period = Period::parse(by).ok_or_else(|| {
        Error::usage(format!("activities cannot be grouped by '{by}'"))
            .hint("use --by day, week, month, quarter or year (rows are per owner already)")
    })?;
    let w = p.window.with_default_from(period, 12);
    let buckets = period::buckets(period, &w)?;
    let cut = w.now - NEGLECT_DAYS * 86_400;
    let args = Args::window(&w, p.owner.as_deref())
        .set("cut", cut)
        .set("lost", "lost")
        .set("limit", p.limit);

    // (bucket, owner) -> (done, overdue)
    let mut cells: BTreeMap<(usize, String), (i64, i64)> = BTreeMap::new();
    for r in q::done(conn, &buckets, &args)? {
        cells
            .entry((index(&r[0]), text(&r[1]).unwrap_or_default()))
            .or_default()
            .0 = int(&r[2]);
    }
    for r in q::overdue(conn, &buckets, &args)? {
        cells
            .entry((index(&r[0]), text(&r[1]).unwrap_or_default()))
            .or_default()
            .1 = int(&r[2]);
    }
    let mut per = Section::table(
        "per_owner_period",
        "Follow-ups per owner per period",
        "各负责人跟进情况",
        vec![
            col("period", "period", "期间"),
            col("owner", "owner", "负责人"),
            col("done", "done", "已完成"),
            col("overdue", "overdue", "逾期"),
        ],
    );
    let mut owners: BTreeMap<String, (i64, i64, i64, i64)> = BTreeMap::new();
    for ((b, owner), (done, overdue)) in &cells {
        per.rows.push(vec![
            J::from(buckets[*b].label.as_str()),
            J::from(owner.as_str()),
            J::from(*done),
            J::from(*overdue),
        ]);
        let o = owners.entry(owner.clone()).or_default();
        o.0 += done;
        o.1 += overdue;
    }
    for r in q::backlog(conn, &args)? {
        owners.entry(text(&r[0]).unwrap_or_default()).or_default().2 = int(&r[1]);
    }
    for r in q::neglected_by_owner(conn, &args)? {
        owners.entry(text(&r[0]).unwrap_or_default()).or_default().3 = int(&r[1]) - int(&r[2]);
    }
    let mut by_owner = Section::table(
        "by_owner",
        "Follow-ups by owner",
        "按负责人",
        vec![
            col("owner", "owner", "负责人"),
            col("done", "done", "已完成"),
            col("overdue", "overdue", "逾期"),
            col("open_overdue", "open_overdue", "当前逾期未完成"),
            col(
                "neglected_customers",
                "neglected_customers",
                "30天未跟进客户",
            ),
        ],
    )
    .chart("owner", "done");
    let mut totals = (0, 0, 0, 0);
    for (owner, (d, o, b, n)) in &owners {
        by_owner.rows.push(vec![
            J::from(owner.as_str()),
            J::from(*d),
            J::from(*o),
            J::from(*b),
            J::from(*n),
        ]);
        totals = (totals.0 + d, totals.1 + o, totals.2 + b, totals.3 + n);
    }

    let mut neglected = Section::table(
        "neglected",
        "Customers without a follow-up for 30 days (first --limit)",
        "30天未跟进客户",
        vec![
            col("code", "code", "客户编号"),
            col("name", "name", "客户名称"),
            col("owner", "owner", "负责人"),
            col("last_follow_up", "last_follow_up", "最近跟进"),
        ],
    );
    for r in q::neglected(conn, &args)? {
        neglected.rows.push(vec![
            text(&r[0]).map_or(J::Null, J::from),
            text(&r[1]).map_or(J::Null, J::from),
            text(&r[2]).map_or(J::Null, J::from),
            opt_int(&r[3]).map_or(J::Null, |t| J::from(format_datetime(t))),
        ]);
    }

    let mut summary = Section::summary("summary", "Summary", "汇总");
    summary.put("done", J::from(totals.0));
    summary.put("overdue", J::from(totals.1));
    summary.put("open_overdue", J::from(totals.2));
    summary.put("neglected_customers", J::from(totals.3));
    summary.put("neglect_days", J::from(NEGLECT_DAYS));
    let mut params = p.clone();
    params.window = w;
    params.by = Some(period.name().to_string());
    Ok(Report {
        name: "activities",
        params,
        sections: vec![summary, by_owner, per, neglected],
    })
}
