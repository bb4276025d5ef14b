//! Sales SQL: won opportunities by close time, booked and paid orders by order date, the
//! open pipeline by expected close month, and the top customers by booked amount.

use super::{Args, Row, buckets_cte, fetch, split_sum};
use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::error::Result;
use crate::period::Bucket;
use crate::schema::ident;

/// Order statuses that are not (yet or any more) a sale.
pub const NOT_BOOKED: [&str; 2] = ["draft", "cancelled"];
/// The order status that means the money arrived.
pub const PAID: &str = "paid";

fn booked(args: Args) -> Args {
    args.set("draft", NOT_BOOKED[0])
        .set("cancelled", NOT_BOOKED[1])
        .set("paid", PAID)
}

/// A record's currency in SQL, upper-case as `report::money::currency_of` reads it (values
/// stored before currencies were checked may be `eur` or blank). `:currency`, the currency
/// of a record that has none, is the registry's default: the caller binds it (every query
/// here reads it), so this layer does not reach up into the report layer for it.
const CUR: &str = "UPPER(COALESCE(NULLIF(TRIM(x.currency), ''), :currency))";

/// What the rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// The bucket (period) index.
    Period,
    Owner,
    /// A choice field (built-in or custom) of the record's customer, by its column name.
    Customer(&'static str),
}

impl Group {
    /// The group key in SQL (none as ''), and the join it needs.
    fn key(self) -> (String, &'static str) {
        match self {
            Group::Period => ("b.i".into(), ""),
            Group::Owner => ("COALESCE(x.owner, '')".into(), ""),
            Group::Customer(col) => (
                format!("COALESCE(c.{}, '')", ident(col)),
                " LEFT JOIN customer c ON c.id = x.customer",
            ),
        }
    }
}

/// Won opportunities per group and currency: key, currency, count, Σ amount (two
/// columns, see `split_sum`). The close moment is `closed_at`, or the last change for won
/// records that predate it.
pub fn won(conn: &Store, b: &[Bucket], group: Group, args: Args) -> Result<Vec<Row>> {
    let mut args = args.set("won", "won");
    let cte = buckets_cte(b, false, &mut args);
    let (k, join) = group.key();
    let sql = format!(
        "{cte} SELECT {k}, {CUR}, count(*), {sum} FROM b \
         JOIN opportunity x ON COALESCE(x.closed_at, x.updated_at) >= b.s \
                           AND COALESCE(x.closed_at, x.updated_at) < b.e{join} \
         WHERE x.stage = :won AND (:owner IS NULL OR x.owner = :owner) GROUP BY 1, 2",
        sum = split_sum("x.amount"),
    );
    fetch(conn, &sql, &args)
}

/// Orders per group and currency: key, currency, booked count, booked Σ (two columns), paid
/// count, paid Σ (two columns).
pub fn orders(conn: &Store, b: &[Bucket], group: Group, args: Args) -> Result<Vec<Row>> {
    let mut args = booked(args);
    let cte = buckets_cte(b, true, &mut args);
    let (k, join) = group.key();
    let sql = format!(
        "{cte} SELECT {k}, {CUR}, count(*), {sum}, \
                {paid_n}, {paid} \
         FROM b JOIN \"order\" x ON x.order_date >= b.s AND x.order_date < b.e{join} \
         WHERE x.status NOT IN (:draft, :cancelled) AND (:owner IS NULL OR x.owner = :owner) \
         GROUP BY 1, 2",
        sum = split_sum("x.amount"),
        paid_n = paid_count(conn.dialect()),
        paid = split_sum("CASE WHEN x.status = :paid THEN x.amount END"),
    );
    fetch(conn, &sql, &args)
}

/// How many of a group's orders are paid (`PostgreSQL` sums no booleans).
fn paid_count(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "sum(x.status = :paid)",
        Dialect::Postgres => "count(CASE WHEN x.status = :paid THEN 1 END)",
    }
}

/// Open opportunities by expected close month, currency and probability: month (or NULL),
/// currency, probability, count, Σ amount (two columns). Grouping by probability lets the
/// weighted amount be multiplied out exactly outside SQL. `:lo`/`:hi` bound the expected
/// close date (text).
pub fn forecast(conn: &Store, args: Args) -> Result<Vec<Row>> {
    let args = args.set("won", "won").set("lost", "lost");
    fetch(
        conn,
        &format!(
            "SELECT substr(x.expected_close, 1, 7), {CUR}, COALESCE(x.probability, 0), count(*), {sum} \
             FROM opportunity x WHERE x.stage NOT IN (:won, :lost) \
               AND (:owner IS NULL OR x.owner = :owner) \
               AND (x.expected_close IS NULL OR (x.expected_close >= :lo AND x.expected_close <= :hi)) \
             GROUP BY 1, 2, 3 ORDER BY 1 NULLS LAST, 2, 3",
            sum = split_sum("x.amount"),
        ),
        &args,
    )
}

/// The customers with the largest booked amount in one currency in the window: code,
/// name, orders, Σ (two columns, see `split_sum`). It ranks by a floating-point sum
/// (`SQLite`'s `total()`), which cannot overflow; the caller orders the few rows by their exact sums.
/// One query per currency: a window function ranking every customer in every currency at
/// once costs three times as much.
pub fn top_customers(conn: &Store, args: Args, currency: &str, limit: i64) -> Result<Vec<Row>> {
    let args = booked(args).set("limit", limit).set("cur", currency);
    fetch(
        conn,
        &format!(
            "SELECT c.code, c.name, t.n, t.hi, t.lo FROM ( \
               SELECT x.customer, count(*) AS n, {sum}, {total} AS t \
               FROM \"order\" x \
               WHERE x.status NOT IN (:draft, :cancelled) AND x.order_date >= :from_date \
                 AND x.order_date <= :to_date AND (:owner IS NULL OR x.owner = :owner) \
                 AND {CUR} = :cur \
               GROUP BY x.customer ORDER BY t DESC, {by_customer} LIMIT :limit) t \
             JOIN customer c ON c.id = t.customer ORDER BY t.t DESC, c.id",
            sum = "COALESCE(sum(x.amount / 1000000000), 0) AS hi, COALESCE(sum(x.amount % 1000000000), 0) AS lo",
            total = conn.dialect().total("x.amount"),
            by_customer = conn.dialect().order("x.customer", false, false),
        ),
        &args,
    )
}
