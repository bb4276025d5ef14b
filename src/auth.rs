//! Users, argon2id password hashes, sessions and tokens, lockout, and the role matrix:
//! the one place that decides who may do what.

use std::io::Read;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::db::audit::{self, Entry, hex};
use crate::db::{Store, sessions, users};
use crate::error::{Error, Result};

pub mod automation;
pub mod names;
pub mod server;
mod token;

pub use crate::roles::{Action, ROLES, Role, allowed};

pub use token::{
    PgLogin, pg_token, read_pg_login, read_token, split_pg_token, token_path, write_session,
    write_token,
};

/// Failed logins in a row that lock an account, and for how long.
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_SECONDS: i64 = 15 * 60;
/// Longest password accepted, in bytes (refused, never truncated).
pub const MAX_PASSWORD: usize = 1024;
pub const MIN_PASSWORD: usize = 8;
/// The one message for every login failure, so it tells an attacker nothing.
pub const LOGIN_FAILED: &str =
    "login failed: wrong user name or password, or the account is locked or disabled";

/// The logged-in user, read fresh from the database by every command.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// When the session or token stops working (None: connected without either, as a
    /// `PostgreSQL` login role may be).
    pub expires_at: Option<i64>,
    /// The token for automation the command acts by (None: a person's session).
    pub token: Option<String>,
}

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, t=2, p=1).
pub fn hash_password(password: &str) -> Result<String> {
    check_password(password)?;
    let salt =
        SaltString::encode_b64(&random_bytes(16)?).map_err(|e| Error::internal(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::internal(e.to_string()))?
        .to_string())
}

/// Refuses passwords that are too short or too long (never truncates).
pub fn check_password(password: &str) -> Result<()> {
    if password.len() > MAX_PASSWORD {
        return Err(Error::invalid(format!(
            "the password is too long (at most {MAX_PASSWORD} bytes)"
        )));
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(Error::invalid(format!(
            "the password is too short (at least {MIN_PASSWORD} characters)"
        )));
    }
    Ok(())
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash of a password nobody knows, verified for unknown users so their timing matches.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2wKzGE0kPnx+8JPfzGnu2H8rrt+Fv3m8xYgkJqNnpw8";

fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf)
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Checks a password and opens a session; every attempt is audited with its true reason.
/// The slow hash is verified before taking the write lock (so parallel logins do not queue
/// behind each other's argon2); the failure count is then read and bumped inside one
/// IMMEDIATE transaction, so parallel attempts are counted one by one.
pub fn login(conn: &mut Store, name: &str, password: &str, ttl: i64) -> Result<(User, String)> {
    // Any case of the name finds its user; an unknown name is audited as typed.
    let found = names::find(conn, name)?;
    let name = found.as_ref().map_or(name, |(_, n)| n.as_str());
    let hash = users::hash_by_name(conn, name)?;
    let verified =
        verify_password(hash.as_deref().unwrap_or(DUMMY_HASH), password) && hash.is_some();
    let tx = conn.write()?;
    let now = crate::clock::now();
    let row = users::login_state(&tx, name)?;
    let fail = |tx: crate::db::Tx, reason: &str| -> Result<(User, String)> {
        audit::log(
            &tx,
            &[Entry {
                user: Some(name),
                action: "login_failed",
                detail: Some(reason.into()),
                ..Entry::default()
            }],
        )?;
        tx.commit()?;
        Err(Error::auth(LOGIN_FAILED))
    };
    let Some(users::LoginState {
        id,
        role,
        password_hash: current_hash,
        disabled,
        failed_logins: failures,
        locked_until,
    }) = row
    else {
        return fail(tx, "unknown user");
    };
    if locked_until > now {
        return fail(tx, "account locked");
    }
    // A password changed while we verified: the old one no longer counts as right.
    let ok = verified && hash.as_deref() == Some(current_hash.as_str());
    if !ok {
        let reason = count_failure(&tx, id, failures, now)?;
        return fail(tx, reason);
    }
    if disabled {
        return fail(tx, "account disabled");
    }
    let token = hex(&random_bytes(32)?);
    users::set_failures(&tx, id, 0, 0)?;
    sessions::create(&tx, &token_hash(&token), id, now, now + ttl)?;
    audit::log(
        &tx,
        &[Entry {
            user: Some(name),
            action: "login",
            ..Entry::default()
        }],
    )?;
    tx.commit()?;
    Ok((
        User {
            id,
            name: name.to_string(),
            role: Role::parse(&role)?,
            expires_at: Some(now + ttl),
            token: None,
        },
        token,
    ))
}

/// Counts a wrong password against an account: the `MAX_FAILURES`th in a row locks it for
/// `LOCK_SECONDS`. Returns the reason the audit log gets.
fn count_failure(tx: &Store, id: i64, failures: i64, now: i64) -> Result<&'static str> {
    let failures = failures + 1;
    let lock = if failures >= MAX_FAILURES {
        now + LOCK_SECONDS
    } else {
        0
    };
    let stored_failures = if lock > 0 { 0 } else { failures };
    users::set_failures(tx, id, stored_failures, lock)?;
    Ok(if lock > 0 {
        "wrong password; account locked for 15 minutes"
    } else {
        "wrong password"
    })
}

/// Checks a logged-in user's current password before it is changed, so a stolen session
/// alone cannot take the account over. A wrong one counts toward the lockout exactly like a
/// failed login (else the session would allow unlimited guessing), is audited as
/// `passwd_failed`, and is exit 6; a locked account is refused even with the right one.
pub fn confirm_password(conn: &mut Store, id: i64, name: &str, password: &str) -> Result<()> {
    let hash = users::hash_by_id(conn, id)?;
    // The slow hash outside the write lock, as for a login.
    let verified = verify_password(&hash, password);
    let tx = conn.write()?;
    let now = crate::clock::now();
    let (current_hash, failures, locked_until) = users::lock_state(&tx, id)?;
    let reason = if locked_until > now {
        "account locked"
    } else if !(verified && hash == current_hash) {
        count_failure(&tx, id, failures, now)?
    } else {
        if failures != 0 {
            users::clear_failure_count(&tx, id)?;
        }
        tx.commit()?;
        return Ok(());
    };
    audit::log(
        &tx,
        &[Entry {
            user: Some(name),
            action: "passwd_failed",
            entity: Some("user"),
            record_id: Some(id),
            detail: Some(reason.into()),
            ..Entry::default()
        }],
    )?;
    tx.commit()?;
    Err(Error::auth(
        "the current password is wrong, or the account is locked",
    ))
}

/// The user of a valid session token.
pub fn session_user(conn: &Store, token: &str) -> Result<User> {
    let row = sessions::find(conn, &token_hash(token.trim()))?;
    checked_session(conn, token, row)
}

/// The user of the session `row` that `token` found (none: no such session), if the
/// session is live and its user enabled; an expired one is revoked for good.
fn checked_session(conn: &Store, token: &str, row: Option<sessions::Found>) -> Result<User> {
    let now = crate::clock::now();
    let relogin = "log in again with `crm login`";
    let Some(sessions::Found {
        user_id: id,
        name,
        role,
        disabled,
        created_at: created,
        expires_at: expires,
        revoked,
    }) = row
    else {
        return Err(
            Error::auth("not logged in (no valid session for this database)").hint(relogin),
        );
    };
    // A clock set back before the session began must not revive it either.
    if revoked || now >= expires || now < created {
        if !revoked {
            // Expiry is made permanent, so a clock later set back cannot revive the session.
            // Best effort: on a read-only database the check above still refuses it.
            let _ = sessions::revoke(conn, &token_hash(token.trim()));
        }
        return Err(Error::auth("the session has expired or was logged out").hint(relogin));
    }
    if disabled {
        return Err(Error::auth("the account is disabled"));
    }
    Ok(User {
        id,
        name,
        role: Role::parse(&role)?,
        expires_at: Some(expires),
        token: None,
    })
}

/// Revokes a session in the database, so a copied token stops working too.
pub fn logout(conn: &mut Store, token: &str, user: &str) -> Result<()> {
    let tx = conn.write()?;
    sessions::revoke(&tx, &token_hash(token.trim()))?;
    audit::log(
        &tx,
        &[Entry {
            user: Some(user),
            action: "logout",
            ..Entry::default()
        }],
    )?;
    tx.commit()?;
    Ok(())
}
