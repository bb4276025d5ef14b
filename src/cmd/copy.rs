//! `crm copy --to DEST [--password-stdin]` (admin only): the whole database (`--db`) copied
//! into an empty one — a new file or an empty database on a server — between the engines
//! in either direction, verified there, and what moved printed. A file destination is
//! written under a temporary name and takes its name only when whole and verified, so a
//! failed copy leaves nothing; a server destination is filled in one transaction.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgMatches, Command};
use serde_json::json;

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::copy::{self, Admin, Moved};
use crate::error::{Error, Result};
use crate::outfile::{self, Target};
use crate::output::{Column, Format};

/// What the others need before they can log in on the destination.
const OTHERS: &str =
    "passwords cannot cross engines: set the others' passwords with `crm user passwd NAME`";

pub fn command() -> Command {
    Command::new("copy")
        .about("Copy the whole database into an empty one, between files and servers (admin only)")
        .long_about(
            "Copy the whole database (--db) into an empty one: a new file, or a postgres:// URL \
             of an empty database (connected as the URL's role, which may create roles). Records \
             with their ids, users, the audit log with its chain, import batches and stage \
             history move in one transaction and are verified on the destination. Passwords \
             cannot cross engines: you set your own for the destination (prompted, or the first \
             line of stdin); the others' are set with `crm user passwd NAME`.",
        )
        .arg(
            Arg::new("to")
                .long("to")
                .required(true)
                .value_name("DEST")
                .help("A new database file, or the postgres:// URL of an empty database"),
        )
        .arg(super::password_stdin_arg())
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let user = ctx.authorize(Action::Backup, None, None)?;
    // Opened (and protected) before the destination is checked as a target.
    let from = ctx.db()?.path.display().to_string();
    let to = PathBuf::from(m.get_one::<String>("to").expect("required"));
    let server = copy::is_server(&to);
    let (shown, file) = if server {
        (copy::shown_server(&to)?, None)
    } else {
        (to.display().to_string(), Some(new_file(&to)?))
    };
    let password = crate::prompt::password(
        ctx,
        m.get_flag("password_stdin"),
        &format!("Your password ({}) on {shown}", user.name),
        true,
    )?;
    crate::auth::check_password(&password)?;
    let hash = if server {
        String::new()
    } else {
        crate::auth::hash_password(&password)?
    };
    let admin = Admin {
        name: &user.name,
        password: &password,
        hash: &hash,
    };
    let busy = ctx.g.busy;
    let src = &ctx.db()?.store;
    let moved = match &file {
        None => copy::into_server(src, &to, &admin, busy)?.0,
        Some(dest) => into_new_file(src, dest, &admin, busy)?,
    };
    crate::db::audit::log_alone(
        &mut ctx.db()?.store,
        &[crate::db::audit::Entry {
            user: Some(&user.name),
            action: "copy",
            detail: Some(format!("to {shown}")),
            ..Default::default()
        }],
    )?;
    report(ctx, &from, &shown, &user.name, &moved)
}

/// A file destination: it must not exist (the source, a device, an existing database are
/// never written); checked again when the finished copy takes the name.
fn new_file(to: &Path) -> Result<outfile::Dest> {
    if std::fs::symlink_metadata(to).is_ok() {
        // The file's own problem first (the source itself, a device), else that it exists.
        let what = outfile::check(to, true)
            .err()
            .unwrap_or_else(|| Error::conflict(format!("{} already exists", to.display())));
        return Err(
            what.hint("nothing was changed; crm copy writes only a new file or an empty database")
        );
    }
    match outfile::check(to, false)? {
        Target::File(d) => Ok(d),
        Target::Stdout => Err(Error::usage("crm copy needs a file or a URL, not -")),
    }
}

/// Writes the copy under `DEST.PID.tmp/` beside the destination, then gives it the name.
fn into_new_file(
    src: &crate::db::Store,
    dest: &outfile::Dest,
    admin: &Admin,
    busy: std::time::Duration,
) -> Result<Moved> {
    use std::os::unix::fs::DirBuilderExt;
    let mut name = dest
        .path
        .file_name()
        .expect("a checked target has a file name")
        .to_owned();
    name.push(format!(".{}.tmp", std::process::id()));
    let dir = dest.path.with_file_name(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| outfile::cannot_write(&dest.arg, &e))?;
    let tmp = dir.join("copy.db");
    let result = copy::into_file(src, &tmp, admin, busy).and_then(|moved| {
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| outfile::cannot_write(&dest.arg, &e))?;
        outfile::place(&tmp, dest)?;
        Ok(moved)
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn report(ctx: &Ctx, from: &str, shown: &str, me: &str, moved: &Moved) -> Result<()> {
    let others: Vec<&String> = moved.users.iter().filter(|u| *u != me).collect();
    if ctx.out.format == Format::Json {
        let tables: serde_json::Map<String, serde_json::Value> = moved
            .tables
            .iter()
            .map(|(t, n)| (t.clone(), json!(n)))
            .collect();
        return ctx.out.json(&json!({
            "from": from,
            "to": shown,
            "tables": tables,
            "users": moved.users,
            "password_set": me,
            "password_needed": others,
        }));
    }
    let columns = [
        Column {
            key: "table".into(),
            header: "table".into(),
        },
        Column {
            key: "rows".into(),
            header: "rows".into(),
        },
    ];
    let rows: Vec<Vec<serde_json::Value>> = moved
        .tables
        .iter()
        .map(|(t, n)| vec![json!(t), json!(n)])
        .collect();
    ctx.out.rows(&columns, &rows)?;
    ctx.out.msg(&format!(
        "copied {from} to {shown}; your password ({me}) is set there"
    ));
    if !others.is_empty() {
        let names: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
        ctx.out.msg(&format!("{OTHERS} ({})", names.join(", ")));
    }
    Ok(())
}
