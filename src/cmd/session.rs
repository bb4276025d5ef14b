//! `crm logout` and `crm whoami`.

use clap::{ArgMatches, Command};

use crate::context::Ctx;
use crate::error::Result;

pub fn logout_command() -> Command {
    Command::new("logout").about("End the session (the token stops working everywhere)")
}

pub fn whoami_command() -> Command {
    Command::new("whoami").about("Show the logged-in user and role")
}

pub fn logout(ctx: &mut Ctx, _m: &ArgMatches) -> Result<()> {
    let user = ctx.user()?;
    let token = ctx.token()?.expect("a user implies a token");
    crate::auth::logout(&mut ctx.db()?.conn, &token, &user.name)?;
    // The token file goes only if it held this session (CRM_TOKEN may name another one).
    let path = crate::auth::token_path(&ctx.g.db);
    if crate::auth::read_token(&path).ok().flatten().as_deref() == Some(token.trim()) {
        std::fs::remove_file(path)?;
    }
    ctx.out.msg(&format!("logged out {}", user.name));
    Ok(())
}

pub fn whoami(ctx: &mut Ctx, _m: &ArgMatches) -> Result<()> {
    let user = ctx.user()?;
    let cols = [
        crate::output::Column {
            key: "name".into(),
            header: "name".into(),
        },
        crate::output::Column {
            key: "role".into(),
            header: "role".into(),
        },
    ];
    ctx.out.record(
        &cols,
        &[user.name.clone().into(), user.role.as_str().into()],
    )
}
