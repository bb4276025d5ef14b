//! `crm token create|list|revoke`: tokens for automation (admin only), used as `CRM_TOKEN`
//! (`auth::automation`). The token is printed once, at its creation, and never stored.

use clap::{Arg, ArgMatches, Command};

use crate::auth::{self, Action, Role, automation};
use crate::context::Ctx;
use crate::db::audit::{self, Entry};
use crate::db::{tokens, users};
use crate::error::{Error, Result};
use crate::output::Column;
use crate::schema::kinds::format_datetime;

pub fn command() -> Command {
    let name = || Arg::new("name").required(true).value_name("NAME");
    Command::new("token")
        .about("Manage tokens for automation (used as CRM_TOKEN)")
        .subcommand_required(true)
        .subcommand(
            Command::new("create")
                .about("Create a token and print it (shown this once only)")
                .arg(name().help("The token's name, as the audit log shows it (token:NAME)"))
                .arg(
                    Arg::new("role")
                        .long("role")
                        .required(true)
                        .value_name("ROLE")
                        .value_parser(auth::ROLES)
                        .help("What it may do: never more than its owner"),
                )
                .arg(
                    Arg::new("ttl")
                        .long("ttl")
                        .value_name("DURATION")
                        .default_value("90d")
                        .help("Lifetime: 90s, 30m, 8h, 90d (at most 366d)"),
                )
                .arg(
                    Arg::new("user")
                        .long("user")
                        .value_name("OWNER")
                        .help("The user it acts as, whose records are its own [default: you]"),
                ),
        )
        .subcommand(Command::new("list").about("List tokens (never their secrets)"))
        .subcommand(
            Command::new("revoke")
                .about("Revoke a token: it stops working at once")
                .arg(name()),
        )
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    match m.subcommand().expect("subcommand required") {
        ("create", s) => create(ctx, s),
        ("list", _) => list(ctx),
        ("revoke", s) => revoke(ctx, s),
        _ => unreachable!("clap knows the subcommands"),
    }
}

fn create(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let me = ctx.authorize(Action::ManageUsers, None, None)?;
    let name = auth::names::canonical(m.get_one::<String>("name").expect("required"))?;
    let role = Role::parse(m.get_one::<String>("role").expect("required"))?;
    let ttl = super::login::parse_duration(m.get_one::<String>("ttl").expect("default"))?;
    // The creator's own rights bound the token's (an admin token makes admin tokens).
    if !crate::roles::covers(me.role, role) {
        return Err(Error::denied(format!(
            "role {} may not make a {} token: a token never has more rights than its creator",
            me.role.as_str(),
            role.as_str()
        )));
    }
    // A token made by a token says so, as the audit log does.
    let creator = me
        .token
        .as_ref()
        .map_or_else(|| me.name.clone(), |t| format!("token:{t}"));
    let minted = automation::mint()?;
    let now = crate::clock::now();
    let db = ctx.db()?;
    let tx = db.write()?;
    let (owner_id, owner) = match m.get_one::<String>("user") {
        Some(typed) => auth::names::find(&tx, typed)?
            .ok_or_else(|| Error::not_found(format!("no user named '{}'", typed.escape_debug())))?,
        None => (me.id, me.name.clone()),
    };
    let (owner_role, disabled) = users::role_and_disabled(&tx, owner_id)?;
    if disabled {
        return Err(
            Error::conflict(format!("{owner} is disabled")).hint("give it to an enabled user")
        );
    }
    if !crate::roles::covers(Role::parse(&owner_role)?, role) {
        return Err(Error::denied(format!(
            "{owner} is {owner_role}: a {} token acting as them would have more rights than they have",
            role.as_str()
        )));
    }
    if let Some(other) = tokens::list(&tx)?
        .into_iter()
        .find(|t| auth::names::fold(&t.name) == auth::names::fold(&name))
    {
        return Err(
            Error::conflict(format!("a token named '{}' exists already", other.name))
                .hint("revoke it and pick another name (names are never reused)"),
        );
    }
    // Stored only on SQLite: on PostgreSQL the server keeps the secret's SCRAM verifier.
    let hash = if tx.is_sqlite() {
        automation::secret_hash(&minted.secret)
    } else {
        String::new()
    };
    let id = tokens::insert(
        &tx,
        &tokens::New {
            name: &name,
            lookup: &minted.lookup,
            secret_hash: &hash,
            role: role.as_str(),
            user_id: owner_id,
            created_by: &creator,
            created_at: now,
            expires_at: now + ttl,
        },
    )?;
    tokens::add_login(&tx, id, &minted.lookup, &minted.secret, ttl)?;
    audit::log(
        &tx,
        &[Entry {
            user: Some(&me.name),
            action: "token_create",
            entity: Some("token"),
            record_id: Some(id),
            field: Some("role"),
            new: Some(role.as_str().into()),
            detail: Some(format!(
                "{name} (acts as {owner}; expires {})",
                format_datetime(now + ttl)
            )),
            ..Entry::default()
        }],
    )?;
    tx.commit()?;
    if ctx.out.format == crate::output::Format::Json {
        return ctx.out.json(&serde_json::json!({
            "name": name, "role": role.as_str(), "owner": owner,
            "expires_at": format_datetime(now + ttl), "token": minted.token,
        }));
    }
    // The token alone on stdout, so `TOKEN=$(crm token create …)` takes it.
    ctx.out.msg(&format!(
        "created token {name} ({}, acts as {owner}, expires {}); it is shown this once only: keep it as a secret and pass it as CRM_TOKEN",
        role.as_str(),
        format_datetime(now + ttl)
    ));
    ctx.out.data(&format!("{}\n", minted.token))
}

fn list(ctx: &mut Ctx) -> Result<()> {
    ctx.authorize(Action::ManageUsers, None, None)?;
    let zh = ctx.g.zh;
    let rows: Vec<Vec<serde_json::Value>> = tokens::list(&ctx.db()?.store)?
        .into_iter()
        .map(|t| {
            vec![
                t.name.into(),
                t.role.into(),
                t.owner.into(),
                t.created_by.into(),
                format_datetime(t.created_at).into(),
                format_datetime(t.expires_at).into(),
                t.last_used_at.map(format_datetime).into(),
                t.revoked.into(),
            ]
        })
        .collect();
    let cols: Vec<Column> = [
        ("name", "名称"),
        ("role", "角色"),
        ("owner", "所有者"),
        ("created_by", "创建者"),
        ("created_at", "创建时间"),
        ("expires_at", "到期时间"),
        ("last_used_at", "最近使用"),
        ("revoked", "已吊销"),
    ]
    .iter()
    .map(|(k, h)| Column {
        key: (*k).into(),
        header: if zh { (*h).into() } else { (*k).into() },
    })
    .collect();
    ctx.out.rows(&cols, &rows)
}

fn revoke(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let me = ctx.authorize(Action::ManageUsers, None, None)?;
    let typed = m.get_one::<String>("name").expect("required");
    let db = ctx.db()?;
    let tx = db.write()?;
    let t = tokens::list(&tx)?
        .into_iter()
        .find(|t| auth::names::fold(&t.name) == auth::names::fold(typed))
        .ok_or_else(|| Error::not_found(format!("no token named '{}'", typed.escape_debug())))?;
    let was_live = tokens::revoke(&tx, t.id)?;
    if was_live {
        audit::log(
            &tx,
            &[Entry {
                user: Some(&me.name),
                action: "token_revoke",
                entity: Some("token"),
                record_id: Some(t.id),
                detail: Some(t.name.clone()),
                ..Entry::default()
            }],
        )?;
    }
    tx.commit()?;
    let text = if was_live {
        format!("revoked token {}", t.name)
    } else {
        format!("token {} was revoked already", t.name)
    };
    ctx.out
        .outcome(&text, &serde_json::json!({"name": t.name, "revoked": true}))
}
