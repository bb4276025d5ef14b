//! `crm merge history` and `crm merge revert N`; what merge and revert share: the ownership
//! check (sales: only when they own every record involved) and the report of a merge.

use clap::ArgMatches;
use serde_json::{Map, json};

use crate::auth::{Action, User};
use crate::context::Ctx;
use crate::db::merge::{self, Plan};
use crate::db::records::Draft;
use crate::error::Result;
use crate::output::Column;
use crate::schema::Entity;
use crate::schema::kinds::format_datetime;

/// Refuses (exit 7, audited as every refusal) unless the user may merge each record: a role
/// bound to its own records must own them all.
pub fn authorize(ctx: &mut Ctx, user: &User, drafts: &[Draft]) -> Result<()> {
    for d in drafts {
        if crate::auth::allowed(user.role, Action::Merge, Some(d.entity), Some(false)) {
            continue;
        }
        let owns = super::owns(&ctx.db()?.store, user, d)?;
        ctx.authorize(Action::Merge, Some(d.entity), owns)?;
    }
    Ok(())
}

pub fn history(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let entity = m
        .get_one::<String>("entity")
        .map(|n| Entity::get(n))
        .transpose()?;
    ctx.authorize(Action::Merge, entity, None)?;
    let limit = m.get_one::<i64>("limit").copied().unwrap_or(50);
    let list = merge::history(&ctx.db()?.store, entity.map(|e| e.name), limit)?;
    let columns = Column::named(&[
        "merge",
        "at",
        "user",
        "entity",
        "keep",
        "dups",
        "reverted_at",
    ]);
    let rows: Vec<Vec<serde_json::Value>> = list
        .iter()
        .map(|x| {
            vec![
                json!(x.id),
                json!(format_datetime(x.at)),
                json!(x.user),
                json!(x.entity),
                json!(x.keep),
                json!(x.dups),
                x.reverted_at
                    .map_or(serde_json::Value::Null, |t| json!(format_datetime(t))),
            ]
        })
        .collect();
    ctx.out.rows(&columns, &rows)
}

pub fn revert(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let n = *m.get_one::<i64>("merge").expect("required");
    let user = ctx.authorize(Action::Merge, None, None)?;
    let conn = &ctx.db()?.store;
    let log = merge::get(conn, n)?;
    let e = Entity::get(&log.entity)?;
    ctx.authorize(Action::Merge, Some(e), None)?;
    let involved = merge::revert::involved(&ctx.db()?.store, &log)?;
    authorize(ctx, &user, &involved)?;
    let db = ctx.db()?;
    let tx = db.write()?;
    let back = merge::revert(&tx, n, &user.name)?;
    tx.commit()?;
    ctx.out.outcome(
        &format!(
            "reverted merge {n}: {} {} restored, {back} references pointed back",
            e.name,
            log.dups.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ),
        &json!({"merge": n, "entity": e.name, "keep": log.keep, "restored": log.dups, "repointed": back}),
    )
}

pub fn join(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plan (dry run) or what was done: one JSON object, or lines for a person.
pub fn report(ctx: &Ctx, plan: &Plan, n: Option<i64>) -> Result<()> {
    let e = plan.entity;
    let dups: Vec<i64> = plan.dups.iter().map(|d| d.id).collect();
    let mut fields = Map::new();
    let mut lines = Vec::new();
    for (f, v, from) in &plan.fills {
        let text = e.field(f)?.kind.format(v);
        lines.push(format!("  {f} = {text} (from {from})"));
        fields.insert((*f).to_string(), json!(text));
    }
    let counts = plan.ref_counts();
    let repointed: Map<String, serde_json::Value> = counts
        .iter()
        .map(|(n, c)| ((*n).to_string(), json!(c)))
        .collect();
    for (name, c) in &counts {
        lines.push(format!("  {c} {name} re-pointed"));
    }
    let head = match n {
        Some(n) => format!(
            "merge {n}: merged {} {} into {}",
            e.name,
            join(&dups),
            plan.keep.id
        ),
        None => format!(
            "would merge {} {} into {} (dry run)",
            e.name,
            join(&dups),
            plan.keep.id
        ),
    };
    let text = std::iter::once(head)
        .chain(lines)
        .collect::<Vec<_>>()
        .join("\n");
    if n.is_none() && ctx.out.format != crate::output::Format::Json {
        // The plan is what a dry run was asked for: data, on stdout.
        return ctx.out.data(&format!("{text}\n"));
    }
    ctx.out.outcome(
        &text,
        &json!({
            "merge": n, "entity": e.name, "keep": plan.keep.id, "merged": dups,
            "fields": fields, "repointed": repointed, "dry_run": n.is_none(),
        }),
    )
}
