//! The sessions table: one row per login, found by the hash of its token (the token itself
//! is never stored). The SQL is the same on both engines but for "differs from".

use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::error::Result;
use crate::vals;

/// A session and its user, as a command checks them.
pub struct Found {
    pub user_id: i64,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
}

pub fn create(s: &Store, token_hash: &str, user_id: i64, now: i64, expires_at: i64) -> Result<()> {
    s.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        vals![token_hash, user_id, now, expires_at],
    )?;
    Ok(())
}

/// The session with this token hash, with its user.
pub fn find(s: &Store, token_hash: &str) -> Result<Option<Found>> {
    s.query_opt(
        "SELECT u.id, u.name, u.role, u.disabled, s.created_at, s.expires_at, s.revoked
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        vals![token_hash],
    )?
    .map(|r| {
        Ok(Found {
            user_id: r.get(0)?,
            name: r.get(1)?,
            role: r.get(2)?,
            disabled: r.get(3)?,
            created_at: r.get(4)?,
            expires_at: r.get(5)?,
            revoked: r.get(6)?,
        })
    })
    .transpose()
}

/// Revokes the session with this token hash.
pub fn revoke(s: &Store, token_hash: &str) -> Result<()> {
    s.execute(
        "UPDATE sessions SET revoked = 1 WHERE token_hash = ?",
        vals![token_hash],
    )?;
    Ok(())
}

/// Revokes every live session of a user; returns how many.
pub fn revoke_all(s: &Store, user_id: i64) -> Result<usize> {
    let n = s.execute(
        "UPDATE sessions SET revoked = 1 WHERE user_id = ? AND revoked = 0",
        vals![user_id],
    )?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Revokes every session of a user but the one with `keep` as its token hash.
pub fn revoke_others(s: &Store, user_id: i64, keep: Option<&str>) -> Result<()> {
    // Null-safe, so `keep = None` revokes them all; static text per engine keeps the
    // statement cached (`Dialect::distinct`).
    let sql = match s.dialect() {
        Dialect::Sqlite => {
            "UPDATE sessions SET revoked = 1 WHERE user_id = ? AND token_hash IS NOT ?"
        }
        Dialect::Postgres => {
            "UPDATE sessions SET revoked = 1 WHERE user_id = ? AND token_hash IS DISTINCT FROM ?"
        }
    };
    s.execute(sql, vals![user_id, keep])?;
    Ok(())
}
