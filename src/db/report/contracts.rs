//! Contract SQL: the owner's contracts with the columns the contract report needs.

use super::{Args, Row, fetch};
use crate::db::Store;
use crate::error::Result;

/// Contracts: id, number, customer, status, amount, `start_date`, `end_date`, currency.
pub fn contracts(conn: &Store, args: &Args) -> Result<Vec<Row>> {
    let d = conn.dialect();
    let sql = format!(
        "SELECT id, number, customer, status, amount, start_date, end_date, currency FROM contract \
         WHERE (:owner IS NULL OR owner = :owner) ORDER BY {}, {}, id",
        d.order("customer", false, false),
        d.order("start_date", false, true)
    );
    fetch(conn, &sql, args)
}
