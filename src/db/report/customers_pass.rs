//! The customers report's pass over every customer in scope: on `SQLite` two scans (an
//! index for id, creation time, owner and status; the table for level, industry, source
//! and city), each the cheapest for its columns; on `PostgreSQL` one, as each row crossing
//! the socket costs crm more than its columns do, so a million rows cross once, not twice.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::customers::{
    Baseline, OwnerStatus, Profile, St, Tally, as_str, cell, count_profile, status_now,
};
use super::{Args, scan};
use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::error::{Error, Result};
use crate::schema::{Value, ValueRef};

/// Small numbers for the few distinct values of a column (owners, statuses), so a count per
/// pair is an array cell, not a map keyed by two strings.
#[derive(Default)]
struct Codes {
    of: HashMap<Vec<u8>, usize, RandomState>,
    values: Vec<Option<String>>,
}

impl Codes {
    /// The code of a cell as `report::text` reads it (NULL is a value of its own).
    fn code(&mut self, v: Option<&[u8]>) -> usize {
        let Some(v) = v else {
            return self.null();
        };
        if let Some(&c) = self.of.get(v) {
            return c;
        }
        self.values
            .push(Some(String::from_utf8_lossy(v).into_owned()));
        self.of.insert(v.to_vec(), self.values.len() - 1);
        self.values.len() - 1
    }

    fn null(&mut self) -> usize {
        if let Some(i) = self.values.iter().position(Option::is_none) {
            return i;
        }
        self.values.push(None);
        self.values.len() - 1
    }
}

/// The baseline and the counts per (owner, status) of [`status_now`], and the
/// [`count_profile`] counts.
pub fn now_and_profile(conn: &Store, args: &Args) -> Result<(Baseline, OwnerStatus, Profile)> {
    if conn.dialect() == Dialect::Sqlite {
        let (now, counts) = status_now(conn, args)?;
        return Ok((now, counts, count_profile(conn, args)?));
    }
    one_pass(conn, args)
}

/// [`now_and_profile`] in one pass over the table (`PostgreSQL`).
fn one_pass(conn: &Store, args: &Args) -> Result<(Baseline, OwnerStatus, Profile)> {
    let end = match args.get("end") {
        Value::Integer(e) => e,
        _ => i64::MAX,
    };
    let mut out = Vec::new();
    let (mut owners, mut statuses) = (Codes::default(), Codes::default());
    let mut pairs: HashMap<(usize, usize), i64, RandomState> = HashMap::default();
    let mut tally = Tally::default();
    scan(
        conn,
        "SELECT id, created_at, status, owner, level, industry, source, city FROM customer \
         WHERE (:owner IS NULL OR owner = :owner)",
        args,
        |r| {
            let (status, owner) = (r[2], r[3]);
            let pair = (
                owners.code(cell(owner).as_deref()),
                statuses.code(cell(status).as_deref()),
            );
            *pairs.entry(pair).or_default() += 1;
            // `created_at < :end`, as SQL compares: NULL never is.
            if let ValueRef::Integer(created) = r[1]
                && created < end
            {
                let ValueRef::Integer(id) = r[0] else {
                    return Err(Error::internal("a customer without an id"));
                };
                out.push((id, created, St::of(as_str(status))));
            }
            tally.add(&r[4..]);
            Ok(())
        },
    )?;
    out.sort_unstable_by_key(|c| c.0);
    let counts = pairs
        .into_iter()
        .map(|((o, s), n)| (owners.values[o].clone(), statuses.values[s].clone(), n))
        .collect();
    let profile = tally.into_profile();
    Ok((out, counts, profile))
}
