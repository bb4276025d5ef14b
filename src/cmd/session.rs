//! `crm logout` and `crm whoami`.

use clap::{ArgMatches, Command};

use crate::context::Ctx;
use crate::error::Result;

pub fn logout_command() -> Command {
    Command::new("logout").about("End the session (the token stops working everywhere)")
}

pub fn whoami_command() -> Command {
    Command::new("whoami")
        .about("Show the logged-in user, role, database, and when the session or token expires")
}

pub fn logout(ctx: &mut Ctx, _m: &ArgMatches) -> Result<()> {
    let user = ctx.user()?;
    // On PostgreSQL a script may be connected by PGUSER/PGPASSWORD with no session at all.
    let token = ctx.token()?.ok_or_else(|| {
        crate::error::Error::auth("no session to log out of (connected without `crm login`)")
    })?;
    if let Some(name) = &user.token {
        // A token for automation ends only by an admin's revoke, never by its own holder.
        return Err(crate::error::Error::usage(format!(
            "CRM_TOKEN is the token '{name}', not a session: there is nothing to log out of"
        ))
        .hint(format!(
            "an admin revokes it with `crm token revoke {name}`; or unset CRM_TOKEN"
        )));
    }
    crate::auth::logout(&mut ctx.db()?.store, &token, &user.name)?;
    // The token file goes only if it held this session (CRM_TOKEN may name another one).
    let path = crate::auth::token_path(&ctx.g.db);
    if crate::auth::read_token(&path).ok().flatten().as_deref() == Some(token.trim()) {
        std::fs::remove_file(path)?;
    }
    ctx.out.outcome(
        &format!("logged out {}", user.name),
        &serde_json::json!({"user": user.name, "logged_out": true}),
    )
}

pub fn whoami(ctx: &mut Ctx, _m: &ArgMatches) -> Result<()> {
    let user = ctx.user()?;
    // The database too: with CRM_DB, --db and a demo around, "which one am I in?" comes up.
    let mut keys = vec!["name", "role", "database"];
    let mut values: Vec<serde_json::Value> =
        vec![user.name.clone().into(), user.role.as_str().into()];
    if ctx.g.is_server() {
        // The URL without any password, and the login role the server knows the session by.
        let db = ctx.db()?;
        values.push(db.path.display().to_string().into());
        keys.push("pg_role");
        values.push(crate::db::server::session_role(&db.store)?.into());
    } else {
        let db = std::fs::canonicalize(&ctx.g.db).unwrap_or_else(|_| ctx.g.db.clone());
        values.push(db.display().to_string().into());
    }
    // When the session or token stops working, and the token the command acts by.
    keys.push("expires_at");
    values.push(
        user.expires_at
            .map(crate::schema::kinds::format_datetime)
            .into(),
    );
    if let Some(t) = &user.token {
        keys.push("token");
        values.push(t.clone().into());
    }
    let cols: Vec<crate::output::Column> = keys
        .iter()
        .map(|k| crate::output::Column {
            key: (*k).into(),
            header: (*k).into(),
        })
        .collect();
    ctx.out.record(&cols, &values)
}
