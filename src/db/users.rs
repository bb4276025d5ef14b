//! The users table: accounts, their roles, password hashes and lockout counters. The rules
//! (who may log in, when an account locks, which names clash) live in `auth`; this is only
//! how they are stored.

use rusqlite::{OptionalExtension, params};

use crate::db::Store;
use crate::error::Result;

/// What a login checks of an account, read inside its write transaction.
pub struct LoginState {
    pub id: i64,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub failed_logins: i64,
    pub locked_until: i64,
}

/// One row of `crm user list`.
pub struct Listed {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub locked_until: i64,
    pub created_at: i64,
}

/// How many users there are.
pub fn count(s: &Store) -> Result<i64> {
    Ok(s.sqlite()
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
}

/// Adds a user; returns the new id.
pub fn insert(s: &Store, name: &str, role: &str, password_hash: &str, now: i64) -> Result<i64> {
    let c = s.sqlite();
    c.execute(
        "INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        params![name, role, password_hash, now, now],
    )?;
    Ok(c.last_insert_rowid())
}

/// Every user's id and name, oldest first.
pub fn names(s: &Store) -> Result<Vec<(i64, String)>> {
    let mut stmt = s
        .sqlite()
        .prepare("SELECT id, name FROM users ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The user with exactly this stored name.
pub fn by_name(s: &Store, name: &str) -> Result<Option<(i64, String)>> {
    Ok(s.sqlite()
        .query_row("SELECT id, name FROM users WHERE name = ?", [name], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// Every user, for `crm user list`.
pub fn list(s: &Store) -> Result<Vec<Listed>> {
    let mut stmt = s.sqlite().prepare(
        "SELECT id, name, role, disabled, locked_until, created_at FROM users ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Listed {
            id: r.get(0)?,
            name: r.get(1)?,
            role: r.get(2)?,
            disabled: r.get(3)?,
            locked_until: r.get(4)?,
            created_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The password hash of the user with this name, if any.
pub fn hash_by_name(s: &Store, name: &str) -> Result<Option<String>> {
    Ok(s.sqlite()
        .query_row(
            "SELECT password_hash FROM users WHERE name = ?",
            [name],
            |r| r.get(0),
        )
        .optional()?)
}

/// The password hash of a user.
pub fn hash_by_id(s: &Store, id: i64) -> Result<String> {
    Ok(s.sqlite()
        .query_row("SELECT password_hash FROM users WHERE id = ?", [id], |r| {
            r.get(0)
        })?)
}

/// What a login checks of the account with this name.
pub fn login_state(s: &Store, name: &str) -> Result<Option<LoginState>> {
    Ok(s.sqlite()
        .query_row(
            "SELECT id, role, password_hash, disabled, failed_logins, locked_until FROM users WHERE name = ?",
            [name],
            |r| {
                Ok(LoginState {
                    id: r.get(0)?,
                    role: r.get(1)?,
                    password_hash: r.get(2)?,
                    disabled: r.get(3)?,
                    failed_logins: r.get(4)?,
                    locked_until: r.get(5)?,
                })
            },
        )
        .optional()?)
}

/// A user's password hash, failure count and lock end.
pub fn lock_state(s: &Store, id: i64) -> Result<(String, i64, i64)> {
    Ok(s.sqlite().query_row(
        "SELECT password_hash, failed_logins, locked_until FROM users WHERE id = ?",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

/// Stores the failure count and the lock end (0: not locked).
pub fn set_failures(s: &Store, id: i64, failures: i64, locked_until: i64) -> Result<()> {
    s.sqlite().execute(
        "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
        params![failures, locked_until, id],
    )?;
    Ok(())
}

/// Clears the failure count only (a right password while not locked).
pub fn clear_failure_count(s: &Store, id: i64) -> Result<()> {
    s.sqlite()
        .execute("UPDATE users SET failed_logins = 0 WHERE id = ?", [id])?;
    Ok(())
}

/// A user's role and whether the account is disabled.
pub fn role_and_disabled(s: &Store, id: i64) -> Result<(String, bool)> {
    Ok(s.sqlite()
        .query_row("SELECT role, disabled FROM users WHERE id = ?", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?)
}

pub fn set_role(s: &Store, id: i64, role: &str, now: i64) -> Result<()> {
    s.sqlite().execute(
        "UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
        params![role, now, id],
    )?;
    Ok(())
}

/// Disables or enables an account; either way its failure count is cleared, and enabling
/// also lifts a lock.
pub fn set_disabled(s: &Store, id: i64, disabled: bool, now: i64) -> Result<()> {
    s.sqlite().execute("UPDATE users SET disabled = ?, failed_logins = 0, locked_until = CASE WHEN ? THEN locked_until ELSE 0 END, updated_at = ? WHERE id = ?", params![disabled, disabled, now, id])?;
    Ok(())
}

/// How many enabled admins there are.
pub fn enabled_admins(s: &Store) -> Result<i64> {
    Ok(s.sqlite().query_row(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0",
        [],
        |r| r.get(0),
    )?)
}

/// Sets a new password hash and lifts any lock.
pub fn set_password(s: &Store, id: i64, password_hash: &str, now: i64) -> Result<()> {
    s.sqlite().execute("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0, updated_at = ? WHERE id = ?", params![password_hash, now, id])?;
    Ok(())
}

/// The role of the user with this name, if there is one.
pub fn role_of(s: &Store, name: &str) -> Result<Option<String>> {
    Ok(s.sqlite()
        .prepare_cached("SELECT role FROM users WHERE name = ?")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}
