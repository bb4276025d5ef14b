//! `crm import --dedupe` and `--key name|phone|email`: the match keys (`crate::dedupe`) of
//! the entity's records, read once when the import begins, and of the rows it writes, so a
//! row is compared with every existing record and every earlier row of the file in memory
//! (a hash lookup a rule) rather than by a query per row.

use std::collections::HashMap;

use crate::db::Store;
use crate::db::records::field_list;
use crate::dedupe::Rule;
use crate::error::Result;
use crate::schema::kinds::phones::Region;
use crate::schema::{Entity, Value};

/// The keys of one entity's records under some of its equal-key rules.
pub struct Matcher {
    e: &'static Entity,
    /// Each rule with the positions of its field and of the field it is compared within.
    rules: Vec<(&'static Rule, usize, Option<usize>)>,
    /// Per rule: key → the records holding it (id, how messages name it).
    seen: Vec<HashMap<String, Vec<(i64, String)>>>,
    region: Region,
}

impl Matcher {
    /// Reads the keys of every record of `e` under `rules`.
    pub fn load(conn: &Store, e: &'static Entity, rules: &[&'static Rule]) -> Result<Matcher> {
        let at = |name: &str| e.fields.iter().position(|f| f.name == name);
        let mut m = Matcher {
            e,
            rules: rules
                .iter()
                .filter_map(|r| Some((*r, at(r.field)?, r.within.and_then(at))))
                .collect(),
            seen: vec![HashMap::new(); rules.len()],
            region: Region::current(),
        };
        let sql = format!(
            "SELECT \"id\", {} FROM {} ORDER BY \"id\"",
            field_list(e),
            e.table()
        );
        let mut rows = Vec::new();
        conn.each(&sql, &[], |r| {
            let mut v = r.into_values();
            let id = match v.first() {
                Some(Value::Integer(i)) => *i,
                _ => 0,
            };
            v.remove(0);
            rows.push((id, m.keys(&v), m.label(id, &v)));
            Ok(())
        })?;
        for (id, keys, label) in rows {
            m.add_keys(id, &label, keys);
        }
        Ok(m)
    }

    /// How a message names record `id` with these values: its key (`C000123`), else its id.
    fn label(&self, id: i64, values: &[Value]) -> String {
        let key = self
            .e
            .key
            .and_then(|k| self.e.fields.iter().position(|f| f.name == k))
            .and_then(|i| match &values[i] {
                Value::Text(t) => Some(t.clone()),
                _ => None,
            });
        format!("{} {}", self.e.name, key.unwrap_or_else(|| id.to_string()))
    }

    /// A record's keys, one per rule (None: empty).
    pub fn keys(&self, values: &[Value]) -> Vec<Option<String>> {
        self.rules
            .iter()
            .map(|(r, f, w)| r.key(&values[*f], w.map(|w| &values[w]), self.region))
            .collect()
    }

    fn add_keys(&mut self, id: i64, label: &str, keys: Vec<Option<String>>) {
        for (map, k) in self.seen.iter_mut().zip(keys) {
            if let Some(k) = k {
                let holders = map.entry(k).or_default();
                if !holders.iter().any(|(h, _)| *h == id) {
                    holders.push((id, label.to_string()));
                }
            }
        }
    }

    /// Remembers a written record's keys: later rows are compared with it too.
    pub fn add(&mut self, id: i64, values: &[Value]) {
        let keys = self.keys(values);
        let label = self.label(id, values);
        self.add_keys(id, &label, keys);
    }

    /// The first rule by which `values` match a record other than `except`: why the row is
    /// a duplicate (`duplicate of customer C000123 (phone)`).
    pub fn duplicate(&self, values: &[Value], except: Option<i64>) -> Option<String> {
        for ((r, ..), (map, k)) in self
            .rules
            .iter()
            .zip(self.seen.iter().zip(self.keys(values)))
        {
            let Some(k) = k else { continue };
            if let Some((_, label)) = map
                .get(&k)
                .and_then(|h| h.iter().find(|(id, _)| Some(*id) != except))
            {
                return Some(format!("duplicate of {label} ({})", r.name));
            }
        }
        None
    }

    /// The records whose key under the first rule equals that of `values` (`--key`).
    pub fn holders(&self, values: &[Value]) -> Option<&[(i64, String)]> {
        let k = self.keys(values).into_iter().next()??;
        Some(self.seen[0].get(&k).map_or(&[][..], Vec::as_slice))
    }
}
