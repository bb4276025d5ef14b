//! `crm report funnel`: per stage the open count, amount and weighted amount (amount ×
//! probability), how many opportunities reached the stage and the conversion to the next
//! one (from stage history), average days in the stage; the win rate; optionally by owner.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde_json::Value as J;

use super::{Params, Report, Section, col, days, money, percent_of, rate};
use crate::db::report::{Args, funnel as q, int, text};
use crate::error::{Error, Result};
use crate::schema::entities::STAGES;

/// The long help of `crm report funnel`: what each figure means.
pub const HELP: &str = r#"Per stage: the opportunities now in it (count, amount, weighted amount = amount × probability, summed exactly and rounded once), how many reached it (entered it or a later stage, from the stage history), the conversion to the next stage (reached next ÷ reached this), and the average days of the stays in it that ended. Win rate = won ÷ (won + lost). The cohort is the opportunities created in --from/--to; only stage history before "now" (the end of --as-of) is read, while counts use each opportunity's current stage. --by owner adds the same per owner."#;

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
    amount: BTreeMap<String, i64>,
    weighted: BTreeMap<String, i128>,
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
                    money(self.amount.get(*stage).copied().unwrap_or(0)),
                    money(percent_of(self.weighted.get(*stage).copied().unwrap_or(0))),
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

    fn total(&self, stage: &str) -> i64 {
        self.count.get(stage).copied().unwrap_or(0)
    }
}

pub fn run(conn: &Connection, p: &Params) -> Result<Report> {
    let by_owner = match p.by.as_deref() {
        None => false,
        Some("owner") => true,
        Some(other) => {
            return Err(
                Error::usage(format!("funnel cannot be grouped by '{other}'"))
                    .hint("use --by owner"),
            );
        }
    };
    let pipe = pipeline();
    let args = Args::window(&p.window, p.owner.as_deref());
    let cohort = q::cohort(conn, &args)?;
    let mut all = all_empty(pipe.len());
    let mut owners: BTreeMap<String, Figures> = BTreeMap::new();
    // Per cohort member (in id order): its owner and the furthest pipeline stage reached.
    let mut furthest: Vec<Option<usize>> = Vec::with_capacity(cohort.len());
    let ids: Vec<i64> = cohort.iter().map(|r| int(&r[0])).collect();
    for r in &cohort {
        let owner = text(&r[1]).unwrap_or_default();
        let stage = text(&r[2]).unwrap_or_default();
        let f = owners.entry(owner).or_insert_with(|| all_empty(pipe.len()));
        for f in [&mut all, f] {
            *f.count.entry(stage.clone()).or_default() += 1;
            *f.amount.entry(stage.clone()).or_default() += int(&r[3]);
            *f.weighted.entry(stage.clone()).or_default() +=
                i128::from(int(&r[3])) * i128::from(int(&r[4]));
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
        col("amount", "amount", "金额"),
        col("weighted", "weighted", "加权金额"),
        col("reached", "reached", "到达数"),
        col("conversion", "conversion", "转化率"),
        col("avg_days", "avg_days", "平均停留天数"),
    ];
    let mut stages = Section::table("stages", "Funnel by stage", "销售漏斗", stage_cols.clone())
        .chart("label", "reached");
    stages.rows = all.stage_rows(None, &stays);

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
    summary.put(
        "open_amount",
        money(
            open.iter()
                .map(|s| all.amount.get(*s).copied().unwrap_or(0))
                .sum(),
        ),
    );
    summary.put(
        "open_weighted",
        money(percent_of(
            open.iter()
                .map(|s| all.weighted.get(*s).copied().unwrap_or(0))
                .sum(),
        )),
    );
    summary.put(
        "won_amount",
        money(all.amount.get(WON).copied().unwrap_or(0)),
    );
    let mut sections = vec![summary, stages];

    if by_owner {
        let mut cols = vec![col("owner", "owner", "负责人")];
        cols.extend(stage_cols);
        let mut s = Section::table("by_owner", "Funnel by owner", "按负责人", cols);
        let mut w = Section::table(
            "win_rate_by_owner",
            "Win rate by owner",
            "各负责人赢单率",
            vec![
                col("owner", "owner", "负责人"),
                col("opportunities", "opportunities", "机会数"),
                col("won", "won", "赢单"),
                col("lost", "lost", "输单"),
                col("win_rate", "win_rate", "赢单率"),
            ],
        )
        .chart("owner", "win_rate");
        for (owner, f) in &owners {
            s.rows.extend(f.stage_rows(Some(owner), &BTreeMap::new()));
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
    }
    Ok(Report {
        name: "funnel",
        params: p.clone(),
        sections,
    })
}

fn all_empty(n: usize) -> Figures {
    Figures {
        reached: vec![0; n],
        ..Figures::default()
    }
}
