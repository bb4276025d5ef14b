//! `crm import history` and `crm import revert BATCH`.

use clap::ArgMatches;
use serde_json::json;

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::batch;
use crate::error::Result;
use crate::output::Column;
use crate::schema::Entity;
use crate::schema::kinds::format_datetime;

pub fn history(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let entity = m
        .get_one::<String>("entity")
        .map(|n| Entity::get(n))
        .transpose()?;
    ctx.authorize(Action::Import, entity, None)?;
    let limit = m.get_one::<i64>("limit").copied().unwrap_or(50);
    let list = batch::history(&ctx.db()?.store, entity.map(|e| e.name), limit)?;
    let keys = [
        "batch",
        "at",
        "user",
        "entity",
        "file",
        "mode",
        "encoding",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "reverted_at",
        "keep_times",
    ];
    let columns: Vec<Column> = keys
        .iter()
        .map(|k| Column {
            key: (*k).to_string(),
            header: (*k).to_string(),
        })
        .collect();
    let rows: Vec<Vec<serde_json::Value>> = list
        .iter()
        .map(|b| {
            vec![
                json!(b.id),
                json!(format_datetime(b.at)),
                json!(b.user),
                json!(b.entity),
                json!(b.file),
                json!(b.mode),
                json!(b.encoding),
                json!(b.inserted),
                json!(b.updated),
                json!(b.unchanged),
                json!(b.rejected),
                b.reverted_at
                    .map_or(serde_json::Value::Null, |t| json!(format_datetime(t))),
                json!(b.keep_times),
            ]
        })
        .collect();
    // On a narrow terminal a batch keeps when, what and its counts; the encoding, mode and
    // the entity the filter names go first (`reverted_at` too while no batch was reverted).
    let reverted = list.iter().any(|b| b.reverted_at.is_some());
    let rank = [
        crate::output::table::KEEP,
        6,
        3,
        if entity.is_some() { 0 } else { 5 },
        5,
        2,
        1,
        6,
        6,
        2,
        6,
        if reverted { 4 } else { 0 },
        if list.iter().any(|b| b.keep_times) {
            3
        } else {
            0
        },
    ];
    ctx.out.rows_ranked(&columns, &rows, Some(&rank))
}

pub fn revert(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let id = *m.get_one::<i64>("batch").expect("required");
    ctx.authorize(Action::Import, None, None)?;
    let b = batch::get(&ctx.db()?.store, id)?;
    let e = Entity::get(&b.entity)?;
    let user = ctx.authorize(Action::Import, Some(e), None)?;
    let db = ctx.db()?;
    let tx = db.write()?;
    let done = batch::revert(&tx, id, &user.name)?;
    tx.commit()?;
    if ctx.out.format == crate::output::Format::Json {
        return ctx.out.json(&json!({
            "batch": id, "entity": e.name, "deleted": done.deleted, "restored": done.restored,
        }));
    }
    ctx.out.msg(&format!(
        "reverted import batch {id} ({}): {} deleted, {} restored",
        e.name, done.deleted, done.restored
    ));
    Ok(())
}
