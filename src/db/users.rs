//! The users table: accounts, their roles, password hashes and lockout counters. The rules
//! (who may log in, when an account locks, which names clash) live in `auth`; this is only
//! how they are stored. The SQL is the same on both engines.

use crate::db::Store;
use crate::db::row::Row;
use crate::error::Result;
use crate::vals;

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
    s.value("SELECT COUNT(*) FROM users", vals![])
}

/// Adds a user; returns the new id.
pub fn insert(s: &Store, name: &str, role: &str, password_hash: &str, now: i64) -> Result<i64> {
    s.insert_returning_id(
        "INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        vals![name, role, password_hash, now, now],
    )
}

fn id_name(r: &Row) -> Result<(i64, String)> {
    Ok((r.get(0)?, r.get(1)?))
}

/// Every user's id and name, oldest first.
pub fn names(s: &Store) -> Result<Vec<(i64, String)>> {
    s.query("SELECT id, name FROM users ORDER BY id", vals![])?
        .iter()
        .map(id_name)
        .collect()
}

/// The user with exactly this stored name.
pub fn by_name(s: &Store, name: &str) -> Result<Option<(i64, String)>> {
    s.query_opt("SELECT id, name FROM users WHERE name = ?", vals![name])?
        .as_ref()
        .map(id_name)
        .transpose()
}

/// Every user, for `crm user list`.
pub fn list(s: &Store) -> Result<Vec<Listed>> {
    s.query(
        "SELECT id, name, role, disabled, locked_until, created_at FROM users ORDER BY id",
        vals![],
    )?
    .iter()
    .map(|r| {
        Ok(Listed {
            id: r.get(0)?,
            name: r.get(1)?,
            role: r.get(2)?,
            disabled: r.get(3)?,
            locked_until: r.get(4)?,
            created_at: r.get(5)?,
        })
    })
    .collect()
}

/// The password hash of the user with this name, if any.
pub fn hash_by_name(s: &Store, name: &str) -> Result<Option<String>> {
    s.query_opt(
        "SELECT password_hash FROM users WHERE name = ?",
        vals![name],
    )?
    .map(|r| r.get(0))
    .transpose()
}

/// The password hash of a user.
pub fn hash_by_id(s: &Store, id: i64) -> Result<String> {
    s.value("SELECT password_hash FROM users WHERE id = ?", vals![id])
}

/// What a login checks of the account with this name.
pub fn login_state(s: &Store, name: &str) -> Result<Option<LoginState>> {
    s.query_opt(
        "SELECT id, role, password_hash, disabled, failed_logins, locked_until FROM users WHERE name = ?",
        vals![name],
    )?
    .map(|r| {
        Ok(LoginState {
            id: r.get(0)?,
            role: r.get(1)?,
            password_hash: r.get(2)?,
            disabled: r.get(3)?,
            failed_logins: r.get(4)?,
            locked_until: r.get(5)?,
        })
    })
    .transpose()
}

/// A user's password hash, failure count and lock end.
pub fn lock_state(s: &Store, id: i64) -> Result<(String, i64, i64)> {
    let r = s.query_one(
        "SELECT password_hash, failed_logins, locked_until FROM users WHERE id = ?",
        vals![id],
    )?;
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

/// Stores the failure count and the lock end (0: not locked).
pub fn set_failures(s: &Store, id: i64, failures: i64, locked_until: i64) -> Result<()> {
    s.execute(
        "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
        vals![failures, locked_until, id],
    )?;
    Ok(())
}

/// Clears the failure count only (a right password while not locked).
pub fn clear_failure_count(s: &Store, id: i64) -> Result<()> {
    s.execute("UPDATE users SET failed_logins = 0 WHERE id = ?", vals![id])?;
    Ok(())
}

/// A user's role and whether the account is disabled.
pub fn role_and_disabled(s: &Store, id: i64) -> Result<(String, bool)> {
    let r = s.query_one("SELECT role, disabled FROM users WHERE id = ?", vals![id])?;
    Ok((r.get(0)?, r.get(1)?))
}

pub fn set_role(s: &Store, id: i64, role: &str, now: i64) -> Result<()> {
    s.execute(
        "UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
        vals![role, now, id],
    )?;
    Ok(())
}

/// Disables or enables an account; either way its failure count is cleared, and enabling
/// also lifts a lock.
pub fn set_disabled(s: &Store, id: i64, disabled: bool, now: i64) -> Result<()> {
    // `? <> 0`, not `CASE WHEN ?`: a plain integer condition reads the same on both engines.
    s.execute(
        "UPDATE users SET disabled = ?, failed_logins = 0, locked_until = CASE WHEN ? <> 0 THEN locked_until ELSE 0 END, updated_at = ? WHERE id = ?",
        vals![disabled, disabled, now, id],
    )?;
    Ok(())
}

/// How many enabled admins there are.
pub fn enabled_admins(s: &Store) -> Result<i64> {
    s.value(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0",
        vals![],
    )
}

/// Sets a new password hash and lifts any lock.
pub fn set_password(s: &Store, id: i64, password_hash: &str, now: i64) -> Result<()> {
    s.execute(
        "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0, updated_at = ? WHERE id = ?",
        vals![password_hash, now, id],
    )?;
    Ok(())
}

/// The role of the user with this name, if there is one.
pub fn role_of(s: &Store, name: &str) -> Result<Option<String>> {
    s.query_opt("SELECT role FROM users WHERE name = ?", vals![name])?
        .map(|r| r.get(0))
        .transpose()
}
