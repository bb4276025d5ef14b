//! crm users as `PostgreSQL` login roles, at run time: who the session is, adding a user's
//! login and setting its password. The password crosses the wire only as a SCRAM verifier
//! made here (never in a statement's text, so never in the server's logs); the server then
//! authenticates each connection itself.

use crate::db::Store;
use crate::db::migrate::postgres::names;
use crate::error::{Error, Result};
use crate::vals;

/// The crm user the connection's login role belongs to (`crm.me()`), if it is one and
/// enabled.
pub fn me(s: &Store) -> Result<Option<String>> {
    s.value("SELECT crm.me()", vals![])
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
