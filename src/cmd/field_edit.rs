//! `crm field edit` and `crm field drop`: what may change once a field holds values (its
//! labels, choices, required, default; never its kind or uniqueness), checked against them.

use clap::ArgMatches;

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::{Store, fields, records};
use crate::error::{Error, Result};
use crate::schema::custom::{self, Def};
use crate::schema::{Entity, Field, Kind, Value};

/// A `--default` parsed as the field's kind takes it (a reference must name a record).
pub fn checked_default(s: &Store, f: &Field, text: &str) -> Result<Value> {
    let v = records::parse_value(s, f, text)
        .map_err(|why| Error::invalid(format!("--default: {why}")))?;
    if v == Value::Null {
        return Err(Error::usage("--default is blank"));
    }
    Ok(v)
}

/// The stored definition of a custom field of `e`.
fn find(s: &Store, e: &Entity, name: &str) -> Result<Def> {
    fields::load(s)?
        .into_iter()
        .find(|d| d.entity == e.name && d.name == name.replace('-', "_"))
        .ok_or_else(|| fields::not_custom(e, name))
}

pub fn edit(ctx: &mut Ctx, m: &ArgMatches, e: &'static Entity, name: &str) -> Result<()> {
    let user = ctx.authorize(Action::Fields, None, None)?;
    let db = ctx.db()?;
    let old = find(&db.store, e, name)?;
    let mut new = old.clone();
    if let Some(c) = m.get_one::<String>("choices") {
        if old.kind != "choice" {
            return Err(Error::usage("--choices is only for a choice field"));
        }
        new.choices.clone_from(c);
    }
    if let Some(l) = m.get_one::<String>("label_en") {
        new.label_en.clone_from(l);
    }
    if let Some(l) = m.get_one::<String>("label_zh") {
        new.label_zh.clone_from(l);
    }
    if m.get_flag("required") {
        new.required = true;
    }
    if m.get_flag("optional") {
        new.required = false;
    }
    if m.get_flag("no_default") {
        new.default = None;
    }
    custom::check_labels(e, &new)?;
    let field = custom::field(&new, false)?;
    if let Some(text) = m.get_one::<String>("default") {
        if old.unique {
            return Err(Error::usage("a unique field takes no --default"));
        }
        let v = checked_default(&db.store, &field, text)?;
        new.default = Some(if matches!(field.kind, Kind::Ref(_)) {
            text.clone()
        } else {
            field.kind.format(&v)
        });
    }
    // The values stored must still fit: every record set when required, each in the choices.
    let allowed: Vec<&str> = match field.kind {
        Kind::Choice(list) => list.iter().map(|(v, _)| *v).collect(),
        _ => Vec::new(),
    };
    let (set, outside) = fields::stored(&db.store, e, &old.name, &allowed)?;
    if outside > 0 {
        return Err(Error::invalid(format!(
            "{outside} {} records hold a value not in the new choices",
            e.name
        )));
    }
    if new.required && !old.required && set < fields::records(&db.store, e)? {
        return Err(Error::invalid(format!(
            "some {} records have no {}: fill them before making it required",
            e.name, old.name
        )));
    }
    if new == old {
        return Err(Error::usage("nothing to change").hint("pass --label-en, --label-zh, --choices, --required, --optional, --default or --no-default"));
    }
    let tx = db.write()?;
    fields::edit(&tx, &old, &new, &user.name)?;
    tx.commit()?;
    ctx.out
        .msg(&format!("changed field {}.{}", e.name, old.name));
    Ok(())
}

pub fn drop(ctx: &mut Ctx, m: &ArgMatches, e: &'static Entity, name: &str) -> Result<()> {
    let user = ctx.authorize(Action::Fields, None, None)?;
    let def = find(&ctx.db()?.store, e, name)?;
    if !m.get_flag("yes") {
        if !ctx.g.interactive {
            return Err(Error::usage("field drop needs confirmation")
                .hint("pass --yes to drop without a terminal"));
        }
        let q = format!(
            "Drop {}.{} and its values (kept in the audit log)?",
            e.name, def.name
        );
        if !crate::prompt::confirm(&q)? {
            return Err(Error::usage("not dropped"));
        }
    }
    let kind = custom::kind(&def.kind, &def.choices)?;
    let db = ctx.db()?;
    let tx = db.write()?;
    fields::drop(&tx, e, &def, kind, &user.name)?;
    tx.commit()?;
    ctx.out
        .msg(&format!("dropped field {}.{}", e.name, def.name));
    Ok(())
}
