//! `crm report contracts`: contracts by status; total and in-force value (in-force status,
//! not past its end on the as-of day); in-force contracts
//! expiring within 30, 60 and 90 days of the as-of day; renewals. A renewal is a contract
//! (not a draft) of the same customer starting within 30 days before or after the end of an
//! earlier-starting one; the renewal rate is the share of contracts ended in the window
//! (up to the as-of day) that got one.

use chrono::{Duration, NaiveDate};
use serde_json::Value as J;

use super::money::{amounts_section, currency_of};
use super::{CURRENCY, Params, Purse, Report, Section, col, money, rate};
use crate::db::Store;
use crate::db::report::{Args, contracts as q, int, text};
use crate::error::{Error, Result};
use crate::schema::{Entity, Kind};

/// The long help of `crm report contracts`: what each figure means.
pub const HELP: &str = r"Contracts by status with amounts (per currency: amounts are never added across currencies); total and in-force value (active and not past its end); in-force contracts ending within 30, 60 and 90 days of --as-of (inclusive); renewals: a contract (not a draft) of the same customer starting within 30 days before or after the end of an earlier-starting one. Renewal rate = contracts ended by --as-of in the window that were renewed ÷ those ended. With --from/--to, contracts starting in the window.";

/// `crm report contracts` in the report registry (`report::REPORTS`).
pub const DEF: super::ReportDef = super::ReportDef {
    name: "contracts",
    about: "Contracts by status, value, expiring in 30/60/90 days, renewals (合同统计)",
    help: HELP,
    by_choice: "",
    by: "",
    reads: &["contract"],
    run,
    save: None,
};

/// Statuses under which a contract is in force (those the registry has are used).
const IN_FORCE: [&str; 2] = ["active", "signed"];
const DRAFT: &str = "draft";
const EXPIRED: &str = "expired";
/// How close to an end a new start must be to count as a renewal.
const RENEWAL_DAYS: i64 = 30;

struct Contract {
    number: String,
    customer: i64,
    status: String,
    amount: i64,
    currency: String,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
}

fn date(v: &crate::schema::Value) -> Option<NaiveDate> {
    text(v).and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
}

pub fn run(conn: &Store, p: &Params) -> Result<Report> {
    if let Some(b) = p.by.as_deref() {
        return Err(
            Error::usage(format!("contracts cannot be grouped by '{b}'"))
                .hint("the contract report has no --by; filter with --owner"),
        );
    }
    let w = &p.window;
    let windowed = w.from.is_some() || w.to_given;
    let in_window = |d: Option<NaiveDate>| match d {
        _ if !windowed => true,
        Some(d) => w.from.is_none_or(|f| d >= f) && d <= w.to,
        None => false,
    };
    let all: Vec<Contract> = q::contracts(conn, &Args::window(w, p.owner.as_deref()))?
        .iter()
        .map(|r| Contract {
            number: text(&r[1]).unwrap_or_default(),
            customer: int(&r[2]),
            status: text(&r[3]).unwrap_or_default(),
            amount: int(&r[4]),
            start: date(&r[5]),
            end: date(&r[6]),
            currency: currency_of(&r[7]),
        })
        .collect();
    // Without --from/--to every contract counts; with them, those starting in the window.
    let scope: Vec<&Contract> = all.iter().filter(|c| in_window(c.start)).collect();
    // In force: an in-force status and not past its end on the as-of day.
    let ended = |c: &Contract| c.end.is_some_and(|e| e < w.as_of);
    let in_force = |c: &Contract| IN_FORCE.contains(&c.status.as_str()) && !ended(c);
    // Fixed groups (statuses, expiry horizons) get a row per currency any contract has.
    let mut seen: Purse<1> = Purse::default();
    for c in &all {
        seen.add(&c.currency, 0, 0);
    }
    let currencies = seen.currencies_or_default();
    // Count and exact amount of some contracts in one currency.
    let tally = |of: &mut dyn Iterator<Item = &Contract>, cur: &str| {
        of.filter(|c| c.currency == cur)
            .fold((0_i64, 0_i128), |(n, a), c| {
                (n + 1, a + i128::from(c.amount))
            })
    };

    let e = Entity::get("contract")?;
    let mut by_status = Section::table(
        "by_status",
        "Contracts by status",
        "按合同状态",
        vec![
            col("status", "status", "合同状态"),
            col("label", "label", "名称"),
            CURRENCY,
            col("contracts", "contracts", "合同数"),
            col("amount", "amount", "合同金额"),
        ],
    )
    .chart("label", "amount");
    if let Kind::Choice(choices) = e.field("status")?.kind {
        // Where the registry has an `expired` status, an active contract past its end is
        // shown as expired (it is never stored that way).
        let has_expired = choices.iter().any(|(v, _)| *v == EXPIRED);
        let shown = |c: &Contract| -> String {
            if has_expired && c.status == "active" && ended(c) {
                EXPIRED.to_string()
            } else {
                c.status.clone()
            }
        };
        for (v, label) in choices {
            for cur in &currencies {
                let (n, amount) = tally(&mut scope.iter().copied().filter(|c| shown(c) == *v), cur);
                by_status.rows.push(vec![
                    J::from(*v),
                    J::from(*label),
                    J::from(cur.as_str()),
                    J::from(n),
                    money(amount),
                ]);
            }
        }
    }

    let mut expiring = Section::table(
        "expiring",
        "In-force contracts expiring",
        "即将到期合同",
        vec![
            col("within_days", "within_days", "天内到期"),
            CURRENCY,
            col("contracts", "contracts", "合同数"),
            col("amount", "amount", "合同金额"),
        ],
    )
    .chart("within_days", "contracts");
    for days in [30, 60, 90] {
        let last = w.as_of + Duration::days(days);
        for cur in &currencies {
            let (n, amount) = tally(
                &mut all
                    .iter()
                    .filter(|c| in_force(c) && c.end.is_some_and(|e| e >= w.as_of && e <= last)),
                cur,
            );
            expiring.rows.push(vec![
                J::from(days),
                J::from(cur.as_str()),
                J::from(n),
                money(amount),
            ]);
        }
    }

    // Renewals: for each contract, the first later-starting one of the same customer whose
    // start lies within RENEWAL_DAYS of its end.
    let mut renewals = Section::table(
        "renewals",
        "Renewals (first --limit)",
        "续签",
        vec![
            col("previous", "previous", "原合同"),
            col("renewal", "renewal", "续签合同"),
            col("previous_end", "previous_end", "原到期日"),
            col("renewal_start", "renewal_start", "续签开始"),
            CURRENCY,
            col("amount", "amount", "续签金额"),
        ],
    );
    let real: Vec<&Contract> = all.iter().filter(|c| c.status != DRAFT).collect();
    let (mut ended, mut renewed, mut renewal_count) = (0, 0, 0);
    let limit = usize::try_from(p.limit).unwrap_or(usize::MAX);
    // Rows come ordered by customer, so each customer's contracts are one run.
    for group in real.chunk_by(|a, b| a.customer == b.customer) {
        for a in group {
            let Some(end) = a.end else { continue };
            let renewal = group.iter().find(|b| {
                !std::ptr::eq(*a, **b)
                    && b.start.is_some_and(|s| {
                        a.start.is_none_or(|sa| s > sa)
                            && (s - end).num_days().abs() <= RENEWAL_DAYS
                    })
            });
            if end <= w.as_of && w.from.is_none_or(|f| end >= f) && end <= w.to {
                ended += 1;
                renewed += i64::from(renewal.is_some());
            }
            if let Some(b) = renewal.filter(|b| in_window(b.start)) {
                renewal_count += 1;
                if renewals.rows.len() >= limit {
                    continue;
                }
                renewals.rows.push(vec![
                    J::from(a.number.as_str()),
                    J::from(b.number.as_str()),
                    J::from(crate::period::ymd(end)),
                    J::from(b.start.map(crate::period::ymd)),
                    J::from(b.currency.as_str()),
                    money(b.amount),
                ]);
            }
        }
    }

    let mut summary = Section::summary("summary", "Summary", "汇总");
    summary.put("contracts", J::from(scope.len()));
    let force: Vec<&&Contract> = scope.iter().filter(|c| in_force(c)).collect();
    summary.put("in_force", J::from(force.len()));
    summary.put("renewals", J::from(renewal_count));
    summary.put("renewal_rate", rate(renewed, ended));
    // The money of the summary, one row per currency the contracts in scope have.
    let mut amounts = amounts_section([
        col("contracts", "contracts", "合同数"),
        col("total_amount", "total_amount", "合同总额"),
        col("in_force", "in_force", "执行中"),
        col("in_force_amount", "in_force_amount", "执行中金额"),
    ]);
    let mut scoped: Purse<1> = Purse::default();
    for c in &scope {
        scoped.add(&c.currency, 0, 0);
    }
    for cur in scoped.currencies() {
        let (n, total) = tally(&mut scope.iter().copied(), &cur);
        let (f, in_force_amount) = tally(&mut force.iter().map(|c| **c), &cur);
        amounts.rows.push(vec![
            J::from(cur.as_str()),
            J::from(n),
            money(total),
            J::from(f),
            money(in_force_amount),
        ]);
    }
    Ok(Report {
        name: "contracts",
        params: p.clone(),
        sections: vec![summary, amounts, by_status, expiring, renewals],
    })
}
