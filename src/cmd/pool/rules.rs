//! `crm pool rules`: the pool's settings as now set, each with what it means.

use crate::auth::Action;
use crate::context::Ctx;
use crate::error::Result;
use crate::output::Column;

pub fn run(ctx: &mut Ctx) -> Result<()> {
    ctx.authorize(Action::Claim, Some(super::customer()), None)?;
    let zh = ctx.g.zh;
    let values = super::pool_settings(&ctx.db()?.store)?;
    let rows: Vec<Vec<serde_json::Value>> = values
        .into_iter()
        .map(|(key, value)| {
            let s = crate::settings::find(key).expect("listed from the registry");
            vec![
                key.into(),
                value.into(),
                s.default.into(),
                if zh { s.about_zh } else { s.about }.into(),
            ]
        })
        .collect();
    let cols: Vec<Column> = Column::named(&["rule", "value", "default", "about"]);
    ctx.out.rows(&cols, &rows)
}
