//! The `SQLCipher` settings a file is encrypted with, and how a file tells which without its
//! key. `SQLCipher` decrypts (AES-256-CBC) and verifies (an HMAC) every page a query reads, and
//! with its defaults (4 KiB pages, HMAC-SHA512) a query that reads most of the file spends most
//! of its time there. crm encrypts new files with 16 KiB pages (a quarter of the per-page
//! work: `OpenSSL` 3 fetches and sets up an HMAC and a cipher context for every page) and
//! HMAC-SHA256 (SHA-NI in the CPU, where SHA-512 has none); every page is still verified.
//! The key derivation of a passphrase is left at `SQLCipher`'s PBKDF2-HMAC-SHA512, 256,000
//! rounds. The README ("Encryption at rest") has the figures.
//!
//! These settings must be given before a file's first read and cannot be read from it
//! without the key, so crm marks its own files in the only bytes stored in the clear: the
//! 16-byte salt that starts an encrypted file (the key derivation's salt) begins with
//! [`MARK`], then 12 random bytes. Any other salt is a file made by an earlier crm with
//! `SQLCipher`'s defaults, which still opens (and is rewritten in crm's settings by
//! `crm rekey`).

use std::path::Path;

use rusqlite::Connection;

use crate::error::{Error, Result};

/// The first bytes of the salt of a file in crm's settings ("crm", then version 1).
pub const MARK: [u8; 4] = *b"crm\x01";

/// crm's page size for encrypted files.
pub const PAGE_SIZE: u32 = 16384;

/// The settings of one encrypted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settings {
    /// `SQLCipher` 4's defaults: files encrypted by crm before [`Settings::Crm`].
    Defaults,
    /// crm's: [`PAGE_SIZE`] pages, HMAC-SHA256.
    Crm,
}

impl Settings {
    /// The settings the salt at the start of `path` says (the defaults when it is not marked).
    pub fn of(path: &Path) -> Settings {
        let marked = crate::db::peek::head(path, MARK.len()).is_ok_and(|(_, head)| head == MARK);
        if marked {
            Settings::Crm
        } else {
            Settings::Defaults
        }
    }

    /// Gives these settings to `schema` of the keyed connection `c`, before its first read.
    pub fn apply(self, c: &Connection, schema: &str) -> rusqlite::Result<()> {
        match self {
            Settings::Defaults => Ok(()),
            Settings::Crm => c.execute_batch(&format!(
                "PRAGMA \"{schema}\".cipher_page_size = {PAGE_SIZE};
                 PRAGMA \"{schema}\".cipher_hmac_algorithm = HMAC_SHA256;"
            )),
        }
    }
}

/// Gives the new, still empty file `schema` of `c` the salt `salt` (before its first write).
pub fn apply_salt(c: &Connection, schema: &str, salt: &[u8; 16]) -> rusqlite::Result<()> {
    use std::fmt::Write;
    let hex = salt.iter().fold(String::new(), |mut h, b| {
        let _ = write!(h, "{b:02x}");
        h
    });
    // Hex digits only: nothing to quote. SQLCipher takes the salt as the text x'...'.
    c.execute_batch(&format!("PRAGMA \"{schema}\".cipher_salt = \"x'{hex}'\";"))
}

/// [`MARK`] then 12 bytes from the system's random source.
pub fn marked_salt() -> Result<[u8; 16]> {
    use std::io::Read;
    let mut salt = [0_u8; 16];
    salt[..MARK.len()].copy_from_slice(&MARK);
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt[MARK.len()..]))
        .map_err(|e| Error::storage(format!("cannot read random bytes for a salt: {e}")))?;
    Ok(salt)
}
