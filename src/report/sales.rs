//! `crm report sales`: won amount and count by month, quarter, year or owner; booked and
//! paid orders; the weighted forecast of open opportunities by expected close month; the
//! top customers by booked amount.

use rusqlite::Connection;
use serde_json::Value as J;

use super::period::{self, Period};
use super::{Params, Report, Section, col, money, percent_of};
use crate::db::report::{Args, index, int, sales as q, text};
use crate::error::{Error, Result};

/// The long help of `crm report sales`: what each figure means.
pub const HELP: &str = r"Won deals (by close time) and booked orders (not draft or cancelled; paid = status paid, by order date) per month, quarter, year, week, day or owner; the forecast of open opportunities by expected close month (weighted by probability; bounded only by an explicit --from/--to); the top customers by booked amount (--limit). Without --from: the 12 periods up to --to/--as-of.";

pub fn run(conn: &Connection, p: &Params) -> Result<Report> {
    let by = p.by.as_deref().unwrap_or("month");
    let by_owner = by == "owner";
    let period = if by_owner {
        Period::Month
    } else {
        Period::parse(by).ok_or_else(|| {
            Error::usage(format!("sales cannot be grouped by '{by}'"))
                .hint("use --by month, quarter, year or owner")
        })?
    };
    let w = p.window.with_default_from(period, 12);
    let buckets = if by_owner {
        vec![period::whole(&w)]
    } else {
        period::buckets(period, &w)?
    };
    let args = Args::window(&w, p.owner.as_deref());
    let group = if by_owner { "owner" } else { "period" };
    let group_zh = if by_owner { "负责人" } else { "期间" };

    // Rows keyed by bucket index (every bucket shown) or by owner (those with figures).
    let label = |v: &rusqlite::types::Value| -> String {
        if by_owner {
            text(v).unwrap_or_default()
        } else {
            buckets[index(v)].label.clone()
        }
    };
    let won = q::won(conn, &buckets, by_owner, args.clone())?;
    let orders = q::orders(conn, &buckets, by_owner, args.clone())?;
    let mut keys: Vec<String> = if by_owner {
        let mut k: Vec<String> = won.iter().chain(&orders).map(|r| label(&r[0])).collect();
        k.sort();
        k.dedup();
        k
    } else {
        buckets.iter().map(|b| b.label.clone()).collect()
    };
    keys.dedup();
    let find = |rows: &[Vec<rusqlite::types::Value>], k: &str| {
        rows.iter().find(|r| label(&r[0]) == k).cloned()
    };
    let mut by_group = Section::table(
        "by_group",
        "Sales by group",
        "销售分析",
        vec![
            col(group, group, group_zh),
            col("won_count", "won_count", "赢单数"),
            col("won_amount", "won_amount", "赢单金额"),
            col("orders", "orders", "订单数"),
            col("order_amount", "order_amount", "订单金额"),
            col("paid_orders", "paid_orders", "已付款订单"),
            col("paid_amount", "paid_amount", "已付款金额"),
        ],
    )
    .chart(group, "won_amount");
    let (mut tw, mut twa, mut to, mut toa, mut tp, mut tpa) = (0, 0, 0, 0, 0, 0);
    for k in &keys {
        let wr = find(&won, k);
        let or = find(&orders, k);
        let g = |r: &Option<Vec<rusqlite::types::Value>>, i: usize| {
            r.as_ref().map_or(0, |r| int(&r[i]))
        };
        tw += g(&wr, 1);
        twa += g(&wr, 2);
        to += g(&or, 1);
        toa += g(&or, 2);
        tp += g(&or, 3);
        tpa += g(&or, 4);
        by_group.rows.push(vec![
            J::from(k.as_str()),
            J::from(g(&wr, 1)),
            money(g(&wr, 2)),
            J::from(g(&or, 1)),
            money(g(&or, 2)),
            J::from(g(&or, 3)),
            money(g(&or, 4)),
        ]);
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
            col("count", "count", "数量"),
            col("amount", "amount", "金额"),
            col("weighted", "weighted", "加权金额"),
        ],
    )
    .chart("month", "weighted");
    let (mut fa, mut fw) = (0, 0_i128);
    for r in q::forecast(conn, args.clone().set("lo", lo).set("hi", hi))? {
        fa += int(&r[2]);
        fw += i128::from(int(&r[3]));
        forecast.rows.push(vec![
            text(&r[0]).map_or(J::Null, J::from),
            J::from(int(&r[1])),
            money(int(&r[2])),
            money(percent_of(i128::from(int(&r[3])))),
        ]);
    }

    let mut top = Section::table(
        "top_customers",
        "Top customers by booked amount",
        "重点客户（按订单金额）",
        vec![
            col("code", "code", "客户编号"),
            col("name", "name", "客户名称"),
            col("orders", "orders", "订单数"),
            col("amount", "amount", "订单金额"),
        ],
    )
    .chart("name", "amount");
    for r in q::top_customers(conn, args, p.limit)? {
        top.rows.push(vec![
            text(&r[0]).map_or(J::Null, J::from),
            text(&r[1]).map_or(J::Null, J::from),
            J::from(int(&r[2])),
            money(int(&r[3])),
        ]);
    }

    let mut summary = Section::summary("summary", "Summary", "汇总");
    summary.put("won_count", J::from(tw));
    summary.put("won_amount", money(twa));
    summary.put("orders", J::from(to));
    summary.put("order_amount", money(toa));
    summary.put("paid_orders", J::from(tp));
    summary.put("paid_amount", money(tpa));
    summary.put("forecast_amount", money(fa));
    summary.put("forecast_weighted", money(percent_of(fw)));
    let mut params = p.clone();
    params.window = w;
    params.by = Some(by.to_string());
    Ok(Report {
        name: "sales",
        params,
        sections: vec![summary, by_group, forecast, top],
    })
}
