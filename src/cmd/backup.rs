//! `crm backup FILE [--force]`: a consistent copy of the database taken while others write
//! (VACUUM INTO a temp file inside a private `FILE.PID.tmp` directory next to FILE,
//! integrity-checked, synced, then renamed), so FILE is either a whole good backup or absent,
//! and a killed backup leaves only that one `*.tmp` directory (copy and journal inside).

use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::error::{Error, Result};

pub fn command() -> Command {
    Command::new("backup")
        .about("Write a consistent, checked copy of the database to FILE (created 0600)")
        .arg(Arg::new("file").required(true).value_name("FILE"))
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Replace FILE if it exists"),
        )
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let user = ctx.authorize(Action::Maintain, None, None)?;
    let file = PathBuf::from(m.get_one::<String>("file").expect("required"));
    if file.exists() && !m.get_flag("force") {
        return Err(
            Error::conflict(format!("{} already exists", file.display()))
                .hint("pass --force to replace it"),
        );
    }
    let name = file
        .file_name()
        .ok_or_else(|| Error::usage(format!("{} is not a file name", file.display())))?;
    let mut tmp_name = name.to_owned();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    // VACUUM INTO keeps a rollback journal next to its output: both live in one temp
    // directory, so a kill -9 leaves a single `*.tmp` entry rather than a stray `-journal`.
    let tmp_dir = file.with_file_name(tmp_name);
    let result = write_checked(ctx, &tmp_dir, &file);
    let _ = std::fs::remove_dir_all(&tmp_dir);
    result?;
    let db = ctx.db()?;
    let tx = db.write()?;
    crate::db::audit::log(
        &tx,
        &[crate::db::audit::Entry {
            user: Some(&user.name),
            action: "backup",
            detail: Some(file.display().to_string()),
            ..Default::default()
        }],
    )?;
    tx.commit()?;
    ctx.out
        .msg(&format!("backup written to {}", file.display()));
    Ok(())
}

fn write_checked(ctx: &mut Ctx, tmp_dir: &Path, file: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let _ = std::fs::remove_dir_all(tmp_dir);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(tmp_dir)
        .map_err(|e| Error::storage(format!("cannot create {}: {e}", tmp_dir.display())))?;
    let tmp = &tmp_dir.join("backup.db");
    // VACUUM INTO accepts an existing empty file, so the copy is born 0600.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(|e| Error::storage(format!("cannot create {}: {e}", tmp.display())))?;
    let target = tmp
        .to_str()
        .ok_or_else(|| Error::usage("the backup path is not valid UTF-8"))?;
    ctx.db()?
        .conn
        .execute("VACUUM INTO ?", [target])
        .map_err(|e| with_file(file, e.into()))?;
    let copy =
        rusqlite::Connection::open_with_flags(tmp, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| with_file(file, e.into()))?;
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| with_file(file, e.into()))?;
    drop(copy);
    if check != "ok" {
        return Err(Error::storage(format!(
            "the backup copy failed its integrity check: {check}"
        )));
    }
    std::fs::File::open(tmp)?.sync_all()?;
    std::fs::rename(tmp, file)?;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn with_file(file: &Path, e: Error) -> Error {
    let mut out = Error::new(
        e.kind,
        format!("backup to {}: {}", file.display(), e.message),
    );
    out.hint = e.hint;
    if out.kind == crate::error::ErrorKind::Internal {
        out.kind = crate::error::ErrorKind::Storage;
    }
    out
}
