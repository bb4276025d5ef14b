//! `crm report sales`: won amount and count by month, quarter, year or owner; booked and
//! paid orders; the weighted forecast of open opportunities by expected close month; the
//! top customers by booked amount.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::money::{amounts_section, currency_of};
use super::{CURRENCY, Params, Purse, Report, Section, col, money, percent_of};
use crate::db::Store;
use crate::db::report::sales::Group;
use crate::db::report::{Args, index, int, sales as q, split_total, text};
use crate::error::Result;
use crate::period::{self, Period};
use crate::schema::Entity;

/// The long help of `crm report sales`: what each figure means.
pub const HELP: &str = r"Won deals (by close time) and booked orders (not draft or cancelled; paid = status paid, by order date) per month, quarter, year, week, day, owner, or value of a choice field of the customer (built-in or custom: --by level, --by industry, …); the forecast of open opportunities by expected close month (weighted by probability; bounded only by an explicit --from/--to); the top customers by booked amount (--limit, per currency). Every amount is per currency, never added across currencies. Without --from: the 12 periods up to --to/--as-of.";

/// `crm report sales` in the report registry (`report::REPORTS`).
pub const DEF: super::ReportDef = super::ReportDef {
    name: "sales",
    about: "Won deals, orders and payments per period or owner; forecast; top customers (销售分析)",
    help: HELP,
    by: "month, quarter, year, week, day, owner",
    by_choice: "customer",
    reads: &["opportunity", "order", "customer"],
    run,
    save: None,
};

pub fn run(conn: &Store, p: &Params) -> Result<Report> {
    let by = p.by.as_deref().unwrap_or("month");
    // A period, the owner, or a choice field of the customer (its values are the groups).
    let (group, period) = if let Some(per) = Period::parse(by) {
        (Group::Period, per)
    } else if by == "owner" {
        (Group::Owner, Period::Month)
    } else if let Some(f) = super::choice_by("customer", by)? {
        (Group::Customer(f.name), Period::Month)
    } else {
        return Err(super::bad_by("sales", by, DEF.by, "customer"));
    };
    // Grouped otherwise than by period: one bucket, the whole window.
    let by_owner = group != Group::Period;
    let w = p.window.with_default_from(period, 12);
    let buckets = if by_owner {
        vec![period::whole(&w)]
    } else {
        period::buckets(period, &w)?
    };
    // `:currency` is what the SQL counts a record without a currency in.
    let args =
        Args::window(&w, p.owner.as_deref()).set("currency", super::money::default_currency());
    let (group_name, group_zh) = match group {
        Group::Period => ("period", "期间"),
        Group::Owner => ("owner", "负责人"),
        Group::Customer(name) => (name, Entity::get("customer")?.field(name)?.zh),
    };

    // Rows keyed by bucket index (every bucket shown, in every currency of the report) or
    // by owner (those with figures, in their currencies).
    let label = |v: &crate::schema::Value| -> String {
        if by_owner {
            text(v).unwrap_or_default()
        } else {
            buckets[index(v)].label.clone()
        }
    };
    // Per group: won count, won Σ, booked count, booked Σ, paid count, paid Σ per currency.
    let mut groups: BTreeMap<String, Purse<6>> = BTreeMap::new();
    for r in q::won(conn, &buckets, group, args.clone())? {
        let (g, c) = (label(&r[0]), currency_of(&r[1]));
        let p = groups.entry(g).or_default();
        p.add(&c, 0, i128::from(int(&r[2])));
        p.add(&c, 1, split_total(&r, 3));
    }
    for r in q::orders(conn, &buckets, group, args.clone())? {
        let (g, c) = (label(&r[0]), currency_of(&r[1]));
        let p = groups.entry(g).or_default();
        p.add(&c, 2, i128::from(int(&r[2])));
        p.add(&c, 3, split_total(&r, 3));
        p.add(&c, 4, i128::from(int(&r[5])));
        p.add(&c, 5, split_total(&r, 6));
    }
    let mut seen: Purse<1> = Purse::default();
    for p in groups.values() {
        seen.know(&p.currencies());
    }
    let keys: Vec<String> = if by_owner {
        groups.keys().cloned().collect()
    } else {
        buckets.iter().map(|b| b.label.clone()).collect()
    };
    let mut by_group = Section::table(
        "by_group",
        "Sales by group and currency",
        "销售分析（按币种）",
        vec![
            col(group_name, group_name, group_zh),
            CURRENCY,
            col("won_count", "won_count", "赢单数"),
            col("won_amount", "won_amount", "赢单金额"),
            col("orders", "orders", "订单数"),
            col("order_amount", "order_amount", "订单金额"),
            col("paid_orders", "paid_orders", "已付款订单"),
            col("paid_amount", "paid_amount", "已付款金额"),
        ],
    )
    .chart(group_name, "won_amount");
    // Totals per currency: the six figures, then forecast Σ and weighted Σ (in percent).
    let mut totals: Purse<8> = Purse::default();
    for k in &keys {
        let p = groups.get(k).cloned().unwrap_or_default();
        let currencies = if by_owner {
            p.currencies()
        } else {
            seen.currencies_or_default()
        };
        for c in currencies {
            let f = p.get(&c);
            for (i, v) in f.iter().enumerate() {
                totals.add(&c, i, *v);
            }
            by_group.rows.push(vec![
                J::from(k.as_str()),
                J::from(c.as_str()),
                count(f[0]),
                money(f[1]),
                count(f[2]),
                money(f[3]),
                count(f[4]),
                money(f[5]),
            ]);
        }
    }

    let lo = w.from_text().unwrap_or_default();
    let hi = if w.to_given {
        w.to_text()
    } else {
        "9999-12-31".into()
    };
    // The forecast looks ahead: only an explicit --from/--to bounds expected close dates.
    let lo = if p.window.from.is_some() {
        lo
    } else {
        String::new()
    };
    let mut forecast = Section::table(
        "forecast",
        "Forecast of open opportunities by expected close",
        "销售预测（按预计成交月）",
        vec![
            col("month", "month", "月份"),
            CURRENCY,
            col("count", "count", "数量"),
            col("amount", "amount", "金额"),
            col("weighted", "weighted", "加权金额"),
        ],
    )
    .chart("month", "weighted");
    // Rows come by month, currency, probability: one forecast row per month and currency.
    let mut months: Vec<(Option<String>, String, [i128; 3])> = Vec::new();
    for r in q::forecast(conn, args.clone().set("lo", lo).set("hi", hi))? {
        let (m, c) = (text(&r[0]), currency_of(&r[1]));
        let amount = split_total(&r, 4);
        let weighted = amount * i128::from(int(&r[2]));
        match months.last_mut() {
            Some((lm, lc, f)) if *lm == m && *lc == c => {
                f[0] += i128::from(int(&r[3]));
                f[1] += amount;
                f[2] += weighted;
            }
            _ => months.push((m, c, [i128::from(int(&r[3])), amount, weighted])),
        }
    }
    for (m, c, f) in months {
        totals.add(&c, 6, f[1]);
        totals.add(&c, 7, f[2]);
        forecast.rows.push(vec![
            m.map_or(J::Null, J::from),
            J::from(c),
            count(f[0]),
            money(f[1]),
            money(percent_of(f[2])),
        ]);
    }

    let mut top = Section::table(
        "top_customers",
        "Top customers by booked amount, per currency",
        "重点客户（按订单金额，分币种）",
        vec![
            CURRENCY,
            col("code", "code", "客户编号"),
            col("name", "name", "客户名称"),
            col("orders", "orders", "订单数"),
            col("amount", "amount", "订单金额"),
        ],
    )
    .chart("name", "amount");
    // Per currency the window's booked orders have (the whole window: every bucket, or the
    // one bucket of --by owner).
    let mut booked_in: Vec<String> = groups
        .values()
        .flat_map(|g| g.currencies().into_iter().filter(|c| g.get(c)[2] > 0))
        .collect();
    booked_in.sort();
    booked_in.dedup();
    for c in booked_in {
        let mut best: Vec<(i128, Vec<J>)> = q::top_customers(conn, args.clone(), &c, p.limit)?
            .iter()
            .map(|r| {
                let sum = split_total(r, 3);
                let row = vec![
                    J::from(c.as_str()),
                    text(&r[0]).map_or(J::Null, J::from),
                    text(&r[1]).map_or(J::Null, J::from),
                    J::from(int(&r[2])),
                    money(sum),
                ];
                (sum, row)
            })
            .collect();
        // Exactly ordered (SQL ranked by a float); a stable sort keeps SQL's order between
        // equal sums.
        best.sort_by_key(|b| std::cmp::Reverse(b.0));
        top.rows.extend(best.into_iter().map(|(_, r)| r));
    }

    let mut summary = Section::summary("summary", "Summary", "汇总");
    let all = |i: usize| -> J { count(totals.currencies().iter().map(|c| totals.get(c)[i]).sum()) };
    summary.put("won_count", all(0));
    summary.put("orders", all(2));
    summary.put("paid_orders", all(4));
    // The money of the summary, one row per currency.
    let mut amounts = amounts_section([
        col("won_amount", "won_amount", "赢单金额"),
        col("order_amount", "order_amount", "订单金额"),
        col("paid_amount", "paid_amount", "已付款金额"),
        col("forecast_amount", "forecast_amount", "预测金额"),
        col("forecast_weighted", "forecast_weighted", "预测加权金额"),
    ]);
    for c in totals.currencies() {
        let f = totals.get(&c);
        amounts.rows.push(vec![
            J::from(c.as_str()),
            money(f[1]),
            money(f[3]),
            money(f[5]),
            money(f[6]),
            money(percent_of(f[7])),
        ]);
    }
    let mut params = p.clone();
    params.window = w;
    params.by = Some(by.to_string());
    Ok(Report {
        name: "sales",
        params,
        sections: vec![summary, amounts, by_group, forecast, top],
    })
}

/// A count kept in a purse, as the JSON number it is.
fn count(n: i128) -> J {
    J::from(i64::try_from(n).unwrap_or(i64::MAX))
}
