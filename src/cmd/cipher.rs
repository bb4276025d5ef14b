//! `crm encrypt`, `crm decrypt`, `crm rekey` (admin only): convert the database file between
//! plain and encrypted, or change its key. Each writes a new file beside the old one
//! (`sqlcipher_export`), checks it (integrity, row counts, `crm check`), syncs it and renames
//! it over the old one, which is removed only once the new one verifies in place
//! (`db::replace`): a kill at any point leaves a usable database under its name.

use std::path::PathBuf;

use clap::{Arg, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::{Store, cipher, replace};
use crate::error::{Error, Result};

pub fn encrypt_command() -> Command {
    Command::new("encrypt").about(
        "Encrypt the database file in place (SQLCipher; the key from CRM_DB_KEY, --key-file or asked; admin only)",
    )
}

pub fn decrypt_command() -> Command {
    Command::new("decrypt")
        .about("Decrypt the database file in place: a plain SQLite file again (admin only)")
}

pub fn rekey_command() -> Command {
    Command::new("rekey")
        .about("Change the key of an encrypted database (admin only)")
        .arg(
            Arg::new("new_key_file")
                .long("new-key-file")
                .value_name("FILE")
                .help("The new key: the first line of FILE (mode 0600); else CRM_DB_NEW_KEY, else asked twice"),
        )
}

/// The checks a converted or restored file passes: `crm check`'s, but for the journal mode
/// of a copy not yet opened as a database (it becomes WAL when crm opens it in place).
pub fn verify(store: &Store) -> Result<()> {
    let failed: Vec<String> = super::check::checks(store)?
        .into_iter()
        .filter(|(name, ok, _)| !ok && *name != "journal_mode")
        .map(|(name, _, detail)| format!("{name}: {detail}"))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::storage(format!(
        "the new file failed the check ({}); nothing was changed",
        failed.join("; ")
    )))
}

/// The open, authorised database, refused on `PostgreSQL` and without `SQLCipher`.
fn start(ctx: &mut Ctx, what: &str) -> Result<()> {
    if ctx.g.is_server() {
        return Err(Error::usage(format!(
            "{what} applies to a SQLite file; a PostgreSQL server encrypts its own storage"
        )));
    }
    if !cipher::AVAILABLE {
        return Err(Error::usage(format!(
            "{what}: this crm was built without encryption (cargo feature `encryption`)"
        )));
    }
    ctx.authorize(Action::Replace, None, None)?;
    Ok(())
}

/// Converts the file to `key` (None: plain) and audits it in the new file.
fn convert(ctx: &mut Ctx, key: Option<&str>, action: &str, done: &str) -> Result<()> {
    let user = ctx.user()?;
    let shown = ctx.g.db.display().to_string();
    crate::db::audit::log_alone(
        &mut ctx.db()?.store,
        &[crate::db::audit::Entry {
            user: Some(&user.name),
            action,
            detail: Some(shown.clone()),
            ..Default::default()
        }],
    )?;
    let db = ctx.take_db().expect("opened by authorize");
    replace::convert(db, key, ctx.g.busy, &verify)?;
    ctx.out.outcome(
        &format!("{shown} {done}"),
        &serde_json::json!({"db": shown, "encrypted": key.is_some()}),
    )
}

pub fn encrypt(ctx: &mut Ctx, _m: &ArgMatches) -> Result<()> {
    start(ctx, "encrypt")?;
    if cipher::header(&ctx.g.db) == cipher::Header::Encrypted {
        return Err(
            Error::conflict(format!("{} is already encrypted", ctx.g.db.display()))
                .hint("change its key with `crm rekey`"),
        );
    }
    let key = ctx.g.keys.new_key(&ctx.g.db)?;
    convert(ctx, Some(&key), "encrypt", "is encrypted")
}

pub fn decrypt(ctx: &mut Ctx, _m: &ArgMatches) -> Result<()> {
    start(ctx, "decrypt")?;
    plain_refused(ctx)?;
    convert(ctx, None, "decrypt", "is decrypted (a plain SQLite file)")
}

pub fn rekey(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    start(ctx, "rekey")?;
    plain_refused(ctx)?;
    let file = m.get_one::<String>("new_key_file").map(PathBuf::from);
    let key = ctx.g.keys.replacement(&ctx.g.db, file.as_deref())?;
    convert(ctx, Some(&key), "rekey", "has its new key")
}

fn plain_refused(ctx: &Ctx) -> Result<()> {
    if cipher::header(&ctx.g.db) == cipher::Header::Encrypted {
        return Ok(());
    }
    Err(
        Error::conflict(format!("{} is not encrypted", ctx.g.db.display()))
            .hint("encrypt it with `crm encrypt`"),
    )
}
