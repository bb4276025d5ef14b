//! `crm backup FILE|- [--force]` (admin only: it holds users and password hashes): a
//! consistent copy of the database taken while others write (VACUUM INTO a temp file inside a
//! private `FILE.PID.tmp` directory next to FILE, integrity-checked, synced, then renamed), so
//! FILE is either a whole good backup or absent, and a killed backup leaves only that one
//! `*.tmp` directory (copy and journal inside). FILE obeys the overwrite rule (`outfile`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::maintain;
use crate::error::{Error, Result};
use crate::outfile::{self, Target};

pub fn command() -> Command {
    Command::new("backup")
        .about(
            "Write a consistent, checked copy of the database to FILE (created 0600; admin only)",
        )
        .arg(
            Arg::new("file")
                .required(true)
                .value_name("FILE")
                .help("The backup file, or - for stdout"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Replace FILE if it exists"),
        )
        .arg(super::password_stdin_arg().help(
            "From a server: read your password for the backup file from stdin (else the session's is used)",
        ))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let user = ctx.authorize(Action::Backup, None, None)?;
    ctx.db()?; // open (and protect) the database before its name is checked as a target
    let arg = Path::new(m.get_one::<String>("file").expect("required"));
    let target = outfile::check(arg, m.get_flag("force"))?;
    let shown = match &target {
        Target::Stdout => "stdout".to_string(),
        Target::File(d) => d.arg.display().to_string(),
    };
    if target == Target::Stdout && std::io::stdout().is_terminal() {
        return Err(Error::usage("will not write a binary backup to a terminal")
            .hint("redirect it (crm backup - > FILE) or name a file"));
    }
    // VACUUM INTO keeps a rollback journal next to its output: both live in one temp
    // directory, so a kill -9 leaves a single `*.tmp` entry rather than a stray `-journal`.
    let (tmp_dir, dest) = match &target {
        Target::Stdout => (
            std::env::temp_dir().join(format!("crm-backup.{}.tmp", std::process::id())),
            None,
        ),
        Target::File(d) => {
            let mut name = d
                .path
                .file_name()
                .expect("a checked target has a file name")
                .to_owned();
            name.push(format!(".{}.tmp", std::process::id()));
            (d.path.with_file_name(name), Some(d))
        }
    };
    let from_server = server_password(ctx, m, &user.name)?;
    let result =
        write_checked(ctx, &tmp_dir, arg, &user.name, from_server.as_deref()).and_then(|tmp| {
            match dest {
                Some(d) => outfile::place(&tmp, d),
                None => to_stdout(&tmp),
            }
        });
    let _ = std::fs::remove_dir_all(&tmp_dir);
    result?;
    crate::db::audit::log_alone(
        &mut ctx.db()?.store,
        &[crate::db::audit::Entry {
            user: Some(&user.name),
            action: "backup",
            detail: Some(shown.clone()),
            ..Default::default()
        }],
    )?;
    if target == Target::Stdout {
        // stdout is the backup itself: nothing else may reach it.
        ctx.out.msg(&format!("backup written to {shown}"));
        return Ok(());
    }
    ctx.out.outcome(
        &format!("backup written to {shown}"),
        &serde_json::json!({"backup": shown}),
    )?;
    if from_server.is_some() {
        ctx.out.msg(
            "passwords cannot cross engines: only yours is set in the backup; set the others' passwords with `crm user passwd NAME`",
        );
    }
    Ok(())
}

/// Streams the checked copy to stdout; a reader that stops early means no backup.
fn to_stdout(tmp: &Path) -> Result<()> {
    let mut out = std::io::stdout().lock();
    std::io::copy(&mut std::fs::File::open(tmp)?, &mut out)
        .and_then(|_| out.flush())
        .map_err(|e| Error::storage(format!("backup to stdout: {e}")))?;
    Ok(())
}

/// From a server, the password hash the running admin gets in the backup file (no other
/// password can cross engines): the session's own login password, or one read like
/// `crm copy` reads it. None on `SQLite`, whose copy keeps every hash.
fn server_password(ctx: &mut Ctx, m: &ArgMatches, me: &str) -> Result<Option<String>> {
    if ctx.db()?.store.is_sqlite() {
        return Ok(None);
    }
    let saved = if m.get_flag("password_stdin") {
        None
    } else {
        match std::env::var("CRM_TOKEN")
            .ok()
            .and_then(|t| crate::auth::split_pg_token(&t))
        {
            Some((_, login)) => Some(login),
            None => crate::auth::read_pg_login(&crate::auth::token_path(&ctx.g.db))?,
        }
    };
    let password = match saved {
        Some(login) => login.password,
        None => crate::prompt::password(
            ctx,
            m.get_flag("password_stdin"),
            &format!("Your password ({me}) in the backup"),
            true,
        )?,
    };
    crate::auth::hash_password(&password).map(Some)
}

/// Writes the checked copy into `tmp_dir` and returns its path; errors name `file`. From a
/// server it is `crm copy` into a new file, in which `me` has the password `hash`.
fn write_checked(
    ctx: &mut Ctx,
    tmp_dir: &Path,
    file: &Path,
    me: &str,
    hash: Option<&str>,
) -> Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let _ = std::fs::remove_dir_all(tmp_dir);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(tmp_dir)
        .map_err(|e| outfile::cannot_write(file, &e))?;
    let tmp = tmp_dir.join("backup.db");
    // VACUUM INTO accepts an existing empty file, so the copy is born 0600.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| outfile::cannot_write(file, &e))?;
    let target = tmp
        .to_str()
        .ok_or_else(|| Error::usage("the backup path is not valid UTF-8"))?;
    let busy = ctx.g.busy;
    match hash {
        None => maintain::copy_into(&ctx.db()?.store, target),
        Some(hash) => {
            let admin = crate::db::copy::Admin {
                name: me,
                password: "",
                hash,
            };
            crate::db::copy::into_file(&ctx.db()?.store, &tmp, &admin, busy).map(|_| ())
        }
    }
    .map_err(|e| with_file(file, e))?;
    let copy = maintain::open_read_only(&tmp).map_err(|e| with_file(file, e))?;
    let check = maintain::integrity_first(&copy).map_err(|e| with_file(file, e))?;
    drop(copy);
    if check != "ok" {
        return Err(Error::storage(format!(
            "the backup copy failed its integrity check: {check}"
        )));
    }
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| outfile::cannot_write(file, &e))?;
    Ok(tmp)
}

fn with_file(file: &Path, e: Error) -> Error {
    let mut out = Error::new(
        e.kind,
        format!("backup to {}: {}", file.display(), e.message),
    );
    out.hints = e.hints;
    if out.kind == crate::error::ErrorKind::Internal {
        out.kind = crate::error::ErrorKind::Storage;
    }
    out
}
