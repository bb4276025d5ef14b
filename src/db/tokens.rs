//! The tokens table (`crm token`): tokens for automation, found by their lookup id, the
//! secret kept only as a hash (on `PostgreSQL` not at all: the server keeps its SCRAM
//! verifier in the token's login role). The rules are in `auth::automation`.

use crate::db::Store;
use crate::db::migrate::postgres::names;
use crate::error::Result;
use crate::vals;

/// A token's row, without its secret's hash.
#[derive(Debug, Clone)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub lookup: String,
    pub role: String,
    pub user_id: i64,
    /// The owner's name, whose records the token acts on.
    pub owner: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

fn token(r: &crate::db::row::Row) -> Result<Token> {
    Ok(Token {
        id: r.get(0)?,
        name: r.get(1)?,
        lookup: r.get(2)?,
        role: r.get(3)?,
        user_id: r.get(4)?,
        owner: r.get(5)?,
        created_by: r.get(6)?,
        created_at: r.get(7)?,
        expires_at: r.get(8)?,
        last_used_at: r.get(9)?,
        revoked: r.get(10)?,
    })
}

/// What a new token's row holds.
pub struct New<'a> {
    pub name: &'a str,
    pub lookup: &'a str,
    pub secret_hash: &'a str,
    pub role: &'a str,
    pub user_id: i64,
    pub created_by: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Adds a token's row; returns its id.
pub fn insert(s: &Store, t: &New) -> Result<i64> {
    s.insert_returning_id(
        "INSERT INTO tokens (name, lookup, secret_hash, role, user_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        vals![
            t.name,
            t.lookup,
            t.secret_hash,
            t.role,
            t.user_id,
            t.created_by,
            t.created_at,
            t.expires_at
        ],
    )
}

/// Every token, oldest first.
pub fn list(s: &Store) -> Result<Vec<Token>> {
    s.query(
        "SELECT t.id, t.name, t.lookup, t.role, t.user_id, u.name, t.created_by, t.created_at, t.expires_at, t.last_used_at, t.revoked FROM tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id",
        vals![],
    )?
        .iter()
        .map(token)
        .collect()
}

/// The token with this lookup id, and its secret's hash.
pub fn by_lookup(s: &Store, lookup: &str) -> Result<Option<(Token, String)>> {
    s.query_opt(
        "SELECT t.id, t.name, t.lookup, t.role, t.user_id, u.name, t.created_by, t.created_at, t.expires_at, t.last_used_at, t.revoked, t.secret_hash FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.lookup = ?",
        vals![lookup],
    )?
    .map(|r| Ok((token(&r)?, r.get(11)?)))
    .transpose()
}

/// Marks the token revoked (and on `PostgreSQL` ends its login); whether it was live.
pub fn revoke(s: &Store, id: i64) -> Result<bool> {
    let n = s.execute(
        "UPDATE tokens SET revoked = 1 WHERE id = ? AND revoked = 0",
        vals![id],
    )?;
    if let Store::Postgres(_) = s {
        // Its login role can no longer log in (`migrate::postgres::tokens`).
        s.execute(
            "SELECT crm.sync_token_logins(user_id) FROM tokens WHERE id = ?",
            vals![id],
        )?;
    }
    Ok(n > 0)
}

/// Notes that the token was used now. Only once a minute, so a script's commands do not
/// each take the write lock for it.
pub fn touch(s: &Store, id: i64, now: i64) -> Result<()> {
    s.execute(
        "UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        vals![now, id, now - 60],
    )?;
    Ok(())
}

/// The login role of the token with this lookup id in the `PostgreSQL` database `dbname`
/// (`token:LOOKUP@NS`: `:` is in no user name, so it never meets a user's login role).
pub fn login_role(dbname: &str, lookup: &str) -> String {
    format!("token:{lookup}@{}", names::namespace(dbname))
}

/// Gives a new token its login role on `PostgreSQL`: the secret as its password (a SCRAM
/// verifier made here, never the secret itself in a statement), valid for `ttl` seconds of
/// the server's clock, in the group of the token's role. Nothing on `SQLite`.
pub fn add_login(s: &Store, id: i64, lookup: &str, secret: &str, ttl: i64) -> Result<()> {
    let Some(pg) = s.postgres() else {
        return Ok(());
    };
    let verifier = postgres_protocol::password::scram_sha_256(secret.as_bytes());
    s.execute(
        "SELECT crm.add_token_login(?, ?, ?, ?)",
        vals![id, login_role(&pg.dbname, lookup), verifier, ttl],
    )?;
    Ok(())
}
