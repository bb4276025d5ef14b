//! Finding users by name: the stored user whose name equals a typed one ignoring case.
//! The rules of names themselves are in `crate::names`.

use unicode_normalization::UnicodeNormalization;

use crate::db::{Store, users};
use crate::error::Result;
pub use crate::names::{MAX_NAME, canonical, fold};

/// The existing user (other than `except`) whose name equals `name` ignoring case.
pub fn taken(conn: &Store, name: &str, except: Option<i64>) -> Result<Option<String>> {
    let want = fold(name);
    for (id, existing) in users::names(conn)? {
        if Some(id) != except && fold(&existing) == want {
            return Ok(Some(existing));
        }
    }
    Ok(None)
}

/// Finds a user by name as typed: the exact (NFC) name first, else the one name equal to it
/// ignoring case. A database from before names were unique ignoring case may hold two such
/// names: then only the exact spelling finds either, and a guess finds none.
pub fn find(conn: &Store, typed: &str) -> Result<Option<(i64, String)>> {
    let nfc: String = typed.nfc().collect();
    let exact = users::by_name(conn, &nfc)?;
    if exact.is_some() {
        return Ok(exact);
    }
    let want = fold(&nfc);
    let matching: Vec<(i64, String)> = users::names(conn)?
        .into_iter()
        .filter(|(_, n)| fold(n) == want)
        .collect();
    Ok(match <[_; 1]>::try_from(matching) {
        Ok([one]) => Some(one),
        Err(_) => None,
    })
}
