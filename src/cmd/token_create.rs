//! `crm token create NAME --role ROLE [--ttl DURATION] [--user OWNER]`: a new token for
//! automation, printed this once (only a hash of its secret is kept, `auth::automation`).

use clap::ArgMatches;

use crate::auth::{self, Action, Role, automation};
use crate::context::Ctx;
use crate::db::audit::{self, Entry};
use crate::db::{tokens, users};
use crate::error::{Error, Result};
use crate::schema::kinds::format_datetime;

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
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
