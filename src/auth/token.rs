//! The session token file: one per database under the XDG state directory, 0600 in a 0700
//! directory, refused when others can read it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::db::audit::hex;
use crate::error::{Error, Result};

/// The token file for a database: one per database, under the XDG state directory.
pub fn token_path(db: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    let id = hex(&Sha256::digest(canonical.as_os_str().as_encoded_bytes()));
    crate::paths::state_dir().join(format!("session-{}", &id[..16]))
}

/// Reads the saved token (the file's first line), refusing a file others can read (as psql
/// does with .pgpass).
pub fn read_token(path: &Path) -> Result<Option<String>> {
    Ok(read_file(path)?.map(|t| t.lines().next().unwrap_or_default().trim().to_string()))
}

/// The whole session file, refusing one others can read.
fn read_file(path: &Path) -> Result<Option<String>> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::auth(format!(
            "the token file {} is readable by others; refusing it",
            path.display()
        ))
        .hint("remove it and log in again, or chmod 600 it"));
    }
    Ok(Some(std::fs::read_to_string(path)?))
}

/// Saves the token in a 0600 file inside a 0700 directory, written whole then renamed.
pub fn write_token(path: &Path, token: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path.parent().expect("token path has a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // The directory is crm's own: keep it private even if something else created it.
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    // A temp name per process, so parallel logins to one database do not collide.
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(token.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

pub use crate::db::server::Login as PgLogin;

/// Saves a session: the token on the first line, then (on `PostgreSQL`) the login role and
/// its password on the next two.
pub fn write_session(path: &Path, token: &str, pg: Option<&PgLogin>) -> Result<()> {
    match pg {
        None => write_token(path, token),
        Some(l) => write_token(path, &format!("{token}\n{}\n{}", l.role, l.password)),
    }
}

/// The login role and password a saved `PostgreSQL` session holds, if any.
pub fn read_pg_login(path: &Path) -> Result<Option<PgLogin>> {
    let Some(text) = read_file(path)? else {
        return Ok(None);
    };
    let mut lines = text.lines().skip(1);
    Ok(match (lines.next(), lines.next()) {
        (Some(role), Some(password)) => Some(PgLogin {
            role: role.to_string(),
            password: password.to_string(),
        }),
        _ => None,
    })
}

/// A token for `CRM_TOKEN` on `PostgreSQL`: the session token with the login role and its
/// password (`pg1.TOKEN.ROLE.PASSWORD`, the last two in hex), since a command given only a
/// token must still connect as someone. It is as secret as the password it holds.
pub fn pg_token(token: &str, login: &PgLogin) -> String {
    format!(
        "pg1.{token}.{}.{}",
        hex(login.role.as_bytes()),
        hex(login.password.as_bytes())
    )
}

/// The session token and login inside a [`pg_token`], or None for a plain token.
pub fn split_pg_token(s: &str) -> Option<(String, PgLogin)> {
    let mut parts = s.trim().strip_prefix("pg1.")?.split('.');
    let (token, role, password) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let text = |h: &str| String::from_utf8(unhex(h)?).ok();
    Some((
        token.to_string(),
        PgLogin {
            role: text(role)?,
            password: text(password)?,
        },
    ))
}

fn unhex(h: &str) -> Option<Vec<u8>> {
    if !h.len().is_multiple_of(2) {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_tokens_round_trip_and_plain_tokens_are_not_pg() {
        let l = PgLogin {
            role: "ann@prod".into(),
            password: "pa.ss wörd".into(),
        };
        let t = pg_token("abc123", &l);
        assert_eq!(split_pg_token(&t), Some(("abc123".to_string(), l)));
        assert_eq!(split_pg_token("abc123"), None);
        assert_eq!(split_pg_token("pg1.a.zz.00"), None);
    }
}
