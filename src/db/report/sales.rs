//! Sales SQL: won opportunities by close time, booked and paid orders by order date, the
//! open pipeline by expected close month, and the top customers by booked amount.

use rusqlite::Connection;

use super::{Args, Row, buckets_cte, fetch};
use crate::error::Result;
use crate::report::period::Bucket;

/// Order statuses that are not (yet or any more) a sale.
pub const NOT_BOOKED: [&str; 2] = ["draft", "cancelled"];
/// The order status that means the money arrived.
pub const PAID: &str = "paid";

fn booked(args: Args) -> Args {
    args.set("draft", NOT_BOOKED[0])
        .set("cancelled", NOT_BOOKED[1])
        .set("paid", PAID)
}

/// The group key: a bucket index, or the owner.
fn key(by_owner: bool) -> &'static str {
    if by_owner {
        "COALESCE(x.owner, '')"
    } else {
        "b.i"
    }
}

/// Won opportunities per bucket (or owner): key, count, Σ amount. The close moment is
/// `closed_at`, or the last change for won records that predate it.
pub fn won(conn: &Connection, b: &[Bucket], by_owner: bool, args: Args) -> Result<Vec<Row>> {
    let mut args = args.set("won", "won");
    let cte = buckets_cte(b, false, &mut args);
    let sql = format!(
        "{cte} SELECT {k}, count(*), COALESCE(sum(x.amount), 0) FROM b \
         JOIN opportunity x ON COALESCE(x.closed_at, x.updated_at) >= b.s \
                           AND COALESCE(x.closed_at, x.updated_at) < b.e \
         WHERE x.stage = :won AND (:owner IS NULL OR x.owner = :owner) GROUP BY 1",
        k = key(by_owner)
    );
    fetch(conn, &sql, &args)
}

/// Orders per bucket (or owner): key, booked count, booked Σ, paid count, paid Σ.
pub fn orders(conn: &Connection, b: &[Bucket], by_owner: bool, args: Args) -> Result<Vec<Row>> {
    let mut args = booked(args);
    let cte = buckets_cte(b, true, &mut args);
    let sql = format!(
        "{cte} SELECT {k}, count(*), COALESCE(sum(x.amount), 0), \
                sum(x.status = :paid), COALESCE(sum(CASE WHEN x.status = :paid THEN x.amount END), 0) \
         FROM b JOIN \"order\" x ON x.order_date >= b.s AND x.order_date < b.e \
         WHERE x.status NOT IN (:draft, :cancelled) AND (:owner IS NULL OR x.owner = :owner) \
         GROUP BY 1",
        k = key(by_owner)
    );
    fetch(conn, &sql, &args)
}

/// Open opportunities by expected close month: month (or NULL), count, Σ amount,
/// Σ amount × probability. `:lo`/`:hi` bound the expected close date (text).
pub fn forecast(conn: &Connection, args: Args) -> Result<Vec<Row>> {
    let args = args.set("won", "won").set("lost", "lost");
    fetch(
        conn,
        "SELECT substr(expected_close, 1, 7), count(*), COALESCE(sum(amount), 0), \
                COALESCE(sum(amount * COALESCE(probability, 0)), 0) \
         FROM opportunity WHERE stage NOT IN (:won, :lost) \
           AND (:owner IS NULL OR owner = :owner) \
           AND (expected_close IS NULL OR (expected_close >= :lo AND expected_close <= :hi)) \
         GROUP BY 1 ORDER BY 1 NULLS LAST",
        &args,
    )
}

/// The customers with the largest booked amount in the window: code, name, orders, Σ.
pub fn top_customers(conn: &Connection, args: Args, limit: i64) -> Result<Vec<Row>> {
    let args = booked(args).set("limit", limit);
    fetch(
        conn,
        "SELECT c.code, c.name, t.n, t.total FROM ( \
           SELECT customer, count(*) AS n, sum(amount) AS total FROM \"order\" \
           WHERE status NOT IN (:draft, :cancelled) AND order_date >= :from_date \
             AND order_date <= :to_date AND (:owner IS NULL OR owner = :owner) \
           GROUP BY customer ORDER BY total DESC, customer LIMIT :limit) t \
         JOIN customer c ON c.id = t.customer ORDER BY t.total DESC, c.id",
        &args,
    )
}
