//! `crm init [--admin NAME] [--password-stdin]`: creates the database and its first admin;
//! `crm init --upgrade` brings an existing database to this crm's schema (and on
//! `PostgreSQL` its security).

use clap::{Arg, ArgMatches, Command};

use crate::context::Ctx;
use crate::db::audit::{self, Entry};
use crate::db::maintain;
use crate::error::{Error, Result};

pub fn command() -> Command {
    Command::new("init")
        .about("Create the database and its first admin user")
        .arg(
            Arg::new("admin")
                .long("admin")
                .value_name("NAME")
                .default_value("admin")
                .help("Name of the first admin"),
        )
        .arg(super::password_stdin_arg())
        .arg(
            Arg::new("encrypt")
                .long("encrypt")
                .action(clap::ArgAction::SetTrue)
                .help("Encrypt the database file (SQLCipher); the key from CRM_DB_KEY, --key-file FILE or asked"),
        )
        .arg(
            Arg::new("upgrade")
                .long("upgrade")
                .action(clap::ArgAction::SetTrue)
                .conflicts_with_all(["admin", "password_stdin", "encrypt"])
                .help("Upgrade an existing database to this crm (on PostgreSQL: run by the role that owns it)"),
        )
}

/// Whether a database file already holds a finished crm schema with users.
fn initialised(ctx: &Ctx) -> bool {
    if !ctx.g.db.exists() {
        return false;
    }
    let Ok(conn) = maintain::open_read_only(&ctx.g.db) else {
        return true;
    };
    // A file left by an init killed before its first user is finished by a rerun: one with
    // no schema at all (killed before the first migration committed) or with no users yet.
    if matches!(maintain::schema_objects(&conn), Ok(0)) {
        return false;
    }
    // Another program's database is never finished as ours, even one with an empty `users`.
    if !matches!(maintain::application_id(&conn), Ok(id) if id == crate::db::APPLICATION_ID) {
        return true;
    }
    crate::db::users::count(&conn).map_or(true, |n| n > 0)
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    if m.get_flag("upgrade") {
        return upgrade(ctx);
    }
    if ctx.g.is_server() {
        if m.get_flag("encrypt") {
            return Err(Error::usage(
                "--encrypt applies to a SQLite file; a PostgreSQL server encrypts its own storage",
            ));
        }
        return init_server(ctx, m);
    }
    // A device or a FIFO is no place for a database (and opening a FIFO to look would hang).
    if std::fs::metadata(&ctx.g.db).is_ok_and(|m| !m.is_file()) {
        return Err(Error::conflict(format!(
            "{} exists and is not a regular file",
            ctx.g.db.display()
        ))
        .hint("nothing was changed; use --db PATH for another database"));
    }
    if initialised(ctx) {
        return Err(Error::conflict(format!(
            "a database already exists at {}",
            ctx.g.db.display()
        ))
        .hint("nothing was changed; use --db PATH for another database"));
    }
    let name = &crate::auth::names::canonical(m.get_one::<String>("admin").expect("has default"))?;
    let key = if m.get_flag("encrypt") {
        Some(new_key(ctx)?)
    } else {
        None
    };
    let password = crate::prompt::password(
        ctx,
        m.get_flag("password_stdin"),
        &format!("Password for {name}"),
        true,
    )?;
    let hash = crate::auth::hash_password(&password)?;
    let db = match &key {
        Some(k) => ctx.create_encrypted_db(k)?,
        None => ctx.create_db()?,
    };
    let tx = db.write()?;
    let n = crate::db::users::count(&tx)?;
    if n > 0 {
        return Err(Error::conflict("the database already has users"));
    }
    let now = crate::clock::now();
    crate::db::users::insert(&tx, name, "admin", &hash, now)?;
    audit::log(
        &tx,
        &[Entry {
            user: Some(name),
            action: "user_add",
            entity: Some("user"),
            field: Some("role"),
            new: Some("admin".into()),
            detail: Some(format!("init: {name}")),
            ..Entry::default()
        }],
    )?;
    tx.commit()?;
    if ctx.out.format == crate::output::Format::Json {
        let db = ctx.g.db.display().to_string();
        return ctx
            .out
            .json(&serde_json::json!({"db": db, "admin": name, "encrypted": key.is_some()}));
    }
    ctx.out.msg(&format!(
        "created {}{} with admin user '{name}'",
        ctx.g.db.display(),
        if key.is_some() { " (encrypted)" } else { "" }
    ));
    ctx.out.msg("next: crm login");
    Ok(())
}

/// The key of a new encrypted database; refused by a crm built without `SQLCipher`.
fn new_key(ctx: &Ctx) -> Result<String> {
    if !crate::db::cipher::AVAILABLE {
        return Err(Error::usage(
            "--encrypt: this crm was built without encryption (cargo feature `encryption`)",
        ));
    }
    ctx.g.keys.new_key(&ctx.g.db)
}

/// `crm init --db URL`: the schema, security and first admin on `PostgreSQL`, connected as
/// the URL's role (one that may create roles and schemas).
fn init_server(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let name = &crate::auth::names::canonical(m.get_one::<String>("admin").expect("has default"))?;
    let password = crate::prompt::password(
        ctx,
        m.get_flag("password_stdin"),
        &format!("Password for {name}"),
        true,
    )?;
    crate::auth::check_password(&password)?;
    let db = ctx.create_db()?;
    crate::db::server::init(&db.store, name, &password, crate::clock::now())?;
    let shown = db.path.display().to_string();
    if ctx.out.format == crate::output::Format::Json {
        return ctx
            .out
            .json(&serde_json::json!({"db": shown, "admin": name}));
    }
    ctx.out
        .msg(&format!("created {shown} with admin user '{name}'"));
    ctx.out.msg("next: crm login --db URL");
    Ok(())
}

/// `crm init --upgrade`: on `SQLite` opening the file runs its pending migrations (as every
/// command does); on `PostgreSQL` the schema's owner applies the missing steps and this
/// crm's security (`setup::upgrade`), audited as the role that ran it.
fn upgrade(ctx: &mut Ctx) -> Result<()> {
    let (shown, from, to, changed) = if ctx.g.is_server() {
        let db = ctx.create_db()?;
        let shown = db.path.display().to_string();
        if !crate::db::server::is_initialised(&db.store)? {
            return Err(Error::storage(format!("no crm database at {shown}"))
                .hint("set it up with `crm init --db URL`"));
        }
        let u = crate::db::server::upgrade(&db.store)?;
        (shown, u.from, u.to, u.changed)
    } else {
        // Read before opening: opening migrates.
        let before = maintain::open_read_only(&ctx.g.db)
            .ok()
            .and_then(|c| maintain::user_version(&c).ok());
        ctx.db()?;
        let to = crate::db::migrate::latest();
        let from = before.unwrap_or(to);
        (ctx.g.db.display().to_string(), from, to, from != to)
    };
    if ctx.out.format == crate::output::Format::Json {
        return ctx.out.json(&serde_json::json!({
            "db": shown, "from": from, "to": to, "upgraded": changed
        }));
    }
    ctx.out.msg(&if changed {
        format!("upgraded {shown} from schema {from} to {to}")
    } else {
        format!("{shown} is up to date (schema {to})")
    });
    Ok(())
}
