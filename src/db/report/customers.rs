//! Customer SQL: counts by a registry field, new customers per bucket, the status history
//! from the audit log (for churn), RFM figures from orders, and saving segments.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::{Args, scan};
use crate::db::Store;
use crate::db::audit::{self, Entry};
use crate::db::dialect::Dialect;
use crate::error::{Error, Result};
use crate::schema::{Value, ValueRef};
use crate::vals;

/// Customers per level, industry, source and city: one count per value of each, from one
/// pass over the table counted here. No index serves it (v6 dropped the covering one: a
/// five-column index cost a million-row import more than a second to keep or rebuild);
/// these columns lie near the start of each row, so the pass reads little, and counting in
/// a hash map avoids the sort a `GROUP BY` would need.
pub(super) fn count_profile(conn: &Store, args: &Args) -> Result<Profile> {
    let mut tally = Tally::default();
    scan(
        conn,
        "SELECT level, industry, source, city FROM customer \
         WHERE (:owner IS NULL OR owner = :owner)",
        args,
        |r| {
            tally.add(r);
            Ok(())
        },
    )?;
    Ok(tally.into_profile())
}

/// The counts of [`count_profile`] as rows go by: per column, each value's count and how
/// many were empty. foldhash, not the default `SipHash`: four lookups a row over a million
/// rows, and the keys are the registry's own values, counted once by a read-only report.
#[derive(Default)]
pub(super) struct Tally {
    seen: [HashMap<String, i64, foldhash::fast::RandomState>; 4],
    nulls: [i64; 4],
}

impl Tally {
    /// Counts the four cells level, industry, source, city.
    pub(super) fn add(&mut self, cells: &[ValueRef<'_>]) {
        for (d, seen) in self.seen.iter_mut().enumerate() {
            match as_str(cells[d]) {
                None => self.nulls[d] += 1,
                Some(v) => match seen.get_mut(v) {
                    Some(n) => *n += 1,
                    None => {
                        seen.insert(v.to_string(), 1);
                    }
                },
            }
        }
    }

    pub(super) fn into_profile(self) -> Profile {
        let mut out: Profile = Default::default();
        for (d, seen) in self.seen.into_iter().enumerate() {
            out[d] = seen.into_iter().map(|(k, n)| (Some(k), n)).collect();
            if self.nulls[d] > 0 {
                out[d].insert(None, self.nulls[d]);
            }
        }
        out
    }
}

/// Every status a customer took, from the audit log (create, update, import, delete rows
/// that name the `status` field), before `:end`, per customer in time order: id, at, new,
/// old. The literal `entity`/`field` terms match the partial index made for this scan
/// (v6: it carries `old` too, so a first row that is a change, not a creation, is told
/// without reading the table).
pub fn status_history(
    conn: &Store,
    args: &Args,
    mut each: impl FnMut(i64, i64, Option<&str>, Option<&str>),
) -> Result<()> {
    let d = conn.dialect();
    scan(
        conn,
        &format!(
            "SELECT a.record_id, a.at, a.new, a.old FROM audit a{} \
             WHERE a.entity = 'customer' AND a.field = 'status' AND a.at < :end \
               AND (:owner IS NULL OR a.record_id IN (SELECT id FROM customer WHERE owner = :owner)) \
             ORDER BY a.record_id, a.at, a.id",
            d.indexed_by("audit_customer_status")
        ),
        args,
        |r| {
            let ValueRef::Integer(at) = r[1] else {
                return Err(Error::internal("an audit entry without a time"));
            };
            if let ValueRef::Integer(id) = r[0] {
                each(id, at, as_str(r[2]), as_str(r[3]));
            }
            Ok(())
        },
    )
}

/// Customers per level, industry, source and city (in this order): count per value.
pub type Profile = [BTreeMap<Option<String>, i64>; 4];

/// Customers per (owner, status) (every customer in scope, whenever created): owner,
/// status, count.
pub type OwnerStatus = Vec<(Option<String>, Option<String>, i64)>;

/// Each customer's id, creation time and current status, in id order.
pub type Baseline = Vec<(i64, i64, St)>;

/// Every customer created before `:end` with its creation time and current status, in id
/// order: the baseline of customers whose status the audit log never saw set (bulk import
/// writes one audit entry per batch, not one per field); and from the same scan, the counts
/// per (owner, status), which the index yields in runs. Read off the `(owner, status,
/// created_at)` index, which holds the id too, so the table is never touched, and only once
/// (a second scan for the counts cost a tenth of the report).
pub(super) fn status_now(conn: &Store, args: &Args) -> Result<(Baseline, OwnerStatus)> {
    let end = match args.get("end") {
        Value::Integer(e) => e,
        _ => i64::MAX,
    };
    let text = |c: Option<Cow<'_, [u8]>>| c.map(|c| String::from_utf8_lossy(&c).into_owned());
    let mut out = Vec::new();
    let mut counts: OwnerStatus = Vec::new();
    scan(
        conn,
        &format!(
            "SELECT id, created_at, status, owner FROM customer{} \
             WHERE (:owner IS NULL OR owner = :owner)",
            conn.dialect().indexed_by("customer_owner_status_created")
        ),
        args,
        |r| {
            let (status, owner) = (r[2], r[3]);
            let (s_cell, o_cell) = (cell(status), cell(owner));
            let same = counts.last_mut().filter(|(o, s, _)| {
                o.as_deref().map(str::as_bytes) == o_cell.as_deref()
                    && s.as_deref().map(str::as_bytes) == s_cell.as_deref()
            });
            match same {
                Some(c) => c.2 += 1,
                None => counts.push((text(o_cell), text(s_cell), 1)),
            }
            // `created_at < :end`, as SQL compares: NULL never is.
            if let ValueRef::Integer(created) = r[1]
                && created < end
            {
                let ValueRef::Integer(id) = r[0] else {
                    return Err(Error::internal("a customer without an id"));
                };
                out.push((id, created, St::of(as_str(status))));
            }
            Ok(())
        },
    )?;
    out.sort_unstable_by_key(|c| c.0);
    Ok((out, counts))
}

/// A customer's status, coded small for churn: none, active, churned, other.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum St {
    None,
    Active,
    Churned,
    Other,
}

impl St {
    pub fn of(s: Option<&str>) -> St {
        match s {
            None => St::None,
            Some("active") => St::Active,
            Some("lost" | "inactive") => St::Churned,
            Some(_) => St::Other,
        }
    }
}

/// A cell as `report::text` reads it (text, or an integer's digits), unallocated if text.
pub(super) fn cell(v: ValueRef<'_>) -> Option<Cow<'_, [u8]>> {
    match v {
        ValueRef::Text(t) => Some(Cow::Borrowed(t)),
        ValueRef::Integer(i) => Some(Cow::Owned(i.to_string().into_bytes())),
        _ => None,
    }
}

/// A text cell as a `str`; anything else (NULL, a number, text that is not UTF-8) as None.
pub(super) fn as_str(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

/// Every booked order in the window, in date order (the index's): customer (NULL as 0),
/// currency, amount (NULL as 0), order date. Read off the covering `order_date_cover`
/// index; the caller totals them per customer and currency in a hash map, in 128 bits:
/// that is exact, and a `GROUP BY` over the rows would first sort them all.
pub fn rfm_orders(
    conn: &Store,
    args: &Args,
    mut each: impl FnMut(i64, Option<&str>, i64, &str),
) -> Result<()> {
    let d = conn.dialect();
    let args = args
        .clone()
        .set("draft", super::sales::NOT_BOOKED[0])
        .set("cancelled", super::sales::NOT_BOOKED[1]);
    scan(
        conn,
        &format!(
            "SELECT o.customer, o.currency, o.amount, o.order_date \
             FROM \"order\" o{} \
             WHERE o.status NOT IN (:draft, :cancelled) AND o.order_date >= :from_date \
               AND o.order_date <= :to_date \
               AND (:owner IS NULL OR o.customer IN (SELECT id FROM customer WHERE owner = :owner))",
            d.indexed_by("order_date_cover")
        ),
        &args,
        |r| {
            let id = match r[0] {
                ValueRef::Integer(i) => i,
                _ => 0,
            };
            let amount = match r[2] {
                ValueRef::Integer(i) => i,
                #[allow(clippy::cast_possible_truncation)]
                ValueRef::Real(f) => f as i64,
                _ => 0,
            };
            each(id, as_str(r[1]), amount, as_str(r[3]).unwrap_or_default());
            Ok(())
        },
    )
}

/// Writes each customer's segment in the caller's write transaction: customers in `seg`
/// get theirs, other customers in scope (the owner filter) lose a stale one. Only changed
/// rows are touched. One audit entry records the run. Returns how many changed.
pub fn save_segments(
    conn: &Store,
    seg: &[(i64, &str)],
    owner: Option<&str>,
    user: &str,
    detail: &str,
) -> Result<usize> {
    let d = conn.dialect();
    let temp = d.temp_schema();
    // SQLite's INTEGER PRIMARY KEY is the row id itself (no second index to fill).
    let id_type = match d {
        Dialect::Sqlite => "INTEGER",
        Dialect::Postgres => "bigint",
    };
    conn.batch(&format!(
        "CREATE TEMP TABLE IF NOT EXISTS report_segment (id {id_type} PRIMARY KEY, seg TEXT NOT NULL);
         DELETE FROM {temp}.report_segment;"
    ))?;
    let insert = format!("INSERT INTO {temp}.report_segment (id, seg) VALUES (?, ?)");
    for (id, s) in seg {
        conn.execute(&insert, vals![*id, *s])?;
    }
    // A segment is derived (like a last contact): it leaves `updated_at` alone, so neither
    // an edit's conflict check nor the revert of an earlier import mistakes it for a
    // change somebody made to the customer.
    let owner = Value::from(owner.map(str::to_string));
    // On PostgreSQL the customer table's triggers write the run's one entry (with this
    // detail and the count) in place of a row per customer: `migrate::postgres::security`.
    let pg = !conn.is_sqlite();
    if pg {
        conn.execute(
            "SELECT pg_catalog.set_config('crm.report_save', ?, true)",
            vals![detail],
        )?;
    }
    let changed = conn.execute(
        &format!(
            "UPDATE customer SET segment = (SELECT seg FROM {temp}.report_segment s WHERE s.id = customer.id) \
             WHERE ({} IS NULL OR owner = ?1) \
               AND segment {} (SELECT seg FROM {temp}.report_segment s WHERE s.id = customer.id)",
            d.typed("?1", &owner),
            d.distinct()
        ),
        &[owner],
    )?;
    conn.batch(&format!("DROP TABLE {temp}.report_segment"))?;
    let changed = usize::try_from(changed).unwrap_or(usize::MAX);
    if pg {
        conn.execute(
            "SELECT pg_catalog.set_config('crm.report_save', '', true)",
            vals![],
        )?;
        return Ok(changed);
    }
    audit::log(
        conn,
        &[Entry {
            user: Some(user),
            action: "segment",
            entity: Some("customer"),
            field: Some("segment"),
            detail: Some(format!("{detail}; {changed} customers changed")),
            ..Entry::default()
        }],
    )?;
    Ok(changed)
}
