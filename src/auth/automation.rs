//! Tokens for automation (`crm token`, used as `CRM_TOKEN`): long-lived, one per robot,
//! each acting as its owner (whose records are "its own") with a role of its own that never
//! exceeds the owner's, audited as `token:NAME`.
//!
//! A token is `crm_LOOKUP_SECRET`: 8 random bytes of lookup id and 32 of secret, in hex.
//! The lookup id finds the row by its unique index; the secret is stored only as its
//! SHA-256. A fast hash is enough here, unlike for passwords (argon2id): the secret is 256
//! random bits, so there is no dictionary to try and a stolen hash cannot be reversed, and
//! every command a script runs checks it, where argon2's deliberate cost (~20 MiB, tens of
//! milliseconds) would be paid each time. On `PostgreSQL` the token is a login role whose
//! password is the secret: the server checks it (SCRAM) and enforces the role itself.

use sha2::{Digest, Sha256};

use super::{Role, User, random_bytes};
use crate::db::audit::hex;
use crate::db::{Store, tokens, users};
use crate::error::{Error, Result};

/// What every token starts with: what tells it from a session token in `CRM_TOKEN`.
pub const PREFIX: &str = "crm_";
const LOOKUP_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// A new token: the text to hand out once, its lookup id and its secret.
pub struct Minted {
    pub token: String,
    pub lookup: String,
    pub secret: String,
}

/// Makes a new random token.
pub fn mint() -> Result<Minted> {
    let lookup = hex(&random_bytes(LOOKUP_BYTES)?);
    let secret = hex(&random_bytes(SECRET_BYTES)?);
    Ok(Minted {
        token: format!("{PREFIX}{lookup}_{secret}"),
        lookup,
        secret,
    })
}

/// Whether `CRM_TOKEN` holds a token for automation (else a session's token).
pub fn is_token(s: &str) -> bool {
    s.trim().starts_with(PREFIX)
}

/// The lookup id and secret of a well-formed token.
pub fn parse(s: &str) -> Option<(&str, &str)> {
    let (lookup, secret) = s.trim().strip_prefix(PREFIX)?.split_once('_')?;
    let hexed = |t: &str, bytes: usize| {
        t.len() == bytes * 2 && t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    (hexed(lookup, LOOKUP_BYTES) && hexed(secret, SECRET_BYTES)).then_some((lookup, secret))
}

/// The stored form of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// The one answer for a token that is malformed, unknown or has a wrong secret, so it says
/// nothing about which.
pub fn not_valid() -> Error {
    Error::auth("CRM_TOKEN is not a valid token for this database")
        .hint("ask an admin for a token (`crm token create`), or unset CRM_TOKEN and log in")
}

/// Equal without an early exit, so the time taken does not tell how much matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

/// The user a token acts as, checked: known, its secret right (on `SQLite`; the server
/// checked it on connecting otherwise), not revoked, not expired, its owner enabled and
/// still allowed all its role may do. Every refusal is exit 6.
pub fn user(store: &Store, token: &str) -> Result<User> {
    let (lookup, secret) = parse(token).ok_or_else(not_valid)?;
    let Some((t, hash)) = tokens::by_lookup(store, lookup)? else {
        return Err(not_valid());
    };
    if store.is_sqlite() && !same(&hash, &secret_hash(secret)) {
        return Err(not_valid());
    }
    let renew = "ask an admin for a new token (`crm token create`)";
    if t.revoked {
        return Err(Error::auth(format!("the token '{}' was revoked", t.name)).hint(renew));
    }
    let now = crate::clock::now();
    // A clock set back before the token was made must not extend it either.
    if now >= t.expires_at || now < t.created_at {
        return Err(Error::auth(format!(
            "the token '{}' expired at {}",
            t.name,
            crate::schema::kinds::format_datetime(t.expires_at)
        ))
        .hint(renew));
    }
    let (owner_role, disabled) = users::role_and_disabled(store, t.user_id)?;
    if disabled {
        return Err(Error::auth(format!(
            "the token '{}' belongs to {}, whose account is disabled",
            t.name, t.owner
        )));
    }
    let role = Role::parse(&t.role)?;
    if !crate::roles::covers(Role::parse(&owner_role)?, role) {
        return Err(Error::auth(format!(
            "the token '{}' has role {}, more than its owner {} has now ({owner_role})",
            t.name, t.role, t.owner
        ))
        .hint(renew));
    }
    // Best effort, as a session's expiry is: a read-only database still lets the token read.
    let _ = tokens::touch(store, t.id, now);
    crate::db::audit::act_by_token(&t.owner, &t.name);
    Ok(User {
        id: t.user_id,
        name: t.owner,
        role,
        expires_at: Some(t.expires_at),
        token: Some(t.name),
    })
}

/// What a command given a token connects to a `PostgreSQL` database at `url` as: the
/// token's login role, with the secret as its password.
pub fn pg_login(url: &std::path::Path, token: &str) -> Result<super::PgLogin> {
    let (lookup, secret) = parse(token).ok_or_else(not_valid)?;
    crate::db::server::token_login_for(url, lookup, secret)
}

#[cfg(test)]
mod tests {
    use super::{is_token, mint, parse, same, secret_hash};

    #[test]
    fn minted_tokens_parse_back_and_others_do_not() {
        let m = mint().unwrap();
        assert!(is_token(&m.token));
        assert_eq!(
            parse(&m.token),
            Some((m.lookup.as_str(), m.secret.as_str()))
        );
        assert_eq!(m.token.len(), 4 + 16 + 1 + 64);
        assert_ne!(mint().unwrap().token, m.token);
        for bad in [
            "crm_",
            "crm_abc_def",
            "garbage",
            &m.token.to_uppercase(),
            &format!("{}0", m.token),
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert!(same(&secret_hash("a"), &secret_hash("a")));
        assert!(!same(&secret_hash("a"), &secret_hash("b")));
    }
}
