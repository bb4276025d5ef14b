//! `crm report funnel`: per stage the open count, how many opportunities reached the stage
//! and the conversion to the next one (from stage history), average days in the stage; per
//! stage and currency the amount and weighted amount (amount × probability); the win rate;
//! optionally by owner. Amounts are exact and never added across currencies.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::money::{amounts_section, currency_of};
use super::{CURRENCY, Params, Purse, Report, Section, col, days, money, percent_of, rate};
use crate::db::Store;
use crate::db::report::{Args, funnel as q, int, text};
use crate::error::Result;
use crate::schema::entities::STAGES;

/// The long help of `crm report funnel`: what each figure means.
pub const HELP: &str = r#"Per stage: the opportunities now in it (count; per currency in stage_amounts: amount and weighted amount = amount × probability, summed exactly and rounded once), how many reached it (entered it or a later stage, from the stage history), the conversion to the next stage (reached next ÷ reached this), and the average days of the stays in it that ended. Win rate = won ÷ (won + lost). Amounts are given per currency, never added across currencies. The cohort is the opportunities created in --from/--to; only stage history before "now" (the end of --as-of) is read, while counts use each opportunity's current stage. --by owner adds the same per owner, and --by a choice field of the opportunity (built-in or custom) per value of it."#;

/// `crm report funnel` in the report registry (`report::REPORTS`). The stage history is part of an opportunity.
pub const DEF: super::ReportDef = super::ReportDef {
    name: "funnel",
    about: "Sales funnel: stages, conversion from stage history, win rate (销售漏斗)",
    help: HELP,
    by: "owner",
    by_choice: "opportunity",
    reads: &["opportunity"],
    run,
    save: None,
};

const WON: &str = "won";
const LOST: &str = "lost";

/// The pipeline in order: every stage but `lost`.
fn pipeline() -> Vec<(&'static str, &'static str)> {
    STAGES.iter().copied().filter(|(v, _)| *v != LOST).collect()
}

/// Stage figures of one group (everyone, or one owner).
#[derive(Default, Clone)]
struct Figures {
    count: BTreeMap<String, i64>,
    /// Per stage and currency: count, amount, amount × probability (in percent).
    money: BTreeMap<String, Purse<3>>,
    /// How many reached at least pipeline stage i.
    reached: Vec<i64>,
}

impl Figures {
    fn stage_rows(&self, owner: Option<&str>, stays: &BTreeMap<String, (i64, i64)>) -> Vec<Vec<J>> {
        let pipe = pipeline();
        STAGES
            .iter()
            .map(|(stage, label)| {
                let i = pipe.iter().position(|(s, _)| s == stage);
                let reached = i.map_or(J::Null, |i| J::from(self.reached[i]));
                let conversion = match i {
                    Some(i) if i + 1 < pipe.len() => rate(self.reached[i + 1], self.reached[i]),
                    _ => J::Null,
                };
                let avg = stays
                    .get(*stage)
                    .filter(|(n, _)| *n > 0)
                    .map_or(J::Null, |(n, secs)| {
                        #[allow(clippy::cast_precision_loss)]
                        days(*secs as f64 / *n as f64)
                    });
                let mut row = vec![
                    J::from(*stage),
                    J::from(*label),
                    J::from(self.count.get(*stage).copied().unwrap_or(0)),
                    reached,
                    conversion,
                    avg,
                ];
                if let Some(o) = owner {
                    row.insert(0, J::from(o));
                }
                row
            })
            .collect()
    }

    /// One row per stage and currency that has opportunities: stage, label, currency,
    /// count, amount, weighted (owner first when given).
    fn amount_rows(&self, owner: Option<&str>) -> Vec<Vec<J>> {
        let mut rows = Vec::new();
        for (stage, label) in STAGES {
            let Some(purse) = self.money.get(*stage) else {
                continue;
            };
            for c in purse.currencies() {
                let [n, amount, weighted] = purse.get(&c);
                let mut row = vec![
                    J::from(*stage),
                    J::from(*label),
                    J::from(c),
                    J::from(i64::try_from(n).unwrap_or(i64::MAX)),
                    money(amount),
                    money(percent_of(weighted)),
                ];
                if let Some(o) = owner {
                    row.insert(0, J::from(o));
                }
                rows.push(row);
            }
        }
        rows
    }

    /// Per currency over the given stages: amount, weighted (in percent).
    fn purse(&self, stages: &[&str]) -> Purse<2> {
        let mut p = Purse::default();
        for s in stages {
            if let Some(m) = self.money.get(*s) {
                for c in m.currencies() {
                    let [_, a, w] = m.get(&c);
                    p.add(&c, 0, a);
                    p.add(&c, 1, w);
                }
            }
        }
        p
    }

    fn total(&self, stage: &str) -> i64 {
        self.count.get(stage).copied().unwrap_or(0)
    }
}

pub fn run(conn: &Store, p: &Params) -> Result<Report> {
    // By owner, or by a choice field of the opportunity (its values are the groups): its
    // column name, and its Chinese label.
    let group: Option<(&'static str, &'static str)> = match p.by.as_deref() {
        None => None,
        Some("owner") => Some(("owner", "负责人")),
        Some(other) => match super::choice_by("opportunity", other)? {
            Some(f) => Some((f.name, f.zh)),
            None => return Err(super::bad_by("funnel", other, DEF.by, "opportunity")),
        },
    };
    let pipe = pipeline();
    let args = Args::window(&p.window, p.owner.as_deref());
    let cohort = q::cohort(conn, &args, group.map_or("owner", |g| g.0))?;
    let mut all = all_empty(pipe.len());
    let mut owners: BTreeMap<String, Figures> = BTreeMap::new();
    // Per cohort member (in id order): its owner and the furthest pipeline stage reached.
    let mut furthest: Vec<Option<usize>> = Vec::with_capacity(cohort.len());
    let ids: Vec<i64> = cohort.iter().map(|r| int(&r[0])).collect();
    for r in &cohort {
        let owner = text(&r[1]).unwrap_or_default();
        let stage = text(&r[2]).unwrap_or_default();
        let currency = currency_of(&r[5]);
        let amount = i128::from(int(&r[3]));
        let f = owners.entry(owner).or_insert_with(|| all_empty(pipe.len()));
        for f in [&mut all, f] {
            *f.count.entry(stage.clone()).or_default() += 1;
            let m = f.money.entry(stage.clone()).or_default();
            m.add(&currency, 0, 1);
            m.add(&currency, 1, amount);
            m.add(&currency, 2, amount * i128::from(int(&r[4])));
        }
        furthest.push(pipe.iter().position(|(s, _)| *s == stage));
    }
    // One walk over the history: the furthest stage each opportunity entered, and how long
    // each ended stay lasted (until the next entry).
    let mut stays: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut prev: Option<(i64, String, i64)> = None;
    q::history(conn, p.window.now, |opp, stage, at| {
        let Ok(k) = ids.binary_search(&opp) else {
            return;
        };
        if let Some(i) = pipe.iter().position(|(s, _)| *s == stage) {
            furthest[k] = furthest[k].max(Some(i));
        }
        if let Some((o, s, t)) = prev.as_ref().filter(|(o, _, _)| *o == opp) {
            let _ = o;
            let e = stays.entry(s.clone()).or_default();
            e.0 += 1;
            e.1 += at - t;
        }
        prev = Some((opp, stage.to_string(), at));
    })?;
    for (r, f) in cohort.iter().zip(&furthest) {
        let Some(f) = f else { continue };
        let o = owners
            .get_mut(&text(&r[1]).unwrap_or_default())
            .expect("every cohort owner was counted");
        for i in 0..=*f {
            all.reached[i] += 1;
            o.reached[i] += 1;
        }
    }

    let stage_cols = vec![
        col("stage", "stage", "销售阶段"),
        col("label", "label", "阶段名称"),
        col("count", "count", "数量"),
        col("reached", "reached", "到达数"),
        col("conversion", "conversion", "转化率"),
        col("avg_days", "avg_days", "平均停留天数"),
    ];
    let mut stages = Section::table("stages", "Funnel by stage", "销售漏斗", stage_cols.clone())
        .chart("label", "reached");
    stages.rows = all.stage_rows(None, &stays);
    let amount_cols = vec![
        col("stage", "stage", "销售阶段"),
        col("label", "label", "阶段名称"),
        CURRENCY,
        col("count", "count", "数量"),
        col("amount", "amount", "金额"),
        col("weighted", "weighted", "加权金额"),
    ];
    let mut stage_amounts = Section::table(
        "stage_amounts",
        "Amounts by stage and currency",
        "各阶段金额（按币种）",
        amount_cols.clone(),
    );
    stage_amounts.rows = all.amount_rows(None);

    let open: Vec<&str> = STAGES
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| *s != WON && *s != LOST)
        .collect();
    let mut summary = Section::summary("summary", "Summary", "汇总");
    let total: i64 = all.count.values().sum();
    summary.put("opportunities", J::from(total));
    summary.put(
        "open",
        J::from(open.iter().map(|s| all.total(s)).sum::<i64>()),
    );
    summary.put("won", J::from(all.total(WON)));
    summary.put("lost", J::from(all.total(LOST)));
    summary.put(
        "win_rate",
        rate(all.total(WON), all.total(WON) + all.total(LOST)),
    );
    // The money of the summary, one row per currency.
    let mut amounts = amounts_section([
        col("open_amount", "open_amount", "在途金额"),
        col("open_weighted", "open_weighted", "在途加权金额"),
        col("won_amount", "won_amount", "赢单金额"),
    ]);
    let open_money = all.purse(&open);
    let won_money = all.purse(&[WON]);
    let mut currencies = open_money.currencies();
    currencies.extend(won_money.currencies());
    currencies.sort();
    currencies.dedup();
    for c in currencies {
        let [a, w] = open_money.get(&c);
        amounts.rows.push(vec![
            J::from(c.as_str()),
            money(a),
            money(percent_of(w)),
            money(won_money.get(&c)[0]),
        ]);
    }
    let mut sections = vec![summary, amounts, stages, stage_amounts];

    if let Some((g, zh)) = group {
        // Sections named and titled by the group: `by_owner`, `owner_amounts`, … or the
        // same for a choice field.
        let [
            by_g,
            g_amounts,
            win_by_g,
            en,
            en_amounts,
            en_win,
            zh_by,
            zh_amounts,
            zh_win,
        ] = [
            format!("by_{g}"),
            format!("{g}_amounts"),
            format!("win_rate_by_{g}"),
            format!("Funnel by {g}"),
            format!("Amounts by {g}, stage and currency"),
            format!("Win rate by {g}"),
            format!("按{zh}"),
            format!("各{zh}金额（按币种）"),
            format!("各{zh}赢单率"),
        ]
        .map(leak);
        let mut cols = vec![col(g, g, zh)];
        cols.extend(stage_cols);
        let mut s = Section::table(by_g, en, zh_by, cols);
        let mut cols = vec![col(g, g, zh)];
        cols.extend(amount_cols);
        let mut a = Section::table(g_amounts, en_amounts, zh_amounts, cols);
        let mut w = Section::table(
            win_by_g,
            en_win,
            zh_win,
            vec![
                col(g, g, zh),
                col("opportunities", "opportunities", "机会数"),
                col("won", "won", "赢单"),
                col("lost", "lost", "输单"),
                col("win_rate", "win_rate", "赢单率"),
            ],
        )
        .chart(g, "win_rate");
        for (owner, f) in &owners {
            s.rows.extend(f.stage_rows(Some(owner), &BTreeMap::new()));
            a.rows.extend(f.amount_rows(Some(owner)));
            w.rows.push(vec![
                J::from(owner.as_str()),
                J::from(f.count.values().sum::<i64>()),
                J::from(f.total(WON)),
                J::from(f.total(LOST)),
                rate(f.total(WON), f.total(WON) + f.total(LOST)),
            ]);
        }
        sections.push(w);
        sections.push(s);
        sections.push(a);
    }
    Ok(Report {
        name: "funnel",
        params: p.clone(),
        sections,
    })
}

/// A section name or title made for this run's choice field (sections name theirs for the
/// whole run).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn all_empty(n: usize) -> Figures {
    Figures {
        reached: vec![0; n],
        ..Figures::default()
    }
}
