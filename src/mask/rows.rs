//! The one place values are masked on their way out: a `RowMask` for an entity and the
//! columns a command shows, applied to each row before it is rendered. It asks the query
//! for the two extra columns it needs (the id, for the reveal's audit, and `OWNED` for sales)
//! and strips them again, so table, JSON, CSV, export and search all agree.

use crate::db::query::{Hide, OWNED, Query};
use crate::schema::{Entity, Field, SYSTEM_FIELDS, Value, ValueRef};

use super::Policy;

/// How one command's rows of one entity are masked.
#[derive(Debug)]
pub struct RowMask {
    pub entity: &'static Entity,
    /// The columns the command shows (the query gets `columns()`, these and the extras).
    shown: usize,
    /// Indices of the shown columns the policy masks.
    masked: Vec<usize>,
    /// Their names, for the reveal's audit.
    pub fields: Vec<&'static str>,
    /// Whether the row ends with `OWNED` (after the id).
    owned: bool,
    /// `--reveal` by an allowed role: nothing masked, the would-be-masked records noted.
    reveal: bool,
    /// The records shown unmasked under `--reveal`, for the audit.
    pub revealed: Vec<i64>,
}

impl RowMask {
    /// The mask of `cols` of `e` under `policy`, the query told what the mask needs
    /// (None: nothing of `e` is masked for this user).
    pub fn new(
        policy: &Policy,
        me: &str,
        reveal: bool,
        e: &'static Entity,
        cols: &[&'static Field],
        q: &mut Query,
    ) -> Option<RowMask> {
        if !policy.touches(e) {
            return None;
        }
        let owned = policy.when == super::When::NotOwned;
        q.me = Some(me.to_string());
        if !reveal {
            q.hide = Some(Hide {
                fields: e
                    .columns()
                    .filter(|f| policy.masks(e, f))
                    .map(|f| f.name)
                    .collect(),
                unless_owned: owned,
            });
        }
        let masked: Vec<usize> = cols
            .iter()
            .enumerate()
            .filter(|(_, f)| policy.masks(e, f))
            .map(|(i, _)| i)
            .collect();
        Some(RowMask {
            entity: e,
            shown: cols.len(),
            fields: masked.iter().map(|&i| cols[i].name).collect(),
            masked,
            owned,
            reveal,
            revealed: Vec::new(),
        })
    }

    /// The columns to query: the shown ones, the id, and `OWNED` when ownership matters.
    pub fn columns(&self, cols: &[&'static Field]) -> Vec<&'static Field> {
        let mut all = cols.to_vec();
        all.push(&SYSTEM_FIELDS[0]);
        if self.owned {
            all.push(&OWNED);
        }
        all
    }

    /// Whether this row (with the extras) is masked; under `--reveal` notes it instead.
    fn hits(&mut self, id: Option<i64>, owned: Option<bool>) -> bool {
        if self.masked.is_empty() {
            return false;
        }
        // Sales (the rows carry `OWNED`) see their own records whole.
        let applies = !self.owned || owned != Some(true);
        if applies && self.reveal {
            if let Some(id) = id {
                self.revealed.push(id);
            }
            return false;
        }
        applies
    }

    /// A queried row as shown: the extras dropped, masked fields masked.
    pub fn apply(&mut self, cols: &[&'static Field], row: &[Value]) -> Vec<Value> {
        let int = |v: Option<&Value>| match v {
            Some(Value::Integer(i)) => Some(*i),
            _ => None,
        };
        let id = int(row.get(self.shown));
        let owned = int(row.get(self.shown + 1)).map(|o| o != 0);
        let mut out = row[..self.shown].to_vec();
        if self.hits(id, owned) {
            for &i in &self.masked {
                out[i] = super::masked(cols[i].kind, &out[i]);
            }
        }
        out
    }

    /// `apply` for export's borrowed values: the masked texts, by column (None: as stored).
    pub fn apply_refs(&mut self, cols: &[&'static Field], row: &[ValueRef]) -> Vec<Option<String>> {
        let int = |v: Option<&ValueRef>| match v {
            Some(ValueRef::Integer(i)) => Some(*i),
            _ => None,
        };
        let id = int(row.get(self.shown));
        let owned = int(row.get(self.shown + 1)).map(|o| o != 0);
        let mut out = vec![None; self.shown];
        if self.hits(id, owned) {
            for &i in &self.masked {
                let kind = cols[i].kind;
                let v = match row[i] {
                    ValueRef::Null => continue,
                    // Texts, as most masked values are, masked where they lie (a million-row
                    // export pays no copy per cell).
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        out[i] = Some(super::form::masked_text(kind, &String::from_utf8_lossy(t)));
                        continue;
                    }
                    ValueRef::Integer(n) => Value::Integer(n),
                    ValueRef::Real(r) => Value::Real(r),
                };
                if let Value::Text(s) = super::masked(kind, &v) {
                    out[i] = Some(s);
                }
            }
        }
        out
    }
}
