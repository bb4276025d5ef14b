//! `crm token create|list|revoke`: tokens for automation (admin only), used as `CRM_TOKEN`
//! (`auth::automation`). The token is printed once, at its creation, and never stored.

use clap::{Arg, ArgMatches, Command};

use crate::auth::{self, Action};
use crate::context::Ctx;
use crate::db::audit::{self, Entry};
use crate::db::tokens;
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
        ("create", s) => super::token_create::run(ctx, s),
        ("list", _) => list(ctx),
        ("revoke", s) => revoke(ctx, s),
        _ => unreachable!("clap knows the subcommands"),
    }
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
