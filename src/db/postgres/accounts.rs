//! crm users as `PostgreSQL` login roles, at run time: who the session is, adding a user's
//! login and setting its password. The password crosses the wire only as a SCRAM verifier
//! made here (never in a statement's text, so never in the server's logs); the server then
//! authenticates each connection itself.

use crate::db::Store;
use crate::db::migrate::postgres::names;
use crate::db::sessions::Found;
use crate::error::{Error, Result};
use crate::vals;

/// The crm user the connection's login role belongs to (`crm.me()`), if it is one and
/// enabled.
pub fn me(s: &Store) -> Result<Option<String>> {
    s.value("SELECT crm.me()", vals![])
}

/// Who a command's session is, in one round trip: the crm user of the connection's login
/// role (`crm.me()`) and the saved session whose token hashes to `token_hash`, if any
/// (row-level security shows a user only their own sessions, as to any other query).
pub fn me_and_session(s: &Store, token_hash: &str) -> Result<(Option<String>, Option<Found>)> {
    let pg = s
        .postgres()
        .ok_or_else(|| Error::internal("me_and_session is for PostgreSQL"))?;
    let rows = pg.rows_once(
        "SELECT crm.me(), u.id, u.name, u.role, u.disabled, s.created_at, s.expires_at, s.revoked
         FROM (SELECT 1) AS one
         LEFT JOIN (crm.sessions s JOIN crm.users u ON u.id = s.user_id) ON s.token_hash = $1",
        &[token_hash],
    )?;
    let r = rows
        .first()
        .ok_or_else(|| Error::internal("the session query gave no row"))?;
    let found = match r.get::<Option<i64>>(1)? {
        None => None,
        Some(user_id) => Some(Found {
            user_id,
            name: r.get(2)?,
            role: r.get(3)?,
            disabled: r.get(4)?,
            created_at: r.get(5)?,
            expires_at: r.get(6)?,
            revoked: r.get(7)?,
        }),
    };
    Ok((r.get(0)?, found))
}

/// The login role of the session (`session_user`): what `crm whoami` shows as `pg_role`.
pub fn session_role(s: &Store) -> Result<String> {
    s.value("SELECT session_user::text", vals![])
}

/// The login role a crm user has in this database.
pub fn login_role(s: &Store, user: &str) -> Result<String> {
    let pg = s
        .postgres()
        .ok_or_else(|| Error::internal("login roles are a PostgreSQL matter"))?;
    Ok(names::login_role(&pg.dbname, user))
}

/// Gives the user `user_id` (named `user`) its login role with this password.
pub fn add_login(s: &Store, user_id: i64, user: &str, password: &str) -> Result<()> {
    let role = login_role(s, user)?;
    s.execute(
        "SELECT crm.add_login(?, ?, ?)",
        vals![user_id, role, verifier(password)],
    )?;
    Ok(())
}

/// Sets the password of the user `user_id`'s login role (an admin's reset, or a user's own).
pub fn set_password(s: &Store, user_id: i64, password: &str) -> Result<()> {
    s.execute(
        "SELECT crm.set_login_password(?, ?)",
        vals![user_id, verifier(password)],
    )?;
    Ok(())
}

/// The SCRAM-SHA-256 verifier `PostgreSQL` stores for a password.
fn verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// Changes the session's own password (`ALTER ROLE`, which every role may do for itself).
/// The statement carries the verifier, never the password.
pub fn set_own_password(s: &Store, password: &str) -> Result<()> {
    s.batch(&format!(
        "ALTER ROLE CURRENT_USER PASSWORD {}",
        names::quote_literal(&verifier(password))
    ))
}
