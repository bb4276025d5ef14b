//! `crm field add|list|edit|drop`: custom fields (`schema::custom`, `db::fields`). Adding,
//! editing and dropping are admin only and audited; a new field's name may shadow no field,
//! flag or reserved word (exit 2).

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::fields;
use crate::error::{Error, Result};
use crate::output::Column;
use crate::schema::custom::{self, Def};
use crate::schema::{Entity, Kind, Value};

#[path = "field_edit.rs"]
mod field_edit;

fn target() -> [Arg; 2] {
    [
        Arg::new("entity")
            .required(true)
            .value_name("ENTITY")
            .value_parser(super::EntityParser(None)),
        Arg::new("name")
            .required(true)
            .value_name("NAME")
            .help("The field's name, snake_case ASCII (its flag is the kebab-case form)"),
    ]
}

/// The flags `add` and `edit` share.
fn def_args(c: Command) -> Command {
    c.arg(
        Arg::new("choices")
            .long("choices")
            .value_name("A,B")
            .help("A choice field's values: `gold,silver` or `gold:金牌,silver:银牌`"),
    )
    .arg(
        Arg::new("label_en")
            .long("label-en")
            .value_name("LABEL")
            .help("English label (CSV header, prompts) [default: from the name]"),
    )
    .arg(
        Arg::new("label_zh")
            .long("label-zh")
            .value_name("LABEL")
            .help("Chinese label (CSV header under --lang zh) [default: the English label]"),
    )
    .arg(
        Arg::new("required")
            .long("required")
            .action(ArgAction::SetTrue)
            .help("Records must have a value"),
    )
    .arg(
        Arg::new("default")
            .long("default")
            .value_name("VALUE")
            .allow_hyphen_values(true)
            .help("The value a new record gets when none is given"),
    )
}

pub fn command() -> Command {
    Command::new("field")
        .about("Custom fields: add, list, edit, drop (admin)")
        .long_about("Add fields of your own to an entity. A custom field works like a built-in one: a --flag on add and edit (kebab case), prompts, find --where/--sort/--columns, text search (text, email, phone), import/export headers (English and Chinese labels), crm schema (\"custom\": true). Kinds: text, email, phone, integer, money, date, datetime, bool, choice, tags, ref:ENTITY. Adding, editing and dropping are admin only and audited; dropping keeps the old values in the audit log.")
        .subcommand_required(true)
        .subcommand(def_args(
            Command::new("add")
                .about("Add a field to an entity")
                .args(target())
                .arg(Arg::new("kind").long("kind").required(true).value_name("KIND").help(format!("One of: {}", custom::KINDS.join(", "))))
                .arg(Arg::new("unique").long("unique").action(ArgAction::SetTrue).help("No two records may share a value")),
        ))
        .subcommand(
            Command::new("list").about("The custom fields").arg(
                Arg::new("entity")
                    .value_name("ENTITY")
                    .value_parser(super::EntityParser(None)),
            ),
        )
        .subcommand(def_args(
            Command::new("edit")
                .about("Change a field's labels, choices, required or default")
                .args(target())
                .arg(Arg::new("optional").long("optional").action(ArgAction::SetTrue).conflicts_with("required").help("Records may leave it empty"))
                .arg(Arg::new("no_default").long("no-default").action(ArgAction::SetTrue).conflicts_with("default").help("New records get no default")),
        ))
        .subcommand(
            Command::new("drop")
                .about("Drop a field and its values (kept in the audit log)")
                .args(target())
                .arg(super::yes_arg()),
        )
}

// The tree comes by value as `Run::WithTree` hands it to every command that reads it.
#[allow(clippy::needless_pass_by_value)]
pub fn run(ctx: &mut Ctx, m: &ArgMatches, tree: Command) -> Result<()> {
    let (sub, m) = m.subcommand().expect("subcommand required");
    if sub == "list" {
        ctx.authorize(Action::Read, None, None)?;
        return list(ctx, m.get_one::<String>("entity").map(String::as_str));
    }
    let e = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    let name = m.get_one::<String>("name").expect("required").as_str();
    match sub {
        "add" => add(ctx, m, e, name, &tree),
        "edit" => field_edit::edit(ctx, m, e, name),
        _ => field_edit::drop(ctx, m, e, name),
    }
}

/// Every long flag a field of `e` could be confused with: the global ones and those of every
/// command, but for `add` and `edit` only their `e` subcommand's (other entities' fields).
fn flags(c: &Command, e: &Entity, out: &mut Vec<String>) {
    out.extend(
        c.get_arguments()
            .filter_map(|a| a.get_long().map(str::to_string)),
    );
    for s in c.get_subcommands() {
        if matches!(c.get_name(), "add" | "edit") && s.get_name() != e.name {
            continue;
        }
        flags(s, e, out);
    }
}

fn add(
    ctx: &mut Ctx,
    m: &ArgMatches,
    e: &'static Entity,
    name: &str,
    tree: &Command,
) -> Result<()> {
    custom::check_name(e, name)?;
    let flag = name.replace('_', "-");
    let mut taken = vec!["help".to_string(), "version".to_string()];
    flags(tree, e, &mut taken);
    if taken.contains(&flag) {
        return Err(Error::usage(format!(
            "field name '{name}' shadows the flag --{flag}"
        )));
    }
    let kind_text = m
        .get_one::<String>("kind")
        .expect("required")
        .trim()
        .to_string();
    let en = m.get_one::<String>("label_en").cloned().unwrap_or_else(|| {
        let words = name.replace('_', " ");
        words[..1].to_uppercase() + &words[1..]
    });
    let def = Def {
        entity: e.name.to_string(),
        name: name.to_string(),
        kind: kind_text.clone(),
        choices: m.get_one::<String>("choices").cloned().unwrap_or_default(),
        label_zh: m
            .get_one::<String>("label_zh")
            .cloned()
            .unwrap_or_else(|| en.clone()),
        label_en: en,
        required: m.get_flag("required"),
        unique: m.get_flag("unique"),
        default: m.get_one::<String>("default").cloned(),
    };
    if def.kind != "choice" && !def.choices.is_empty() {
        return Err(Error::usage("--choices is only for --kind choice"));
    }
    if def.unique && def.default.is_some() {
        return Err(Error::usage(
            "a unique field takes no --default (every record would share it)",
        ));
    }
    custom::check_labels(e, &def)?;
    let mut def = def;
    let field = custom::field(&def, false)?;
    let user = ctx.authorize(Action::Fields, None, None)?;
    let db = ctx.db()?;
    let fill = match def.default.clone() {
        Some(text) => {
            let v = field_edit::checked_default(&db.store, &field, &text)?;
            // Stored as the kind writes it (`12.5` → `12.50`); a reference as typed.
            if !matches!(field.kind, Kind::Ref(_)) {
                def.default = Some(field.kind.format(&v));
            }
            v
        }
        None => Value::Null,
    };
    if def.required && fill == Value::Null && fields::records(&db.store, e)? > 0 {
        return Err(Error::invalid(format!(
            "{} has records: a required field needs --default for them",
            e.name
        )));
    }
    let tx = db.write()?;
    let fill = if def.required { fill } else { Value::Null };
    fields::add(
        &tx,
        &def,
        field.kind,
        &user.name,
        crate::clock::now(),
        &fill,
    )?;
    tx.commit()?;
    ctx.out.msg(&format!(
        "added field {}.{} ({}; flag --{flag})",
        e.name, name, kind_text
    ));
    Ok(())
}

fn list(ctx: &mut Ctx, entity: Option<&str>) -> Result<()> {
    let defs = fields::load(&ctx.db()?.store)?;
    let keys = [
        "entity", "name", "kind", "choices", "label_en", "label_zh", "required", "unique",
        "default",
    ];
    let cols = Column::named(&keys);
    let rows: Vec<Vec<serde_json::Value>> = defs
        .iter()
        .filter(|d| entity.is_none_or(|n| n == d.entity))
        .map(|d| {
            vec![
                d.entity.clone().into(),
                d.name.clone().into(),
                d.kind.clone().into(),
                d.choices.clone().into(),
                d.label_en.clone().into(),
                d.label_zh.clone().into(),
                d.required.into(),
                d.unique.into(),
                d.default.clone().into(),
            ]
        })
        .collect();
    ctx.out.rows(&cols, &rows)
}
