//! `crm dedupe ENTITY [--rule RULE]… [--min-score X] [--where EXPR]…`: groups of likely
//! duplicates (`crate::dedupe`) among the records the role may read. A terminal gets a
//! table, a row per record; JSON an array of `{group, rule, score, records: […]}`.

use std::collections::HashMap;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Map, Value as J};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::query::{self, Query};
use crate::dedupe::{self, Rec, Rule};
use crate::error::{Error, Result};
use crate::output::{Column, Format};
use crate::schema::kinds::phones::Region;
use crate::schema::{Entity, Field, Value};

pub fn command() -> Command {
    Command::new("dedupe")
        .about("List groups of likely duplicate records, with the rule and a score")
        .long_about(
            "List groups of likely duplicates. Customers: by credit_code, phone, email, name (equal after \
             normalising: phones in E.164, e-mails lower-case, names without spaces, brackets, full-width forms \
             or company-form suffixes such as 有限公司 and Co., Ltd.) and similar (Jaro-Winkler similarity of the \
             normalised names ≥ --min-score, and at most a (1 − min-score) share of the shorter name's characters \
             apart, at least one edit: at 0.9 one typo up to 19 characters). Contacts: by mobile, email, and name within a customer. Leads: by phone, email and company. \
             Equal-key groups score 1. Merge a group with `crm merge`.",
        )
        .arg(super::show::entity_arg())
        .arg(Arg::new("rule").long("rule").value_name("RULE").action(ArgAction::Append).help("Only these rules (repeatable) [default: every rule of the entity]"))
        .arg(Arg::new("min_score").long("min-score").value_name("X").value_parser(clap::value_parser!(f64)).default_value("0.9").help("The similar rule's threshold, 0 to 1"))
        .arg(Arg::new("where").long("where").short('w').value_name("EXPR").action(ArgAction::Append).help("Only records matching, e.g. city=深圳 (as find's --where)"))
}

/// The rules asked for (all by default); an unknown one is a usage error naming them.
fn chosen(e: &Entity, m: &ArgMatches) -> Result<Vec<&'static Rule>> {
    let all = dedupe::rules(e.name);
    if all.is_empty() {
        return Err(Error::usage(format!("{} has no duplicate rules", e.name))
            .hint("dedupe works on customer, contact and lead"));
    }
    let names: Vec<&str> = all.iter().map(|r| r.name).collect();
    let Some(asked) = m.get_many::<String>("rule") else {
        return Ok(all.iter().collect());
    };
    let asked: Vec<&str> = asked.map(|s| s.trim()).collect();
    for a in &asked {
        if !names.contains(a) {
            return Err(Error::usage(format!("unknown rule '{a}' for {}", e.name))
                .hint(format!("rules: {}", names.join(", "))));
        }
    }
    Ok(all.iter().filter(|r| asked.contains(&r.name)).collect())
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let e = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    ctx.authorize(Action::Read, Some(e), None)?;
    let rules = chosen(e, m)?;
    let min = *m.get_one::<f64>("min_score").expect("has default");
    if !(0.0..=1.0).contains(&min) {
        return Err(Error::usage(format!(
            "--min-score {min} is not between 0 and 1"
        )));
    }
    let mut q = Query::new(e);
    for w in m.get_many::<String>("where").into_iter().flatten() {
        q.filters.push(query::parse_where(&ctx.db()?.store, e, w)?);
    }
    let mut fields: Vec<&'static Field> = vec![e.field("id")?];
    let mut at = |f: &'static Field| {
        if let Some(i) = fields.iter().position(|g| g.name == f.name) {
            i
        } else {
            fields.push(f);
            fields.len() - 1
        }
    };
    let rule_at: Vec<(usize, Option<usize>)> = rules
        .iter()
        .map(|r| {
            Ok((
                at(e.field(r.field)?),
                r.within.map(|w| e.field(w)).transpose()?.map(&mut at),
            ))
        })
        .collect::<Result<_>>()?;
    let city = e
        .field("city")
        .ok()
        .filter(|_| rules.iter().any(|r| r.similar))
        .map(&mut at);
    let phone = e
        .field("phone")
        .ok()
        .filter(|_| rules.iter().any(|r| r.similar))
        .map(&mut at);
    let region = Region::current();
    let mut recs: Vec<Rec> = Vec::new();
    query::for_each(&ctx.db()?.store, &q, &fields, |row| {
        let text = |i: Option<usize>| match i.map(|i| &row[i]) {
            Some(Value::Text(t)) => crate::schema::matchkey::person(t),
            _ => None,
        };
        recs.push(Rec {
            id: id_of(&row[0]),
            keys: rules
                .iter()
                .zip(&rule_at)
                .map(|(r, (f, w))| r.key(&row[*f], w.map(|w| &row[w]), region))
                .collect(),
            city: text(city),
            phone: match phone.map(|i| &row[i]) {
                Some(Value::Text(t)) => crate::schema::matchkey::phone(t, region),
                _ => None,
            },
        });
        Ok(())
    })?;
    let groups: Vec<(&Rule, f64, Vec<i64>)> = dedupe::groups(&recs, &rules, min)
        .into_iter()
        .map(|g| {
            let rule = rules
                .iter()
                .find(|r| r.name == g.rule)
                .expect("a chosen rule");
            (
                *rule,
                g.score,
                g.members.iter().map(|&i| recs[i].id).collect(),
            )
        })
        .collect();
    drop(recs);
    let rows = members(ctx, e, &q, &fields, &groups)?;
    print(ctx, e, &groups, &rows)
}

fn id_of(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        _ => 0,
    }
}

/// The grouped records' values by field name, read again by id: only the groups' members
/// are held, not every record's text.
fn members(
    ctx: &mut Ctx,
    e: &'static Entity,
    q: &Query,
    fields: &[&'static Field],
    groups: &[(&Rule, f64, Vec<i64>)],
) -> Result<HashMap<i64, Map<String, J>>> {
    let mut out: HashMap<i64, Map<String, J>> = groups
        .iter()
        .flat_map(|g| g.2.iter().map(|&id| (id, Map::new())))
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let mut cols = fields.to_vec();
    for f in [e.key, Some(e.title)].into_iter().flatten() {
        if !cols.iter().any(|c| c.name == f) {
            cols.push(e.field(f)?);
        }
    }
    query::for_each(&ctx.db()?.store, q, &cols, |row| {
        if let Some(slot) = out.get_mut(&id_of(&row[0])) {
            for (c, v) in cols.iter().zip(row) {
                slot.insert(c.name.to_string(), c.kind.to_json(v));
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// JSON: the groups as SPEC says; else a row per record under its group's number.
fn print(
    ctx: &mut Ctx,
    e: &'static Entity,
    groups: &[(&Rule, f64, Vec<i64>)],
    rows: &HashMap<i64, Map<String, J>>,
) -> Result<()> {
    let get =
        |m: &Map<String, J>, k: Option<&str>| k.and_then(|k| m.get(k)).cloned().unwrap_or(J::Null);
    let mut list = Vec::new();
    let mut flat = Vec::new();
    for (n, (rule, score, ids)) in (1..).zip(groups) {
        let mut records = Vec::new();
        for id in ids {
            let m = &rows[id];
            let mut o = Map::new();
            o.insert("id".into(), J::from(*id));
            o.insert("key".into(), get(m, e.key));
            o.insert("name".into(), get(m, Some(e.title)));
            for f in [Some(rule.field), rule.within].into_iter().flatten() {
                if f != e.title {
                    o.insert(f.into(), get(m, Some(f)));
                }
            }
            flat.push(vec![
                J::from(n),
                J::from(rule.name),
                J::from(*score),
                J::from(*id),
                o["key"].clone(),
                o["name"].clone(),
                get(m, Some(rule.field)),
            ]);
            records.push(J::Object(o));
        }
        let mut g = Map::new();
        g.insert("group".into(), J::from(n));
        g.insert("rule".into(), J::from(rule.name));
        g.insert("score".into(), J::from(*score));
        g.insert("records".into(), J::Array(records));
        list.push(J::Object(g));
    }
    if ctx.out.format == Format::Json {
        return ctx.out.json(&J::Array(list));
    }
    if groups.is_empty() {
        ctx.out
            .msg(&format!("no likely duplicate {} records", e.name));
        return Ok(());
    }
    let columns = Column::named(&["group", "rule", "score", "id", "key", "name", "value"]);
    ctx.out.rows(&columns, &flat)?;
    ctx.out
        .msg(&format!("{} groups of likely duplicates", groups.len()));
    Ok(())
}
