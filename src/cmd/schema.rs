//! `crm schema [ENTITY]`: the registry as users and scripts see it.

use clap::{Arg, ArgMatches, Command};
use serde_json::{Value as J, json};

use crate::context::Ctx;
use crate::error::Result;
use crate::output::{Column, Format};
use crate::schema::{Default, Entity, Field, Kind};

pub fn command() -> Command {
    Command::new("schema")
        .about("List entities and their fields (types, labels, choices)")
        .arg(
            Arg::new("entity")
                .value_name("ENTITY")
                .value_parser(super::EntityParser(None)),
        )
}

fn default_text(f: &Field) -> J {
    match f.default {
        Default::None => J::Null,
        Default::Value(v) => v.into(),
        Default::CurrentUser => "current user".into(),
        Default::Generated(p) => format!("generated ({p}000001…)").into(),
        Default::Today => "today".into(),
        Default::Now => "now".into(),
    }
}

/// A choice's English label: its stored value in words (`prospecting` → `Prospecting`).
fn label_en(v: &str) -> String {
    let words = v.replace('_', " ");
    let mut c = words.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn field_json(f: &Field) -> Vec<J> {
    let choices = match f.kind {
        Kind::Choice(c) => J::Array(
            c.iter()
                .map(|(v, zh)| json!({"value": v, "zh": zh, "label_en": label_en(v), "label_zh": zh}))
                .collect(),
        ),
        _ => J::Null,
    };
    let reference = match f.kind {
        Kind::Ref(t) => J::from(t),
        _ => J::Null,
    };
    vec![
        f.name.into(),
        f.kind.type_name().into(),
        f.required.into(),
        f.unique.into(),
        choices,
        default_text(f),
        f.read_only.into(),
        reference,
        f.en.into(),
        f.zh.into(),
    ]
}

const KEYS: [&str; 10] = [
    "name",
    "type",
    "required",
    "unique",
    "choices",
    "default",
    "read_only",
    "references",
    "label_en",
    "label_zh",
];

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let cols: Vec<Column> = KEYS
        .iter()
        .map(|k| Column {
            key: (*k).into(),
            header: (*k).into(),
        })
        .collect();
    let entities: Vec<&Entity> = match m.get_one::<String>("entity") {
        Some(n) => vec![Entity::get(n)?],
        None => crate::schema::all().iter().collect(),
    };
    if ctx.out.format == Format::Json {
        let list: Vec<J> = entities
            .iter()
            .map(|e| {
                let fields: Vec<J> = e.columns().map(|f| {
                    let mut o = crate::output::object(&cols, &field_json(f));
                    // Only a custom field says so: the built-in registry's JSON stays as it was.
                    if f.custom && let J::Object(m) = &mut o {
                        m.insert("custom".into(), true.into());
                    }
                    o
                }).collect();
                json!({"name": e.name, "label_en": e.en, "label_zh": e.zh, "key": e.key, "fields": fields})
            })
            .collect();
        return ctx.out.json(&if entities.len() == 1 {
            list[0].clone()
        } else {
            J::Array(list)
        });
    }
    if ctx.out.format == Format::Table && entities.len() > 1 {
        let ecols: Vec<Column> = ["name", "label_en", "label_zh", "key", "fields"]
            .iter()
            .map(|k| Column {
                key: (*k).into(),
                header: (*k).into(),
            })
            .collect();
        let rows: Vec<Vec<J>> = entities
            .iter()
            .map(|e| {
                vec![
                    e.name.into(),
                    e.en.into(),
                    e.zh.into(),
                    e.key.into(),
                    e.columns().count().into(),
                ]
            })
            .collect();
        return ctx.out.rows(&ecols, &rows);
    }
    // Under --lang zh each choice shows its Chinese label too (`prospect=潜在客户`), the
    // label `export --lang zh` writes and `add`, `edit` and `import` accept.
    let zh = ctx.g.zh;
    let rows: Vec<Vec<J>> = entities
        .iter()
        .flat_map(|e| e.columns().map(field_json))
        .map(|mut r| {
            if let J::Array(c) = &r[4] {
                r[4] = J::String(
                    c.iter()
                        .filter_map(|x| {
                            let v = x["value"].as_str()?;
                            Some(match x["zh"].as_str() {
                                Some(l) if zh => format!("{v}={l}"),
                                _ => v.to_string(),
                            })
                        })
                        .collect::<Vec<_>>()
                        .join("|"),
                );
            }
            r
        })
        .collect();
    ctx.out.rows(&cols, &rows)
}
