//! `crm restore FILE [--force]` (admin only): checks a backup (a crm `SQLite` file: integrity,
//! application id, schema version — migrated when older, refused when newer —, the audit
//! chain, all of `crm check`), then puts it in place of the database atomically, keeping the
//! replaced file beside it (`db::replace`). A sound database is replaced only with `--force`
//! (it holds whatever changed since the backup); a damaged one, or none, without. When the
//! database cannot be read, the backup's own admin credentials are asked.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::{Db, OpenMode, cipher, maintain, replace};
use crate::error::{Error, ErrorKind, Result};

pub fn command() -> Command {
    Command::new("restore")
        .about("Replace the database with a checked backup FILE (admin only)")
        .long_about(
            "Replace the database with the backup FILE, after checking it: a crm SQLite file \
             (an encrypted backup opens with the database's key), sound (integrity, audit chain: \
             all of `crm check`), from this crm or an older one (migrated). The new file is \
             written beside the database and renamed over it; the replaced file is kept beside \
             it as DB.replaced-PID. A database that passes `crm check` is replaced only with \
             --force. When the database cannot be read (damaged or missing), log in with an \
             admin of the backup: --user NAME and its password (asked, or --password-stdin).",
        )
        .arg(
            Arg::new("file")
                .required(true)
                .value_name("FILE")
                .help("The backup file (written by `crm backup`)"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Replace a sound database too (losing what changed since the backup)"),
        )
        .arg(
            Arg::new("user")
                .long("user")
                .short('u')
                .value_name("NAME")
                .help("When the database cannot be read: an admin of the backup (asked on a terminal)"),
        )
        .arg(super::password_stdin_arg().help(
            "When the database cannot be read: that admin's password from the first line of stdin",
        ))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    if ctx.g.is_server() {
        return Err(Error::usage(
            "restore replaces a SQLite file; to load a backup into PostgreSQL, use `crm --db FILE copy --to URL` into an empty database",
        ));
    }
    let file = PathBuf::from(m.get_one::<String>("file").expect("required"));
    // The current database: an admin's session when it can be read; None when it cannot
    // (damaged or missing), and then the backup's admin logs in below.
    let me = match ctx.authorize(Action::Replace, None, None) {
        Ok(u) => Some(u.name),
        Err(e) if e.kind == ErrorKind::Storage => None,
        Err(e) => return Err(e),
    };
    let from = check_backup(&file)?;
    let sound = me.is_some() && super::cipher::verify(&ctx.db()?.store).is_ok();
    if sound && !m.get_flag("force") {
        return Err(Error::conflict(format!(
            "{} is sound and would lose what changed since the backup; nothing was changed",
            ctx.g.db.display()
        ))
        .hint("pass --force to replace it anyway"));
    }
    let tmp = replace::beside(&ctx.g.db, &format!(".restore-{}.tmp", std::process::id()));
    let result = restore_into(ctx, m, &file, &tmp, me);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(replace::beside(&tmp, suffix));
    }
    let kept = result?;
    let shown = ctx.g.db.display().to_string();
    let to = crate::db::migrate::latest();
    let kept_shown = kept.as_ref().map(|k| k.display().to_string());
    let mut text = format!("restored {shown} from {}", file.display());
    if from != to {
        text.push_str(&format!(" (schema {from} migrated to {to})"));
    }
    if let Some(k) = &kept_shown {
        text.push_str(&format!("; the replaced file is kept as {k}"));
    }
    ctx.out.outcome(
        &text,
        &serde_json::json!({"db": shown, "from": file.display().to_string(),
            "schema_from": from, "schema_to": to, "replaced": kept_shown}),
    )
}

/// Refuses what is not a sound crm backup this crm can read; returns its schema version.
fn check_backup(file: &Path) -> Result<i64> {
    let refuse =
        |why: &str| Error::storage(format!("{} {why}; nothing was changed", file.display()));
    if !file.is_file() {
        return Err(Error::not_found(format!(
            "no backup file at {}",
            file.display()
        )));
    }
    if cipher::header(file) == cipher::Header::Foreign {
        return Err(refuse("is not a crm backup (not a SQLite database)"));
    }
    let store = maintain::open_read_only(file).map_err(|e| match e.kind {
        ErrorKind::Auth => e,
        _ => refuse(&format!("cannot be read ({})", e.message)),
    })?;
    if !matches!(maintain::application_id(&store), Ok(id) if id == crate::db::APPLICATION_ID) {
        return Err(refuse(
            "is not a crm database (another program's SQLite file)",
        ));
    }
    let ok = maintain::integrity_first(&store).unwrap_or_else(|e| e.message);
    if ok != "ok" {
        return Err(refuse(&format!("failed its integrity check ({ok})")));
    }
    let version = maintain::user_version(&store)?;
    if version > crate::db::migrate::latest() {
        return Err(refuse(&format!(
            "was written by a newer crm (schema {version}; this crm knows {})",
            crate::db::migrate::latest()
        )));
    }
    Ok(version)
}

/// Copies the backup to `tmp`, migrates and checks it, logs the admin in when the database
/// could not be read, audits the restore in it, and swaps it in. Returns the replaced file.
fn restore_into(
    ctx: &mut Ctx,
    m: &ArgMatches,
    file: &Path,
    tmp: &Path,
    me: Option<String>,
) -> Result<Option<PathBuf>> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(|e| Error::storage(format!("{}: {e}", tmp.display())))?;
    copy_backup(file, tmp)?;
    // Opening migrates an older backup; then all of crm check.
    let mut db = Db::open(tmp, OpenMode::Existing, ctx.g.busy).map_err(|e| {
        Error::new(
            e.kind,
            format!("the backup {}: {}", file.display(), e.message),
        )
    })?;
    super::cipher::verify(&db.store)
        .map_err(|e| Error::storage(format!("the backup {} {}", file.display(), e.message)))?;
    let name = match me {
        Some(n) => n,
        None => backup_admin(ctx, m, &mut db)?,
    };
    crate::db::audit::log_alone(
        &mut db.store,
        &[crate::db::audit::Entry {
            user: Some(&name),
            action: "restore",
            detail: Some(format!("from {}", file.display())),
            ..Default::default()
        }],
    )?;
    drop(db);
    replace::stage("checked");
    drop(ctx.take_db());
    replace::swap_in(tmp, &ctx.g.db, ctx.g.busy, &super::cipher::verify, true)
}

/// Copies the backup `file` into the empty file `tmp`, byte for byte; an encrypted backup
/// in `SQLCipher`'s defaults (an earlier crm's) is then rewritten in crm's settings.
fn copy_backup(file: &Path, tmp: &Path) -> Result<()> {
    let io = |e: std::io::Error| Error::storage(format!("{}: {e}", tmp.display()));
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .open(tmp)
        .map_err(io)?;
    std::io::copy(&mut std::fs::File::open(file)?, &mut out).map_err(io)?;
    drop(out);
    if cipher::header(tmp) == cipher::Header::Encrypted
        && cipher::Settings::of(tmp) == cipher::Settings::Defaults
    {
        replace::to_crm_settings(tmp)?;
    }
    Ok(())
}

/// The database could not be read: an admin of the backup logs in against the backup.
fn backup_admin(ctx: &Ctx, m: &ArgMatches, db: &mut Db) -> Result<String> {
    let name = match m.get_one::<String>("user") {
        Some(n) => n.clone(),
        None if ctx.g.interactive => dialoguer::Input::<String>::new()
            .with_prompt("Admin of the backup")
            .interact_text()
            .map_err(|e| Error::new(ErrorKind::Interrupted, e.to_string()))?,
        None => {
            return Err(ctx.require_flag(
                "--user NAME --password-stdin",
                "the database cannot be read, so an admin of the backup",
            ));
        }
    };
    let password = crate::prompt::password(
        ctx,
        m.get_flag("password_stdin"),
        &format!("Password of {name} in the backup"),
        false,
    )?;
    let (user, _) = crate::auth::login(&mut db.store, &name, &password, 60)?;
    if user.role != crate::roles::Role::Admin {
        return Err(Error::denied(format!(
            "role {} may not replace the database file",
            user.role.as_str()
        )));
    }
    Ok(user.name)
}
