//! What only a database server has, in engine-neutral words for the layers above `db/`:
//! whether `--db` names a server, the login a crm user connects as, who a connection is,
//! setting a server database up, and users' login passwords. Today the one server engine
//! is `PostgreSQL`; on `SQLite` these are never reached or say "none".

use std::path::Path;

use crate::db::Store;
use crate::db::migrate::postgres::names;
use crate::db::postgres::{ConnInfo, accounts, conninfo, setup};
use crate::error::{Error, Result};

/// What a session on a server connects as: the user's login role and its password, kept
/// in the same 0600 session file as the token (as libpq keeps `.pgpass`), so later
/// commands connect as that role without asking again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub role: String,
    pub password: String,
}

/// Whether a `--db` value names a database server (a `postgres://` URL) rather than a file.
pub fn is_url(target: &Path) -> bool {
    target.to_str().is_some_and(conninfo::is_url)
}

/// The login a crm user connects to the server at `url` with.
pub fn login_for(url: &Path, user: &str, password: &str) -> Result<Login> {
    let text = url
        .to_str()
        .ok_or_else(|| Error::usage("--db is not valid UTF-8"))?;
    let info = ConnInfo::parse(text)?;
    Ok(Login {
        role: names::login_role(info.dbname(), user),
        password: password.to_string(),
    })
}

/// The login a token for automation connects to the server at `url` with: its own login
/// role (`db::tokens::login_role`), the secret as its password.
pub fn token_login_for(url: &Path, lookup: &str, secret: &str) -> Result<Login> {
    let text = url
        .to_str()
        .ok_or_else(|| Error::usage("--db is not valid UTF-8"))?;
    let info = ConnInfo::parse(text)?;
    Ok(Login {
        role: crate::db::tokens::login_role(info.dbname(), lookup),
        password: secret.to_string(),
    })
}

/// The crm user the connection's role belongs to (None: the role is no enabled crm user).
pub fn me(s: &Store) -> Result<Option<String>> {
    accounts::me(s)
}

/// Who a command's session is, asked at once: the connection's crm user (as [`me`]) and
/// the saved session whose token hashes to `token_hash`.
pub fn me_and_session(
    s: &Store,
    token_hash: &str,
) -> Result<(Option<String>, Option<crate::db::sessions::Found>)> {
    accounts::me_and_session(s, token_hash)
}

/// The server's name for the session's role, or None on an embedded database.
pub fn session_role(s: &Store) -> Result<Option<String>> {
    match s {
        Store::Postgres(_) => accounts::session_role(s).map(Some),
        Store::Sqlite(_) => Ok(None),
    }
}

/// Sets a server database up with its first admin (`crm init --db URL`).
pub fn init(s: &Store, admin: &str, password: &str, now: i64) -> Result<()> {
    setup::init(s, admin, password, now)
}

/// Whether a server database holds crm's schema.
pub fn is_initialised(s: &Store) -> Result<bool> {
    setup::is_initialised(s)
}

/// Brings a server database made by an older crm to this one (`crm init --upgrade`).
pub fn upgrade(s: &Store) -> Result<setup::Upgraded> {
    setup::upgrade(s)
}

/// Gives a new user its login on the server; nothing on an embedded database.
pub fn add_login(s: &Store, user_id: i64, user: &str, password: &str) -> Result<()> {
    match s {
        Store::Postgres(_) => accounts::add_login(s, user_id, user, password),
        Store::Sqlite(_) => Ok(()),
    }
}

/// Sets a user's login password on the server (an admin's reset); nothing on an embedded
/// database.
pub fn set_password(s: &Store, user_id: i64, password: &str) -> Result<()> {
    match s {
        Store::Postgres(_) => accounts::set_password(s, user_id, password),
        Store::Sqlite(_) => Ok(()),
    }
}

/// Sets the session's own login password on the server; nothing on an embedded database.
pub fn set_own_password(s: &Store, password: &str) -> Result<()> {
    match s {
        Store::Postgres(_) => accounts::set_own_password(s, password),
        Store::Sqlite(_) => Ok(()),
    }
}

/// The server database's schema version and the one this crm writes.
pub fn schema_version(s: &Store) -> Result<(i64, i64)> {
    let known = i64::try_from(crate::db::migrate::postgres::STEPS.len()).unwrap_or(i64::MAX);
    Ok((setup::version(s)?, known))
}

/// Tables that lack their row-level security or policies.
pub fn unprotected_tables(s: &Store) -> Result<Vec<String>> {
    setup::unprotected_tables(s)
}
