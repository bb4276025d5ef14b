//! `crm user add|list|edit|passwd`: user administration (admin only, except changing one's
//! own password).

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::{self, Action, Role};
use crate::context::Ctx;
use crate::db::audit::{self, Entry};
use crate::db::{Store, sessions, users};
use crate::error::{Error, Result};
use crate::output::Column;

pub fn command() -> Command {
    let role = || {
        Arg::new("role")
            .long("role")
            .value_name("ROLE")
            .value_parser(auth::ROLES)
            .help("admin, manager, sales, service or viewer")
    };
    Command::new("user")
        .about("Manage users and roles")
        .subcommand_required(true)
        .subcommand(
            Command::new("add")
                .about("Add a user")
                .arg(Arg::new("name").required(true).value_name("NAME"))
                .arg(role().required(true))
                .arg(super::password_stdin_arg()),
        )
        .subcommand(Command::new("list").about("List users"))
        .subcommand(
            Command::new("edit")
                .about("Change a user's role or enable/disable the account")
                .arg(Arg::new("name").required(true).value_name("NAME"))
                .arg(role())
                .arg(
                    Arg::new("disable")
                        .long("disable")
                        .action(ArgAction::SetTrue)
                        .conflicts_with("enable"),
                )
                .arg(
                    Arg::new("enable")
                        .long("enable")
                        .action(ArgAction::SetTrue)
                        .help("Enable the account and lift a lockout"),
                )
                .arg(
                    Arg::new("transfer_to")
                        .long("transfer-to")
                        .value_name("OTHER")
                        .help("Move the user's customers, open opportunities, plans and open tickets to OTHER (in the same transaction)"),
                ),
        )
        .subcommand(
            Command::new("passwd")
                .about("Change a password (your own, or any user's as admin)")
                .long_about("Change a password. Your own needs your current password first (asked on a terminal); an admin setting another user's password does not. Every other session of that user ends.")
                .arg(Arg::new("name").value_name("NAME").help("Whose password [default: yours]"))
                .arg(
                    Arg::new("password_stdin")
                        .long("password-stdin")
                        .action(ArgAction::SetTrue)
                        .help("Read the passwords from stdin: for your own, the current one on the first line and the new one on the second; for another user's, the new one"),
                ),
        )
}

/// Checks a new user name (SPEC "Users (additions)") and returns the form to store: NFC,
/// letters, digits, `.`, `_`, `-`, one of Latin, Cyrillic or Greek at most.
pub fn check_name(name: &str) -> Result<String> {
    auth::names::canonical(name)
}

/// Refuses a name another user already has, ignoring case (exit 5).
fn check_unique(conn: &Store, name: &str, except: Option<i64>) -> Result<()> {
    match auth::names::taken(conn, name, except)? {
        Some(other) if other == name => {
            Err(Error::conflict(format!("user '{name}' already exists")))
        }
        Some(other) => Err(Error::conflict(format!(
            "user '{name}' would be the same name as the existing '{other}' (names are unique ignoring case)"
        ))),
        None => Ok(()),
    }
}

/// The user a typed name means (any case), or exit 3.
fn find(conn: &Store, name: &str) -> Result<(i64, String)> {
    auth::names::find(conn, name)?
        .ok_or_else(|| Error::not_found(format!("no user named '{}'", name.escape_debug())))
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    match m.subcommand().expect("subcommand required") {
        ("add", s) => add(ctx, s),
        ("list", _) => list(ctx),
        ("edit", s) => edit(ctx, s),
        ("passwd", s) => passwd(ctx, s),
        _ => unreachable!("clap knows the subcommands"),
    }
}

fn add(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let me = ctx.authorize(Action::ManageUsers, None, None)?;
    let name = &check_name(m.get_one::<String>("name").expect("required"))?;
    let role = Role::parse(m.get_one::<String>("role").expect("required"))?;
    let pw = crate::prompt::password(
        ctx,
        m.get_flag("password_stdin"),
        &format!("Password for {name}"),
        true,
    )?;
    // On a server the password lives in the login role (SCRAM), not in crm's table.
    let server = ctx.g.is_server();
    let hash = if server {
        auth::check_password(&pw)?;
        String::new()
    } else {
        auth::hash_password(&pw)?
    };
    let db = ctx.db()?;
    let tx = db.write()?;
    check_unique(&tx, name, None)?;
    let now = crate::clock::now();
    let id = users::insert(&tx, name, role.as_str(), &hash, now)?;
    crate::db::server::add_login(&tx, id, name, &pw)?;
    audit::log(
        &tx,
        &[Entry {
            user: Some(&me.name),
            action: "user_add",
            entity: Some("user"),
            record_id: Some(id),
            field: Some("role"),
            new: Some(role.as_str().into()),
            detail: Some(name.clone()),
            ..Entry::default()
        }],
    )?;
    tx.commit()?;
    ctx.out.outcome(
        &format!("added user {name} ({})", role.as_str()),
        &serde_json::json!({"user": name, "role": role.as_str(), "added": true}),
    )
}

fn list(ctx: &mut Ctx) -> Result<()> {
    ctx.authorize(Action::ManageUsers, None, None)?;
    let now = crate::clock::now();
    let conn = &ctx.db()?.store;
    let rows: Vec<Vec<serde_json::Value>> = users::list(conn)?
        .into_iter()
        .map(|u| {
            let locked = u.locked_until;
            vec![
                u.id.into(),
                u.name.into(),
                u.role.into(),
                serde_json::Value::Bool(u.disabled),
                serde_json::Value::Bool(locked > now),
                crate::schema::kinds::format_datetime(u.created_at).into(),
            ]
        })
        .collect();
    let cols: Vec<Column> =
        Column::named(&["id", "name", "role", "disabled", "locked", "created_at"]);
    ctx.out.rows(&cols, &rows)
}

fn edit(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let me = ctx.authorize(Action::ManageUsers, None, None)?;
    let db = ctx.db()?;
    let tx = db.write()?;
    let (id, name) = find(&tx, m.get_one::<String>("name").expect("required"))?;
    let name = &name;
    let (old_role, old_disabled) = users::role_and_disabled(&tx, id)?;
    let mut entries = Vec::new();
    if let Some(role) = m.get_one::<String>("role") {
        let role = Role::parse(role)?;
        if role.as_str() != old_role {
            users::set_role(&tx, id, role.as_str(), crate::clock::now())?;
            entries.push((
                "role",
                Some(old_role.clone()),
                Some(role.as_str().to_string()),
            ));
        }
    }
    // A role change needs no such step: every command reads the role from the users table.
    let mut ended = 0;
    let disabled = if m.get_flag("disable") {
        Some(true)
    } else if m.get_flag("enable") {
        Some(false)
    } else {
        None
    };
    if let Some(d) = disabled {
        if d && id == me.id {
            return Err(Error::conflict("you cannot disable your own account"));
        }
        users::set_disabled(&tx, id, d, crate::clock::now())?;
        if d {
            // Every session ends with the account, in the same transaction: enabling it again
            // later must not bring an old token back to life.
            ended = sessions::revoke_all(&tx, id)?;
        }
        if d != old_disabled {
            entries.push((
                "disabled",
                Some(old_disabled.to_string()),
                Some(d.to_string()),
            ));
        }
    }
    // The database must keep an admin who can log in, or nobody could manage users again.
    let admins = users::enabled_admins(&tx)?;
    if admins == 0 {
        return Err(Error::conflict(format!(
            "{name} is the last enabled admin; the change would leave nobody to manage users"
        ))
        .hint("make another user admin first"));
    }
    let mut moved = Vec::new();
    if let Some(other) = m.get_one::<String>("transfer_to") {
        let (oid, other) = find(&tx, other)?;
        if oid == id {
            return Err(Error::usage(format!("--transfer-to names {name} itself")));
        }
        if users::role_and_disabled(&tx, oid)?.1 {
            return Err(
                Error::conflict(format!("{other} is disabled")).hint("transfer to an enabled user")
            );
        }
        moved = super::edit_bulk::transfer(&tx, &me, name, &other)?;
        let total: usize = moved.iter().map(|(_, n)| n).sum();
        entries.push((
            "transfer_to",
            None,
            Some(format!("{other} ({total} records)")),
        ));
    }
    if entries.is_empty() && disabled.is_none() {
        return Err(Error::usage("nothing to change")
            .hint("pass --role ROLE, --disable, --enable or --transfer-to OTHER"));
    }
    let audit_rows: Vec<Entry> = entries
        .iter()
        .map(|(field, old, new)| Entry {
            user: Some(&me.name),
            action: "user_edit",
            entity: Some("user"),
            record_id: Some(id),
            field: Some(field),
            old: old.clone(),
            new: new.clone(),
            detail: Some(name.clone()),
        })
        .collect();
    audit::log(&tx, &audit_rows)?;
    tx.commit()?;
    let mut text = if ended > 0 {
        format!("updated user {name} (ended {ended} session(s))")
    } else {
        format!("updated user {name}")
    };
    if !moved.is_empty() {
        let parts: Vec<String> = moved.iter().map(|(e, n)| format!("{n} {e}")).collect();
        text.push_str(&format!("; moved {}", parts.join(", ")));
    }
    let transferred: serde_json::Map<String, serde_json::Value> = moved
        .iter()
        .map(|(e, n)| ((*e).to_string(), (*n).into()))
        .collect();
    let changed: Vec<&str> = entries.iter().map(|(f, _, _)| *f).collect();
    ctx.out.outcome(
        &text,
        &serde_json::json!({"user": name, "changed": changed, "disabled": disabled, "sessions_ended": ended, "transferred": transferred}),
    )
}

fn passwd(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let me = ctx.user()?;
    let typed = m.get_one::<String>("name");
    // Another user's password is user administration: refused before the name is looked
    // up, so the answer does not tell a non-admin which names exist.
    if typed.is_some_and(|t| auth::names::fold(t) != auth::names::fold(&me.name)) {
        ctx.authorize(Action::ManageUsers, None, None)?;
    }
    let (id, name) = match typed {
        Some(t) => find(&ctx.db()?.store, t)?,
        None => (me.id, me.name.clone()),
    };
    if id != me.id {
        // A name equal to one's own ignoring case can still be another user's, in a database
        // from before names were unique ignoring case.
        ctx.authorize(Action::ManageUsers, None, None)?;
    }
    if id == me.id && me.token.is_some() {
        // Its owner's password is the owner's to change (on PostgreSQL the token's own login
        // role would take it instead).
        return Err(Error::denied(
            "a token cannot change its owner's password: log in as them to do it",
        ));
    }
    let stdin = m.get_flag("password_stdin");
    if id == me.id {
        // One's own password needs the current one: a stolen session must not be enough.
        if !stdin && !ctx.g.interactive {
            return Err(Error::usage(
                "the current and the new password are needed: pass --password-stdin with them on two lines",
            )
            .hint("or run it on a terminal (without --no-input) to be asked"));
        }
        let current = crate::prompt::password(ctx, stdin, "Current password", false)?;
        if ctx.g.is_server() {
            if let Err(e) = auth::server::confirm_password(&ctx.g.db, ctx.g.busy, &name, &current) {
                // Audited through this session's own connection, as on SQLite; the server
                // itself counts nothing toward a lockout (README: Team server).
                let tx = ctx.db()?.write()?;
                audit::log(
                    &tx,
                    &[Entry {
                        user: Some(&name),
                        action: "passwd_failed",
                        entity: Some("user"),
                        record_id: Some(id),
                        detail: Some("wrong password".into()),
                        ..Entry::default()
                    }],
                )?;
                tx.commit()?;
                return Err(e);
            }
        } else {
            auth::confirm_password(&mut ctx.db()?.store, id, &name, &current)?;
        }
    }
    let pw = crate::prompt::password(ctx, stdin, &format!("New password for {name}"), true)?;
    if stdin && pw.is_empty() && id == me.id {
        return Err(Error::usage(
            "--password-stdin: the second line (the new password) is missing",
        )
        .hint("the first line is the current password, the second the new one"));
    }
    let server = ctx.g.is_server();
    // The same limits on a server, where the hash is the server's (SCRAM) and not crm's.
    auth::check_password(&pw)?;
    let token_hash_keep = ctx.token()?.map(|t| {
        crate::db::audit::hex(&<sha2::Sha256 as sha2::Digest>::digest(t.trim().as_bytes()))
    });
    let db = ctx.db()?;
    let tx = db.write()?;
    if !server {
        let hash = auth::hash_password(&pw)?;
        users::set_password(&tx, id, &hash, crate::clock::now())?;
    } else if id == me.id {
        crate::db::server::set_own_password(&tx, &pw)?;
    } else {
        crate::db::server::set_password(&tx, id, &pw)?;
    }
    // Other sessions of that user end: a changed password must lock out whoever knew the old one.
    sessions::revoke_others(&tx, id, token_hash_keep.as_deref())?;
    audit::log(
        &tx,
        &[Entry {
            user: Some(&me.name),
            action: "user_passwd",
            entity: Some("user"),
            record_id: Some(id),
            detail: Some(name.clone()),
            ..Entry::default()
        }],
    )?;
    tx.commit()?;
    if server && id == me.id {
        // The saved session connects with the password: it goes on with the new one.
        // Only the file of this very session (CRM_TOKEN may be another user's session).
        let path = auth::token_path(&ctx.g.db);
        let current = ctx.token()?;
        if let (Some(token), Some(login)) = (auth::read_token(&path)?, auth::read_pg_login(&path)?)
            && current.as_deref() == Some(token.as_str())
        {
            let login = auth::PgLogin {
                password: pw.clone(),
                ..login
            };
            auth::write_session(&path, &token, Some(&login))?;
        }
    }
    ctx.out.outcome(
        &format!("changed the password of {name}"),
        &serde_json::json!({"user": name, "password_changed": true}),
    )
}
