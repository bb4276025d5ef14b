//! Printing a report: tables (with a bar chart per section on a terminal), one JSON object,
//! or CSV/TSV rows that all start with the section's name so one file holds every section.

use std::fmt::Write as _;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use serde_json::{Map, Value as J};

use super::{Report, Section, chart};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::Format;

/// Text of a cell: rates as `66.67% (2/3)`, lists joined by `;`.
pub fn cell_text(v: &J) -> String {
    if let J::Object(o) = v
        && let (Some(n), Some(d)) = (o.get("numerator"), o.get("denominator"))
    {
        let (n, d) = (crate::output::cell_text(n), crate::output::cell_text(d));
        if let Some(m) = o.get("mean") {
            let m = if m.is_null() {
                "-".to_string()
            } else {
                crate::output::cell_text(m)
            };
            return format!("{m} ({n}/{d})");
        }
        return match o.get("rate").and_then(J::as_f64) {
            Some(r) => format!("{:.2}% ({n}/{d})", r * 100.0),
            None => format!("- ({n}/{d})"),
        };
    }
    crate::output::cell_text(v)
}

/// Chinese names of the summary metrics, for `--lang zh` tables (JSON keys stay English).
const METRICS_ZH: &[(&str, &str)] = &[
    ("opportunities", "机会数"),
    ("open", "进行中"),
    ("won", "赢单"),
    ("lost", "输单"),
    ("win_rate", "赢单率"),
    ("won_count", "赢单数"),
    ("orders", "订单数"),
    ("paid_orders", "已付款订单"),
    ("customers", "客户数"),
    ("active", "活跃客户"),
    ("new", "新增客户"),
    ("active_at_start", "期初活跃"),
    ("churned", "流失"),
    ("churn_rate", "流失率"),
    ("segments_changed", "细分变更数"),
    ("customers_scored", "参与评分客户"),
    ("recency_days_mean", "平均距今天数(R)"),
    ("frequency_mean", "平均购买次数(F)"),
    ("rule", "规则"),
    ("tickets", "工单数"),
    ("unresolved", "未解决"),
    ("resolved", "已解决"),
    ("avg_hours", "平均解决时长(小时)"),
    ("p90_hours", "P90解决时长(小时)"),
    ("breached", "超时率"),
    ("complaint_rate", "投诉率"),
    ("satisfaction", "满意度均值"),
    ("contracts", "合同数"),
    ("in_force", "执行中"),
    ("renewals", "续签数"),
    ("renewal_rate", "续签率"),
    ("done", "已完成"),
    ("overdue", "逾期"),
    ("open_overdue", "当前逾期未完成"),
    ("neglected_customers", "30天未跟进客户"),
    ("neglect_days", "未跟进天数"),
];

/// A summary metric's name as a table shows it.
fn metric_name(key: &str, zh: bool) -> String {
    METRICS_ZH
        .iter()
        .find(|(k, _)| zh && *k == key)
        .map_or_else(|| key.to_string(), |(_, z)| (*z).to_string())
}

/// The number a cell stands for (for charts and alignment).
pub fn cell_number(v: &J) -> Option<f64> {
    match v {
        J::Number(n) => n.as_f64(),
        J::String(s) => s.parse().ok(),
        J::Object(o) => o.get("rate").and_then(J::as_f64),
        _ => None,
    }
}

/// The sections to print: all, or the one `only` names (a usage error naming the others).
pub fn pick<'a>(r: &'a Report, only: Option<&str>) -> Result<Vec<&'a Section>> {
    let Some(name) = only else {
        return Ok(r.sections.iter().collect());
    };
    let s: Vec<&Section> = r.sections.iter().filter(|s| s.name == name).collect();
    if s.is_empty() {
        let names: Vec<&str> = r.sections.iter().map(|s| s.name).collect();
        return Err(
            Error::usage(format!("report {} has no section '{name}'", r.name))
                .hint(format!("sections: {}", names.join(", "))),
        );
    }
    Ok(s)
}

/// Prints the report in the context's format; `only` keeps one section.
pub fn print(ctx: &Ctx, r: &Report, only: Option<&str>) -> Result<()> {
    let sections = pick(r, only)?;
    match ctx.out.format {
        Format::Json | Format::Jsonl => print_json(ctx, r, &sections),
        Format::Csv | Format::Tsv => print_csv(ctx, &sections),
        Format::Table => print_tables(ctx, r, &sections),
    }
}

fn section_json(s: &Section) -> J {
    if s.summary {
        let mut m = Map::new();
        for row in &s.rows {
            let key = row[0].as_str().unwrap_or_default().to_string();
            m.insert(key, row[1].clone());
        }
        return J::Object(m);
    }
    J::Array(
        s.rows
            .iter()
            .map(|row| {
                J::Object(
                    s.cols
                        .iter()
                        .zip(row)
                        .map(|(c, v)| (c.key.to_string(), v.clone()))
                        .collect(),
                )
            })
            .collect(),
    )
}

fn params_json(r: &Report) -> J {
    let w = &r.params.window;
    serde_json::json!({
        "from": w.from_text(),
        "to": w.to_text(),
        "as_of": crate::period::ymd(w.as_of),
        "owner": r.params.owner,
        "by": r.params.by,
    })
}

fn print_json(ctx: &Ctx, r: &Report, sections: &[&Section]) -> Result<()> {
    let mut m = Map::new();
    m.insert("report".into(), J::from(r.name));
    m.insert("params".into(), params_json(r));
    for s in sections {
        m.insert(s.name.into(), section_json(s));
    }
    if ctx.out.format == Format::Jsonl {
        let mut text = serde_json::to_string(&J::Object(m))?;
        text.push('\n');
        return ctx.out.data(&text);
    }
    ctx.out.json(&J::Object(m))
}

fn print_csv(ctx: &Ctx, sections: &[&Section]) -> Result<()> {
    let delim = if ctx.out.format == Format::Tsv {
        b'\t'
    } else {
        b','
    };
    let mut text = Vec::new();
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            text.push(b'\n');
        }
        let mut w = csv::WriterBuilder::new()
            .delimiter(delim)
            .from_writer(Vec::new());
        let header = std::iter::once("section").chain(s.cols.iter().map(|c| c.key));
        w.write_record(header)?;
        for row in &s.rows {
            let cells =
                std::iter::once(s.name.to_string()).chain(row.iter().map(|v| csv_cell(ctx, v)));
            w.write_record(cells)?;
        }
        text.extend(w.into_inner().map_err(|e| Error::internal(e.to_string()))?);
    }
    crate::output::write_stdout(&text)
}

/// CSV cells stay machine-readable: a rate is its plain decimal; text is neutralised as
/// every CSV crm writes (unless `--raw`).
fn csv_cell(ctx: &Ctx, v: &J) -> String {
    match v {
        J::Object(o) if o.contains_key("mean") => crate::output::cell_text(&o["mean"]),
        J::Object(o) if o.contains_key("rate") => o
            .get("rate")
            .filter(|r| !r.is_null())
            .map(ToString::to_string)
            .unwrap_or_default(),
        other => ctx.out.csv_cell(other),
    }
}

fn print_tables(ctx: &Ctx, r: &Report, sections: &[&Section]) -> Result<()> {
    let zh = ctx.g.zh;
    let tty = ctx.out.stdout_tty;
    let mut text = String::new();
    let w = &r.params.window;
    let _ = writeln!(
        text,
        "{} {}: {} – {} (as of {}){}",
        if zh { "报表" } else { "report" },
        r.name,
        w.from_text().unwrap_or_else(|| "start".into()),
        w.to_text(),
        crate::period::ymd(w.as_of),
        r.params
            .owner
            .as_ref()
            .map(|o| format!(", owner {o}"))
            .unwrap_or_default()
    );
    let width = crate::output::table::terminal_width();
    let mut left_out: Vec<String> = Vec::new();
    for s in sections {
        text.push('\n');
        let title = format!("{} / {}", s.en, s.zh);
        // A narrow terminal gets the title in the output's language only.
        if !tty || unicode_width::UnicodeWidthStr::width(title.as_str()) <= width {
            let _ = writeln!(text, "{title}");
        } else {
            let _ = writeln!(text, "{}", if zh { s.zh } else { s.en });
        }
        if s.rows.is_empty() {
            text.push_str(if zh {
                "（无数据）\n"
            } else {
                "(no data)\n"
            });
            continue;
        }
        let mut t = Table::new();
        if tty {
            t.load_preset(presets::UTF8_FULL_CONDENSED);
        } else {
            t.load_preset(presets::ASCII_MARKDOWN);
        }
        // Fitted to the terminal before drawing (the least important columns go, text is
        // cut with `…`), so comfy-table never wraps a number or a word across lines.
        t.set_content_arrangement(ContentArrangement::Disabled);
        let header: Vec<String> = s
            .cols
            .iter()
            .map(|c| if zh { c.zh } else { c.key }.to_string())
            .collect();
        let mut cells: Vec<Vec<String>> = s
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        if s.summary && i == 0 {
                            metric_name(v.as_str().unwrap_or_default(), zh)
                        } else {
                            escape(&cell_text(v))
                        }
                    })
                    .collect()
            })
            .collect();
        let keep: Vec<usize> = if tty {
            let rank: Vec<u8> = (0..s.cols.len()).map(|i| rank(s, i)).collect();
            let shown_header: Vec<String> = if s.summary {
                vec![String::new(); header.len()]
            } else {
                header.clone()
            };
            let keep = crate::output::table::fit_ranked(&shown_header, &cells, width, &rank);
            crate::output::table::shorten(&shown_header, &mut cells, &keep, width);
            keep
        } else {
            (0..s.cols.len()).collect()
        };
        left_out.extend(
            (0..header.len())
                .filter(|i| !keep.contains(i))
                .map(|i| format!("{}.{}", s.name, header[i])),
        );
        if !s.summary {
            t.set_header(keep.iter().map(|&i| header[i].clone()));
        }
        for (row, shown) in s.rows.iter().zip(cells) {
            t.add_row(keep.iter().map(|&i| {
                let v = &row[i];
                let mut c = comfy_table::Cell::new(&shown[i]);
                if cell_number(v).is_some() && !v.is_string() || is_money(v) {
                    c = c.set_alignment(CellAlignment::Right);
                }
                c
            }));
        }
        let _ = writeln!(text, "{t}");
        if let (true, Some(spec)) = (tty, s.chart) {
            text.push_str(&charts(s, spec, width));
        }
    }
    if !left_out.is_empty() {
        ctx.out.msg(&format!(
            "note: not shown for lack of width: {} (widen the terminal, or use --format json)",
            left_out.join(", ")
        ));
    }
    ctx.out.data(&text)
}

/// How much a report column matters on a narrow terminal (see `table::fit_ranked`): a
/// section's first column, the currency and a summary's pairs always stay; labels that
/// repeat a key, helper columns and counts beside amounts go first.
fn rank(s: &Section, i: usize) -> u8 {
    use crate::output::table::KEEP;
    if i == 0 || s.summary {
        return KEEP;
    }
    match s.cols[i].key {
        "currency" => KEEP,
        "label" | "key" => 40,
        "r" | "f" | "m" => 50,
        "avg_days" => 60,
        "paid_orders" | "won_count" | "orders" | "previous_end" | "renewal_start" => 80,
        "reached" | "share" | "code" => 100,
        "count" | "contracts" | "customers" => 120,
        "conversion" => 140,
        _ => 160,
    }
}

/// A bar of a chart: label, length, the value shown.
type Bar = (String, f64, String);

/// The section's bar chart: one per currency when it draws money, so that bars of
/// different currencies are never measured against each other.
fn charts(s: &Section, spec: super::ChartSpec, width: usize) -> String {
    let money = s.rows.iter().any(|row| is_money(&row[spec.value]));
    let cur_col = s.cols.iter().position(|c| c.key == "currency");
    let cur = cur_col.filter(|_| money);
    let mut groups: Vec<(Option<String>, Vec<Bar>)> = Vec::new();
    for row in s.rows.iter().filter(|row| !row[spec.value].is_null()) {
        let c = cur.map(|i| cell_text(&row[i]));
        // Counts in rows per currency: each bar names its currency.
        let label = match cur_col.filter(|_| !money) {
            Some(i) => format!("{} {}", cell_text(&row[spec.label]), cell_text(&row[i])),
            None => cell_text(&row[spec.label]),
        };
        let bar = (
            label,
            cell_number(&row[spec.value]).unwrap_or(0.0),
            cell_text(&row[spec.value]),
        );
        match groups.iter_mut().find(|(k, _)| *k == c) {
            Some((_, bars)) => bars.push(bar),
            None => groups.push((c, vec![bar])),
        }
    }
    let mut out = String::new();
    for (c, bars) in groups {
        if let Some(c) = c {
            let _ = writeln!(out, "{c}:");
        }
        out.push_str(&chart::bars(&bars, width));
    }
    out
}

fn is_money(v: &J) -> bool {
    v.as_str().is_some_and(|s| {
        let body = s.strip_prefix('-').unwrap_or(s);
        body.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty() && b.len() == 2 && (a.to_string() + b).bytes().all(|c| c.is_ascii_digit())
        })
    })
}

/// Control characters shown escaped, so stored text cannot drive the terminal.
fn escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
