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
    let order = format!(
        ",{},",
        pipe.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(",")
    );
    let args = Args::window(&p.window, p.owner.as_deref()).set("order", order.clone());
    let mut all = Figures {
        reached: vec![0; pipe.len()],
        ..Figures::default()
    };
    let mut owners: BTreeMap<String, Figures> = BTreeMap::new();
    for r in q::current(conn, &args)? {
        let stage = text(&r[0]).unwrap_or_default();
        let owner = text(&r[1]).unwrap_or_default();
        for f in [
            &mut all,
            owners.entry(owner).or_insert_with(|| all_empty(pipe.len())),
        ] {
            *f.count.entry(stage.clone()).or_default() += int(&r[2]);
            *f.amount.entry(stage.clone()).or_default() += int(&r[3]);
            *f.weighted.entry(stage.clone()).or_default() += i128::from(int(&r[4]));
        }
    }
    for r in q::reach(conn, &args)? {
        let owner = text(&r[0]).unwrap_or_default();
        // m is a character position in `order`; count the commas before it to get the index.
        let pos = usize::try_from(int(&r[1])).unwrap_or(0);
        if pos == 0 {
            continue;
        }
        let furthest = order[..pos].matches(',').count() - 1;
        let n = int(&r[2]);
        let f = owners.entry(owner).or_insert_with(|| all_empty(pipe.len()));
        for i in 0..=furthest.min(pipe.len() - 1) {
            all.reached[i] += n;
            f.reached[i] += n;
        }
    }
    let stays: BTreeMap<String, (i64, i64)> = q::stays(conn, &args)?
        .iter()
        .map(|r| (text(&r[0]).unwrap_or_default(), (int(&r[1]), int(&r[2]))))
        .collect();

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
