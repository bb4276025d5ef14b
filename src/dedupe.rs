//! Finding likely duplicates: each entity's rules (equal match keys, `schema::matchkey`, and
//! similar names), the groups they make of a set of records, in a deterministic order.
//! Used by `crm dedupe` (every rule) and `crm import --dedupe` (the equal-key rules).
//! Pure: the records come from the caller (read through `db::query`).

mod similar;

use crate::schema::Value;
use crate::schema::kinds::phones::Region;
use crate::schema::matchkey;

/// How a field's value becomes its match key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    Phone,
    Email,
    Credit,
    Company,
    Person,
}

impl Norm {
    /// The key of a stored value; `None` for an empty one (never a match).
    pub fn key(self, v: &Value, region: Region) -> Option<String> {
        let Value::Text(t) = v else { return None };
        match self {
            Norm::Phone => matchkey::phone(t, region),
            Norm::Email => matchkey::email(t),
            Norm::Credit => matchkey::credit_code(t),
            Norm::Company => matchkey::company(t),
            Norm::Person => matchkey::person(t),
        }
    }
}

/// One rule of an entity: a field compared by its key (within the same value of `within`,
/// a contact's customer), or by name similarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub field: &'static str,
    pub norm: Norm,
    pub within: Option<&'static str>,
    pub similar: bool,
}

const fn eq(name: &'static str, field: &'static str, norm: Norm) -> Rule {
    Rule {
        name,
        field,
        norm,
        within: None,
        similar: false,
    }
}

const CUSTOMER: &[Rule] = &[
    eq("credit_code", "credit_code", Norm::Credit),
    eq("phone", "phone", Norm::Phone),
    eq("email", "email", Norm::Email),
    eq("name", "name", Norm::Company),
    Rule {
        similar: true,
        ..eq("similar", "name", Norm::Company)
    },
];

const CONTACT: &[Rule] = &[
    eq("mobile", "mobile", Norm::Phone),
    eq("email", "email", Norm::Email),
    Rule {
        within: Some("customer"),
        ..eq("name", "name", Norm::Person)
    },
];

const LEAD: &[Rule] = &[
    eq("phone", "phone", Norm::Phone),
    eq("email", "email", Norm::Email),
    eq("company", "company", Norm::Company),
];

/// The rules of an entity (none: it has no duplicate rules).
pub fn rules(entity: &str) -> &'static [Rule] {
    match entity {
        "customer" => CUSTOMER,
        "contact" => CONTACT,
        "lead" => LEAD,
        _ => &[],
    }
}

/// The equal-key rule of an entity comparing `field` (`import --key`), if any.
pub fn rule_for_field(entity: &str, field: &str) -> Option<&'static Rule> {
    rules(entity)
        .iter()
        .find(|r| !r.similar && r.field == field)
}

/// One record as the rules see it: its keys per rule (None: empty), a city and phone key
/// for similarity blocks.
#[derive(Debug, Clone)]
pub struct Rec {
    pub id: i64,
    pub keys: Vec<Option<String>>,
    pub city: Option<String>,
    pub phone: Option<String>,
}

impl Rule {
    /// The key of a record's values: `value` of the rule's field, `within` the value of the
    /// field it is compared within.
    pub fn key(&self, value: &Value, within: Option<&Value>, region: Region) -> Option<String> {
        let k = self.norm.key(value, region)?;
        match within {
            None => Some(k),
            Some(Value::Integer(w)) => Some(format!("{w}\u{1f}{k}")),
            Some(Value::Text(w)) => Some(format!("{w}\u{1f}{k}")),
            Some(_) => None,
        }
    }
}

/// A group of likely duplicates: record positions in the caller's list, ascending by id.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub rule: &'static str,
    pub score: f64,
    pub members: Vec<usize>,
}

/// The groups of every rule in `rules` (positions into `recs`, whose `keys` follow `rules`):
/// rule by rule, each rule's groups by their lowest id. `min_score` is the similar rule's
/// threshold; pairs that an equal `name` rule in `rules` already groups are left to it.
pub fn groups(recs: &[Rec], rules: &[&Rule], min_score: f64) -> Vec<Group> {
    let mut out = Vec::new();
    for (r, rule) in rules.iter().enumerate() {
        if rule.similar {
            let equal_names = rules
                .iter()
                .any(|o| !o.similar && o.field == rule.field && o.norm == rule.norm);
            out.extend(similar::groups(recs, r, rule.name, min_score, equal_names));
            continue;
        }
        // Positions sorted by key (4 bytes a record, where a map of keys to positions
        // took some 120: a million customers must fit in 512 MiB); equal keys are runs.
        let key = |i: u32| recs[i as usize].keys[r].as_deref();
        let mut by_key: Vec<u32> = (0..recs.len())
            .filter(|&i| recs[i].keys[r].is_some())
            .map(|i| u32::try_from(i).expect("fewer than 4 billion records"))
            .collect();
        by_key.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)));
        let mut found: Vec<Group> = by_key
            .chunk_by(|&a, &b| key(a) == key(b))
            .filter(|m| m.len() > 1)
            .map(|m| {
                let mut members: Vec<usize> = m.iter().map(|&i| i as usize).collect();
                members.sort_by_key(|&i| recs[i].id);
                Group {
                    rule: rule.name,
                    score: 1.0,
                    members,
                }
            })
            .collect();
        found.sort_by_key(|g| recs[g.members[0]].id);
        out.extend(found);
    }
    out
}

#[cfg(test)]
mod tests;
