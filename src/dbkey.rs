//! Where the key of an encrypted database comes from: `CRM_DB_KEY`, the global
//! `--key-file FILE` (refused unless only its owner may read it), or a hidden prompt on a
//! terminal — never a flag's value, which `ps` and shell history would show. Every problem
//! with a key is exit 6 (auth), like a wrong password.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The shortest key accepted for a new encryption: a passphrase, not a PIN.
pub const MIN_KEY: usize = 8;

/// How keys are found for this run (from the global flags).
#[derive(Debug, Clone)]
pub struct Sources {
    pub key_file: Option<PathBuf>,
    pub interactive: bool,
}

impl Sources {
    /// Registers these sources with the store, which asks only when it meets an encrypted file.
    pub fn register(&self) {
        let me = self.clone();
        crate::db::cipher::set_source(Box::new(move |path: &Path| me.current(path)));
    }

    /// The key of an existing encrypted database, or None when none was given.
    pub fn current(&self, path: &Path) -> Result<Option<String>> {
        if let Some(k) = env_key("CRM_DB_KEY")? {
            return Ok(Some(k));
        }
        if let Some(f) = &self.key_file {
            return read_key_file(f, "--key-file").map(Some);
        }
        if self.interactive {
            let k = rpassword::prompt_password(format!("Key for {}: ", path.display()))
                .map_err(|e| Error::auth(format!("cannot read the key: {e}")))?;
            return nonempty(k, "the key").map(Some);
        }
        Ok(None)
    }

    /// The key for a database about to be encrypted (`init --encrypt`, `encrypt`): the same
    /// sources, asked twice on a terminal, at least [`MIN_KEY`] characters.
    pub fn new_key(&self, path: &Path) -> Result<String> {
        let key = if let Some(k) = env_key("CRM_DB_KEY")? {
            k
        } else if let Some(f) = &self.key_file {
            read_key_file(f, "--key-file")?
        } else {
            self.ask_new(path, "Key")?
        };
        strong(key)
    }

    /// `rekey`'s new key: `--new-key-file FILE`, `CRM_DB_NEW_KEY`, or asked twice.
    pub fn replacement(&self, path: &Path, file: Option<&Path>) -> Result<String> {
        let key = if let Some(f) = file {
            read_key_file(f, "--new-key-file")?
        } else if let Some(k) = env_key("CRM_DB_NEW_KEY")? {
            k
        } else {
            self.ask_new(path, "New key")?
        };
        strong(key)
    }

    fn ask_new(&self, path: &Path, what: &str) -> Result<String> {
        if !self.interactive {
            return Err(Error::auth(format!(
                "no key given for {}: set CRM_DB_KEY or pass --key-file FILE",
                path.display()
            ))
            .hint("prompts only run on a terminal without --no-input"));
        }
        let read = |p: String| {
            rpassword::prompt_password(p)
                .map_err(|e| Error::auth(format!("cannot read the key: {e}")))
        };
        let k = read(format!("{what} for {}: ", path.display()))?;
        if read("Repeat it: ".into())? != k {
            return Err(Error::auth("the two keys differ; nothing was changed"));
        }
        Ok(k)
    }
}

/// A key from the environment; set but empty is an error, not "no key".
fn env_key(var: &str) -> Result<Option<String>> {
    match std::env::var(var) {
        Ok(k) => nonempty(k, var).map(Some),
        Err(_) => Ok(None),
    }
}

fn nonempty(k: String, what: &str) -> Result<String> {
    if k.is_empty() {
        return Err(Error::auth(format!("{what} is empty")));
    }
    Ok(k)
}

fn strong(k: String) -> Result<String> {
    if k.chars().count() < MIN_KEY {
        return Err(Error::auth(format!(
            "the key is too short: at least {MIN_KEY} characters"
        )));
    }
    Ok(k)
}

/// The first line of a key file that only its owner may read (mode 0600 or 0400).
pub fn read_key_file(path: &Path, flag: &str) -> Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::auth(format!("{flag} {}: {e}", path.display())))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::auth(format!(
            "{flag} {} is readable by others (mode {mode:04o}); refusing to use it",
            path.display()
        ))
        .hint(format!("chmod 600 {}", path.display())));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::auth(format!("{flag} {}: {e}", path.display())))?;
    let line = text.lines().next().unwrap_or("").to_string();
    nonempty(line, &format!("{flag} {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(mode: u32, text: &str) -> (tempfile::TempDir, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("key");
        std::fs::write(&p, text).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        (dir, p)
    }

    #[test]
    fn a_key_file_gives_its_first_line_only_when_private() {
        let (_d, p) = file(0o600, "correct horse\nsecond line\n");
        assert_eq!(
            read_key_file(&p, "--key-file").expect("read"),
            "correct horse"
        );
        let (_d, p) = file(0o644, "correct horse\n");
        let e = read_key_file(&p, "--key-file").expect_err("world-readable");
        assert_eq!(e.kind, crate::error::ErrorKind::Auth);
        assert!(e.message.contains("0644"), "{}", e.message);
        let (_d, p) = file(0o600, "\n");
        assert!(read_key_file(&p, "--key-file").is_err());
    }

    #[test]
    fn a_new_key_is_refused_when_short() {
        assert!(strong("1234567".into()).is_err());
        assert_eq!(strong("12345678".into()).expect("long enough"), "12345678");
    }
}
