//! Logging in on a database server (`PostgreSQL`): the server checks the password (SCRAM) by the connection
//! itself, as the user's own login role; crm then opens its usual session (token, expiry,
//! logout, audit) on that connection. Lockout after failed logins is the server's business
//! there (its logs, `auth_delay`, a connection limit per role): crm cannot count attempts
//! that never reach it.

use std::path::Path;
use std::time::Duration;

use super::{LOGIN_FAILED, PgLogin, Role, User, hex, random_bytes, token_hash};
use crate::db::audit::{self, Entry};
use crate::db::{Db, OpenMode, server, sessions, users};
use crate::error::{Error, ErrorKind, Result};

/// Logs `name` in on the database at `url`; returns the user, the new session's token and
/// what later commands connect with.
pub fn login(
    url: &Path,
    busy: Duration,
    name: &str,
    password: &str,
    ttl: i64,
) -> Result<(User, String, PgLogin)> {
    let login = server::login_for(url, name, password)?;
    let mut db = match Db::open_as(url, OpenMode::Existing, busy, Some(&login)) {
        Ok(db) => db,
        // A wrong password, an unknown name and a disabled account (NOLOGIN) look alike.
        Err(e) if e.kind == ErrorKind::Auth => return Err(Error::auth(LOGIN_FAILED)),
        Err(e) => return Err(e),
    };
    let store = &mut db.store;
    let Some(me) = server::me(store)? else {
        return Err(Error::auth(LOGIN_FAILED));
    };
    let tx = store.write()?;
    // Never the password hash: no crm role may read that column on a server.
    let (id, _) = users::by_name(&tx, &me)?.ok_or_else(|| Error::auth(LOGIN_FAILED))?;
    let (role, disabled) = users::role_and_disabled(&tx, id)?;
    if disabled {
        return Err(Error::auth(LOGIN_FAILED));
    }
    let now = crate::clock::now();
    let token = hex(&random_bytes(32)?);
    sessions::create(&tx, &token_hash(&token), id, now, now + ttl)?;
    audit::log(
        &tx,
        &[Entry {
            user: Some(&me),
            action: "login",
            ..Entry::default()
        }],
    )?;
    tx.commit()?;
    let user = User {
        id,
        name: me,
        role: Role::parse(&role)?,
        expires_at: Some(now + ttl),
        token: None,
    };
    Ok((user, token, login))
}

/// The user of a connection on `PostgreSQL`: the login role's crm user, checked against
/// the session token when there is one (a token of another user is refused: the database
/// enforces the connected role's rights, so the two must agree).
pub fn connected_user(store: &crate::db::Store, token: Option<&str>) -> Result<User> {
    if let Some(token) = token.filter(|t| super::automation::is_token(t)) {
        // Connected as the token's own login role: the token's row says the rest, and the
        // server must agree it is live (`crm.me()` is its owner).
        let u = super::automation::user(store, token)?;
        if server::me(store)?.as_deref() != Some(u.name.as_str()) {
            return Err(super::automation::not_valid());
        }
        return Ok(u);
    }
    // Who the connection is and the session the token names, in one round trip.
    let (me, found) = match token {
        Some(t) => server::me_and_session(store, &token_hash(t.trim()))?,
        None => (server::me(store)?, None),
    };
    let relogin = "run `crm login --db URL` (or connect as a crm user's login role with PGUSER and PGPASSWORD)";
    let Some(me) = me else {
        return Err(
            Error::auth("not logged in: the connection's role is no crm user").hint(relogin),
        );
    };
    if let Some(token) = token {
        let u = super::checked_session(store, token, found)?;
        if u.name != me {
            return Err(Error::auth(
                "the session belongs to another user than the connection's role",
            )
            .hint(relogin));
        }
        return Ok(u);
    }
    let (id, _) =
        users::by_name(store, &me)?.ok_or_else(|| Error::auth("not logged in").hint(relogin))?;
    let (role, _) = users::role_and_disabled(store, id)?;
    Ok(User {
        id,
        name: me,
        role: Role::parse(&role)?,
        expires_at: None,
        token: None,
    })
}

/// Checks a user's current password on the server by connecting with it (before it is
/// changed, so a stolen session alone cannot take the account over). Wrong: exit 6.
pub fn confirm_password(url: &Path, busy: Duration, name: &str, password: &str) -> Result<()> {
    let login = server::login_for(url, name, password)?;
    match Db::open_as(url, OpenMode::Existing, busy, Some(&login)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::Auth => Err(Error::auth(
            "the current password is wrong, or the account is disabled",
        )),
        Err(e) => Err(e),
    }
}
