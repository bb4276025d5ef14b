//! How the agenda is shown: a heading and a table per group on a terminal, one JSON object
//! with an array per group, or one flat CSV/TSV/JSON-lines list with the group first.

use serde_json::{Value as J, json};

use super::groups::AsOf;
use crate::context::Ctx;
use crate::error::Result;
use crate::output::table::KEEP;
use crate::output::{Column, Format, object};

/// One group's JSON key, heading, total count and listed rows (values in `KEYS` order).
pub type Group = (&'static str, &'static str, i64, Vec<Vec<J>>);

/// The keys of every agenda item.
pub const KEYS: &[&str] = &[
    "id",
    "number",
    "subject",
    "customer",
    "customer_name",
    "owner",
    "status",
    "when",
    "detail",
];

/// The columns a terminal table shows, with English and Chinese headers and how much each
/// matters (a narrow terminal leaves out the lowest first: the number and the status, then
/// the customer's name — never when it is due and whose it is, what needs doing and why);
/// the customer's code is left to JSON and CSV.
const TABLE: [(usize, &str, &str, u8); 8] = [
    (0, "id", "编号", KEEP),
    (2, "subject", "主题", 200),
    (4, "customer", "客户", 120),
    (8, "why", "说明", 150),
    (7, "when", "时间", KEEP),
    (5, "owner", "负责人", KEEP),
    (6, "status", "状态", 80),
    (1, "number", "单号", 60),
];

pub fn print(ctx: &Ctx, at: &AsOf, out: &[Group]) -> Result<()> {
    let columns: Vec<Column> = KEYS
        .iter()
        .map(|k| Column {
            key: (*k).into(),
            header: (*k).into(),
        })
        .collect();
    match ctx.out.format {
        Format::Json => {
            let mut doc = serde_json::Map::new();
            doc.insert(
                "as_of".into(),
                json!(crate::schema::kinds::format_datetime(at.moment)),
            );
            doc.insert("days".into(), json!(at.days));
            doc.insert("user".into(), json!(at.user));
            doc.insert("limit".into(), json!(at.limit));
            let totals: serde_json::Map<String, J> = out
                .iter()
                .map(|(k, _, t, _)| ((*k).to_string(), json!(t)))
                .collect();
            doc.insert("totals".into(), J::Object(totals));
            for (key, _, _, rows) in out {
                doc.insert(
                    (*key).into(),
                    J::Array(rows.iter().map(|r| object(&columns, r)).collect()),
                );
            }
            ctx.out.json(&J::Object(doc))
        }
        Format::Table => {
            if out.iter().all(|(_, _, total, _)| *total == 0) {
                let day = at.today.format("%Y-%m-%d");
                return ctx.out.data(&if at.zh {
                    format!("截至 {day}，没有需要处理的事项。\n")
                } else {
                    format!("Nothing needs attention as of {day}.\n")
                });
            }
            for (n, (key, heading, total, rows)) in out.iter().enumerate() {
                let state = state_field(key);
                let gap = if n == 0 { "" } else { "\n" };
                ctx.out.data(&format!(
                    "{gap}{heading} ({})\n",
                    shown_count(rows.len(), *total)
                ))?;
                // A column empty for the whole group (no numbers on follow-ups, no customer
                // on the customers themselves) is left out of its table.
                let shown: Vec<&(usize, &str, &str, u8)> = TABLE
                    .iter()
                    .filter(|(i, _, _, _)| {
                        rows.iter()
                            .any(|r| !crate::output::cell_text(&r[*i]).is_empty())
                    })
                    .collect();
                if !rows.is_empty() {
                    // The "status" column holds the group's own state field, named as such.
                    let cols: Vec<Column> = shown
                        .iter()
                        .map(|&&(i, en, zh, _)| {
                            let header = match (KEYS[i], state) {
                                ("status", Some(f)) if at.zh => f.zh,
                                ("status", Some(f)) => f.name,
                                _ if at.zh => zh,
                                _ => en,
                            };
                            Column {
                                key: KEYS[i].into(),
                                header: header.into(),
                            }
                        })
                        .collect();
                    let picked: Vec<Vec<J>> = rows
                        .iter()
                        .map(|r| {
                            shown
                                .iter()
                                .map(|(i, _, _, _)| match (KEYS[*i], state, &r[*i]) {
                                    ("status", Some(f), J::String(v)) if at.zh => {
                                        json!(choice_label(f, v))
                                    }
                                    _ => r[*i].clone(),
                                })
                                .collect()
                        })
                        .collect();
                    let rank: Vec<u8> = shown.iter().map(|c| c.3).collect();
                    ctx.out.rows_ranked(&cols, &picked, Some(&rank))?;
                }
            }
            Ok(())
        }
        _ => {
            // CSV, TSV, JSON lines: one flat list with the group as the first column.
            let mut cols = vec![Column {
                key: "group".into(),
                header: "group".into(),
            }];
            cols.extend(columns);
            let flat: Vec<Vec<J>> = out
                .iter()
                .flat_map(|(key, _, _, rows)| {
                    rows.iter().map(move |r| {
                        std::iter::once(json!(key))
                            .chain(r.iter().cloned())
                            .collect()
                    })
                })
                .collect();
            ctx.out.rows(&cols, &flat)
        }
    }
}

/// The field a group's "status" column holds, as its entry in `GROUPS` says (a follow-up's
/// type, an opportunity's stage, the status of the rest).
fn state_field(group: &str) -> Option<&'static crate::schema::Field> {
    let (_, entity, _, _, _, field) = super::GROUPS.iter().find(|g| g.0 == group)?;
    crate::schema::Entity::get(entity)
        .and_then(|e| e.field(field))
        .ok()
}

/// A choice's Chinese label (the value itself when it has none).
fn choice_label<'a>(f: &crate::schema::Field, value: &'a str) -> &'a str {
    match f.kind {
        crate::schema::Kind::Choice(choices) => choices
            .iter()
            .find(|(v, _)| *v == value)
            .map_or(value, |(_, zh)| zh),
        _ => value,
    }
}

/// `12`, or `50 of 1234` when the list was cut at the limit.
fn shown_count(listed: usize, total: i64) -> String {
    if i64::try_from(listed).is_ok_and(|l| l < total) {
        format!("{listed} of {total}")
    } else {
        total.to_string()
    }
}
