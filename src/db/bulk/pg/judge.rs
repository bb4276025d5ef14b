//! One row of an import on `PostgreSQL`, judged in file order exactly as the `SQLite` path
//! and the writer judge it (the same checks, reasons and generated keys), from what the
//! chunk's queries found.

use std::collections::HashSet;

use super::{Found, PgBulk, map_key, unique_key};
use crate::db::Store;
use crate::db::bulk::{Key, Mode, Outcome, Row, is_row_error};
use crate::db::records::{Draft, Stored, check_key_kept, check_required};
use crate::db::write::{Taken, show};
use crate::error::Result;
use crate::schema::{Default, Field, Kind, Value};

impl PgBulk {
    /// One row, judged as `Bulk::row` and the writer judge it on `SQLite`; `Ok` carries
    /// what to stage (the record's id for an update, and its values).
    #[allow(clippy::type_complexity)]
    pub(super) fn judge(
        &mut self,
        conn: &Store,
        mut row: Row,
        found: &Found,
        claimed: &mut HashSet<String>,
    ) -> Result<std::result::Result<(Outcome, Option<(Option<i64>, Draft)>), String>> {
        for (i, f) in self.e.fields.iter().enumerate() {
            if !row.is_given(i) {
                continue;
            }
            let Value::Text(t) = &row.values[i] else {
                continue;
            };
            match f.kind {
                Kind::Ref(target) => match found.refs[i].get(t) {
                    Some(id) => row.values[i] = Value::Integer(*id),
                    None => {
                        return Ok(Err(format!("{}: no {target} with id or key '{t}'", f.name)));
                    }
                },
                Kind::User if !self.users.contains(t) => {
                    return Ok(Err(format!("{}: no user named '{t}'", f.name)));
                }
                _ => {}
            }
        }
        let existing = match (self.mode, self.key) {
            (Mode::Insert, _) | (_, None) => None,
            (_, Some(key)) => match self.key_value(key, &row) {
                None if self.mode == Mode::Update || matches!(key, Key::Id) => {
                    return Ok(Err(format!("{}: empty key", key.name())));
                }
                None => None,
                Some(kv) => {
                    let k = map_key(&kv).unwrap_or_default();
                    let repeat = match key {
                        Key::Field(f) if f.unique => self
                            .e
                            .fields
                            .iter()
                            .position(|g| std::ptr::eq(g, f))
                            .is_some_and(|i| claimed.contains(&unique_key(i, &k))),
                        _ => false,
                    };
                    match found.existing.get(&k) {
                        _ if repeat => {
                            return Ok(Err(format!(
                                "{}: '{}' repeats an earlier row of this file",
                                key.name(),
                                show(&kv)
                            )));
                        }
                        Some(s) if self.touched.has(s.id) => {
                            return Ok(Err(format!(
                                "{}: '{}' repeats an earlier row of this file",
                                key.name(),
                                show(&kv)
                            )));
                        }
                        Some(s) => Some(s),
                        None if self.mode == Mode::Update || matches!(key, Key::Id) => {
                            return Ok(Err(format!(
                                "{}: no {} with {} '{}'",
                                key.name(),
                                self.e.name,
                                key.name(),
                                show(&kv)
                            )));
                        }
                        None => None,
                    }
                }
            },
        };
        match existing {
            Some(old) => self.judge_update(conn, old, row, found, claimed),
            None => self.judge_insert(conn, row, found, claimed),
        }
    }

    #[allow(clippy::type_complexity)]
    fn judge_insert(
        &mut self,
        conn: &Store,
        row: Row,
        found: &Found,
        claimed: &mut HashSet<String>,
    ) -> Result<std::result::Result<(Outcome, Option<(Option<i64>, Draft)>), String>> {
        let next_key = self.next_key;
        let mut d = Draft {
            entity: self.e,
            values: row.values,
        };
        self.fill_defaults(&mut d, found, claimed);
        let res = (|| {
            if let Err(err) =
                crate::rules::apply(conn, &mut d, None).and_then(|()| check_required(&d))
            {
                return if is_row_error(&err) {
                    Ok(Err(err.message))
                } else {
                    Err(err)
                };
            }
            if let Some(why) = self.taken(&d, None, None, found, claimed) {
                self.burn = true;
                return Ok(Err(why));
            }
            Ok(Ok(()))
        })();
        match res {
            Ok(Ok(())) => {
                self.claim(&d, claimed);
                Ok(Ok((Outcome::Inserted, Some((None, d)))))
            }
            other => {
                // A record that does not land gives its generated key back.
                self.next_key = next_key;
                other.map(|r| r.map(|()| unreachable!("handled above")))
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn judge_update(
        &mut self,
        conn: &Store,
        old: &Stored,
        row: Row,
        found: &Found,
        claimed: &mut HashSet<String>,
    ) -> Result<std::result::Result<(Outcome, Option<(Option<i64>, Draft)>), String>> {
        self.touched.touch(old.id);
        let mut new = row.over(&old.draft);
        if let Err(err) = check_key_kept(&old.draft, &new)
            .and_then(|()| crate::rules::apply(conn, &mut new, Some(old)))
            .and_then(|()| check_required(&new))
        {
            return if is_row_error(&err) {
                Ok(Err(err.message))
            } else {
                Err(err)
            };
        }
        if new == old.draft {
            return Ok(Ok((Outcome::Unchanged, None)));
        }
        if let Some(why) = self.taken(&new, Some(old.id), Some(&old.draft), found, claimed) {
            return Ok(Err(why));
        }
        self.claim(&new, claimed);
        Ok(Ok((Outcome::Updated, Some((Some(old.id), new)))))
    }

    /// Notes the unique values of a record that lands: a later row of the file repeating
    /// one is refused.
    fn claim(&self, d: &Draft, claimed: &mut HashSet<String>) {
        for &u in &self.uniques {
            if let Some(v) = map_key(&d.values[u]) {
                claimed.insert(unique_key(u, &v));
            }
        }
    }

    /// The reason a unique value of `d` is taken, as `Taken::reason` words it (the first
    /// unique field in field order, as the writer finds it).
    fn taken(
        &self,
        d: &Draft,
        except: Option<i64>,
        only_changed: Option<&Draft>,
        found: &Found,
        claimed: &HashSet<String>,
    ) -> Option<String> {
        self.uniques
            .iter()
            .find_map(|&u| self.taken_at(u, d, except, only_changed, found, claimed))
    }

    fn taken_at(
        &self,
        u: usize,
        d: &Draft,
        except: Option<i64>,
        only_changed: Option<&Draft>,
        found: &Found,
        claimed: &HashSet<String>,
    ) -> Option<String> {
        let f: &'static Field = &self.e.fields[u];
        let v = &d.values[u];
        if *v == Value::Null || only_changed.is_some_and(|o| o.values[u] == *v) {
            return None;
        }
        let k = unique_key(u, &map_key(v)?);
        if claimed.contains(&k) {
            return Some(format!(
                "{}: '{}' repeats an earlier row of this file",
                f.name,
                show(v)
            ));
        }
        let holder = *found.holders.get(&k).filter(|h| Some(**h) != except)?;
        let t = Taken {
            field: f,
            value: v.clone(),
            holder,
        };
        let upsert = self.mode == Mode::Insert && self.key.is_some_and(|k| k.name() == f.name);
        Some(t.reason(self.touched.has(holder), upsert))
    }

    /// Defaults for empty fields, as the writer fills them.
    fn fill_defaults(&mut self, d: &mut Draft, found: &Found, claimed: &HashSet<String>) {
        for (i, f) in self.e.fields.iter().enumerate() {
            if d.values[i] != Value::Null {
                continue;
            }
            d.values[i] = match f.default {
                Default::None => Value::Null,
                Default::Value(_) => self.defaults[i].clone(),
                Default::CurrentUser => Value::Text(self.user.clone()),
                Default::Generated(prefix) => {
                    let mut n = self.next_key.unwrap_or(self.seq0 + self.consumed + 1);
                    loop {
                        let c = format!("{prefix}{n:06}");
                        n += 1;
                        let tagged = unique_key(i, &c);
                        if !found.holders.contains_key(&tagged) && !claimed.contains(&tagged) {
                            self.next_key = Some(n);
                            break Value::Text(c);
                        }
                    }
                }
                Default::Today => Value::Text(self.today.clone()),
                Default::Now => Value::Integer(self.now),
            };
        }
    }
}
