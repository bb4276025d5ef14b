//! `crm config list|get|set|unset`: the settings (`settings::SETTINGS`) every user's commands
//! follow. Admin only; each change audited in its own transaction.

use clap::{Arg, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::audit::{self, Entry};
use crate::db::settings as stored;
use crate::error::Result;
use crate::output::{Column, Format};
use crate::settings::{self, SETTINGS};

pub fn command() -> Command {
    let key = || {
        Arg::new("key")
            .required(true)
            .value_name("KEY")
            .help("A setting's key (`crm config list` shows them)")
    };
    Command::new("config")
        .about("Show and change settings (admin)")
        .long_about("Show and change the settings every user's commands follow: the customer pool's rules, the region of phone numbers without a country code. A setting never set has its default. Admin only; every change is audited.")
        .subcommand_required(true)
        .subcommand(Command::new("list").about("Every setting with its value and default"))
        .subcommand(Command::new("get").about("A setting's value").arg(key()))
        .subcommand(
            Command::new("set")
                .about("Change a setting")
                .arg(key())
                .arg(
                    Arg::new("value")
                        .required(true)
                        .value_name("VALUE")
                        .allow_hyphen_values(true),
                ),
        )
        .subcommand(
            Command::new("unset")
                .about("Take a setting back to its default")
                .arg(key()),
        )
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let (sub, m) = m.subcommand().expect("subcommand required");
    // The key and value are checked before anything else: a typo is exit 2, a bad value 4.
    let setting = match m.try_get_one::<String>("key") {
        Ok(Some(k)) => Some(settings::find(k)?),
        _ => None,
    };
    let value = match (setting, m.try_get_one::<String>("value")) {
        (Some(s), Ok(Some(v))) => Some(s.normalise(v)?),
        _ => None,
    };
    let me = ctx.authorize(Action::Configure, None, None)?;
    match (sub, setting) {
        ("list", _) => list(ctx),
        ("get", Some(s)) => {
            let v = stored::value(&ctx.db()?.store, s)?;
            if ctx.out.format == Format::Json {
                return ctx.out.json(&serde_json::json!({
                    "key": s.key, "value": v, "default": s.default,
                }));
            }
            ctx.out.data(&format!("{v}\n"))
        }
        ("set" | "unset", Some(s)) => {
            let db = ctx.db()?;
            let tx = db.write()?;
            let old = stored::value(&tx, s)?;
            let new = value.unwrap_or_else(|| s.default.to_string());
            if sub == "set" {
                stored::set(&tx, s.key, &new, &me.name, crate::clock::now())?;
            } else {
                stored::unset(&tx, s.key)?;
            }
            audit::log(
                &tx,
                &[Entry {
                    user: Some(&me.name),
                    action: "config",
                    field: Some(s.key),
                    old: Some(old.clone()),
                    new: Some(new.clone()),
                    detail: (sub == "unset").then(|| "back to its default".to_string()),
                    ..Entry::default()
                }],
            )?;
            tx.commit()?;
            let shown = |v: &str| {
                if v.is_empty() {
                    "none".to_string()
                } else {
                    v.to_string()
                }
            };
            let (new_s, old_s) = (shown(&new), shown(&old));
            let text = if sub == "set" {
                format!("{} = {new_s} (was {old_s})", s.key)
            } else {
                format!("{} = {new_s}, its default (was {old_s})", s.key)
            };
            ctx.out.outcome(
                &text,
                &serde_json::json!({"key": s.key, "value": new, "old": old, "default": s.default}),
            )
        }
        _ => unreachable!("clap knows the subcommands and their arguments"),
    }
}

fn list(ctx: &mut Ctx) -> Result<()> {
    let set = stored::stored(&ctx.db()?.store)?;
    let zh = ctx.g.zh;
    let rows: Vec<Vec<serde_json::Value>> = SETTINGS
        .iter()
        .map(|s| {
            let v = set.get(s.key).cloned();
            vec![
                s.key.into(),
                v.clone().unwrap_or_else(|| s.default.to_string()).into(),
                s.default.into(),
                v.is_some().into(),
                s.kind_name().into(),
                if zh { s.about_zh } else { s.about }.into(),
            ]
        })
        .collect();
    let cols: Vec<Column> = Column::named(&["key", "value", "default", "set", "kind", "about"]);
    ctx.out.rows(&cols, &rows)
}
