//! `crm search TEXT [--entity E]… [--limit N]`: one text searched in every kind of record
//! the user may read, as `crm find ENTITY TEXT` searches one (the same index, semantics and
//! order). A terminal shows a table per entity; JSON is one array of
//! `{entity, id, key, name, field, snippet}`.

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::Value as J;

use crate::auth::{self, Action};
use crate::context::Ctx;
use crate::db::query::Query;
use crate::error::{Error, Result};
use crate::output::{Column, Format};
use crate::schema::{Entity, Field, Kind, Value};
use crate::search::{Plan, pinyin, tokens};

pub fn command() -> Command {
    Command::new("search")
        .about("Search every kind of record at once: names, codes, phones, e-mails, pinyin")
        .long_about(
            "Search TEXT in every kind of record your role may read, as `crm find ENTITY TEXT` does in one: \
             a case-insensitive substring of names, codes and numbers, phones, e-mails and cities \
             (Chinese of any length), digits in phone numbers whatever their separators, and Latin \
             letters as the pinyin of a name (zhangwei, zw, zhangw). Each kind's best matches come first.",
        )
        .arg(Arg::new("text").value_name("TEXT").required(true).help("What to search for"))
        .arg(
            Arg::new("entity")
                .long("entity")
                .short('e')
                .value_name("ENTITY")
                .action(ArgAction::Append)
                .help("Search only these kinds of record (repeatable)"),
        )
        .arg(
            Arg::new("limit")
                .long("limit")
                .value_name("N")
                .default_value("20")
                .value_parser(clap::value_parser!(i64).range(1..))
                .help("At most N records of each kind"),
        )
}

/// The kinds to search: those named (each must be searchable and readable: exit 2 and 7
/// otherwise), or every searchable kind the role may read.
fn kinds(ctx: &mut Ctx, m: &ArgMatches) -> Result<Vec<&'static Entity>> {
    let named: Vec<&String> = m
        .get_many::<String>("entity")
        .into_iter()
        .flatten()
        .collect();
    if named.is_empty() {
        let role = ctx.user()?.role;
        return Ok(crate::db::search::entities()
            .filter(|e| auth::allowed(role, Action::Read, Some(e), None))
            .collect());
    }
    let mut out = Vec::new();
    for name in named {
        let e = Entity::get(name)?;
        if e.search_fields().next().is_none() {
            return Err(Error::usage(format!("{} has no searchable fields", e.name)));
        }
        ctx.authorize(Action::Read, Some(e), None)?;
        if !out.iter().any(|o: &&Entity| o.name == e.name) {
            out.push(e);
        }
    }
    Ok(out)
}

/// The field a record matched in and its value: the first searchable value holding the
/// text, else a phone holding its digits, else the name by its pinyin.
fn matched(e: &Entity, fields: &[&'static Field], row: &[Value], text: &str) -> (String, String) {
    let lower = text.to_lowercase();
    let plan = Plan::new(text);
    let value = |f: &Field| {
        fields
            .iter()
            .position(|g| g.name == f.name)
            .and_then(|i| match &row[i] {
                Value::Text(s) => Some(s.clone()),
                _ => None,
            })
    };
    let found = e
        .search_fields()
        .find_map(|f| {
            value(f)
                .filter(|v| v.to_lowercase().contains(&lower))
                .map(|v| (f, v))
        })
        .or_else(|| {
            let digits = plan.phone.as_ref()?;
            e.search_fields()
                .filter(|f| f.kind == Kind::Phone)
                .find_map(|f| {
                    value(f)
                        .filter(|v| tokens::phone_norm(v).contains(digits.as_str()))
                        .map(|v| (f, v))
                })
        })
        .or_else(|| {
            let title = e.field(e.title).ok()?;
            value(title)
                .filter(|v| pinyin::matches(v, text))
                .map(|v| (title, v))
        });
    match found {
        Some((f, v)) => (f.name.to_string(), v),
        None => (String::new(), String::new()),
    }
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let text =
        crate::schema::kinds::trim(m.get_one::<String>("text").expect("required")).to_string();
    if text.is_empty() {
        return Err(Error::usage("the search text is empty"));
    }
    let limit = *m.get_one::<i64>("limit").expect("has default");
    let kinds = kinds(ctx, m)?;
    let mut groups: Vec<(&'static Entity, Vec<Vec<J>>)> = Vec::new();
    for e in kinds {
        let mut fields: Vec<&'static Field> = vec![e.field("id")?];
        fields.extend(e.search_fields());
        let mut q = Query::new(e);
        q.text = Some(text.clone());
        q.limit = Some(limit);
        // Masked fields are neither searched nor shown (SPEC "Masking").
        let rows = super::masked_rows(ctx, q, &fields)?;
        let found: Vec<Vec<J>> = rows
            .iter()
            .map(|r| {
                let text_of = |name: &str| {
                    fields
                        .iter()
                        .position(|f| f.name == name)
                        .and_then(|i| match &r[i] {
                            Value::Text(s) => Some(J::String(s.clone())),
                            _ => None,
                        })
                        .unwrap_or(J::Null)
                };
                let (field, snippet) = matched(e, &fields, r, &text);
                vec![
                    J::String(e.name.to_string()),
                    match r[0] {
                        Value::Integer(id) => J::from(id),
                        _ => J::Null,
                    },
                    e.key.map_or(J::Null, text_of),
                    text_of(e.title),
                    J::String(field),
                    J::String(snippet),
                ]
            })
            .collect();
        if !found.is_empty() {
            groups.push((e, found));
        }
    }
    let columns: Vec<Column> = ["entity", "id", "key", "name", "field", "snippet"]
        .iter()
        .map(|k| Column {
            key: (*k).to_string(),
            header: (*k).to_string(),
        })
        .collect();
    if ctx.out.format != Format::Table {
        let all: Vec<Vec<J>> = groups.into_iter().flat_map(|(_, rows)| rows).collect();
        return ctx.out.rows(&columns, &all);
    }
    if groups.is_empty() {
        ctx.out.msg(&format!("nothing matches {text}"));
        return Ok(());
    }
    for (i, (e, rows)) in groups.iter().enumerate() {
        let heading = format!(
            "{}{} {} ({})\n",
            if i > 0 { "\n" } else { "" },
            e.name,
            e.zh,
            rows.len()
        );
        ctx.out.data(&heading)?;
        let rows: Vec<Vec<J>> = rows.iter().map(|r| r[1..].to_vec()).collect();
        ctx.out.rows(&columns[1..], &rows)?;
    }
    Ok(())
}
