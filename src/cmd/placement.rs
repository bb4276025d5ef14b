//! Where a record may be filed: a user who must own what they change (sales) may create a
//! record, or move one, only under a customer they own (SPEC "Roles (additions)"). The one
//! check for every path that files a record under a customer: `add` (with its lines), `log`,
//! `convert quote`, `convert lead` and `edit`. Imports are closed to those roles.

use crate::db::Store;
use crate::schema::Value;

use crate::auth::{Action, User};
use crate::context::Ctx;
use crate::db::records::{self, Draft};
use crate::error::{ErrorKind, Result};
use crate::schema::{Entity, Kind};

/// The first customer the draft newly files the record under (one it names that `old` did
/// not) that the user does not own: its key and owner.
fn foreign_customer(
    conn: &Store,
    user: &User,
    d: &Draft,
    old: Option<&Draft>,
) -> Result<Option<(String, String)>> {
    let ce = Entity::get("customer")?;
    for (i, f) in d.entity.fields.iter().enumerate() {
        if f.kind != Kind::Ref("customer") || old.is_some_and(|o| o.values[i] == d.values[i]) {
            continue;
        }
        let Value::Integer(cid) = d.values[i] else {
            continue;
        };
        let Some(c) = records::get(conn, ce, cid)? else {
            continue; // not stored yet (a lead conversion's new customer) or already refused
        };
        if super::owns(conn, user, &c.draft)? == Some(false) {
            let key = c
                .draft
                .text("code")
                .map_or_else(|| cid.to_string(), str::to_string);
            let owner = c.draft.text("owner").unwrap_or("nobody").to_string();
            return Ok(Some((key, owner)));
        }
    }
    Ok(None)
}

/// Authorizes creating (`old` None) or changing a record as the draft describes it: the user
/// must own the record itself and every customer it is newly filed under. Goes through
/// `Ctx::authorize`, so a refusal is audited and exits 7.
pub fn authorize(
    ctx: &mut Ctx,
    action: Action,
    user: &User,
    d: &Draft,
    old: Option<&Draft>,
) -> Result<()> {
    let conn = &ctx.db()?.store;
    let own = super::owns(conn, user, d)?;
    let foreign = foreign_customer(conn, user, d, old)?;
    let owns = if foreign.is_some() { Some(false) } else { own };
    ctx.authorize(action, Some(d.entity), owns)
        .map_err(|e| {
            match &foreign {
        Some((key, owner)) if e.kind == ErrorKind::Denied && own != Some(false) => e.hint(format!(
            "customer {key} belongs to {owner}; role {} files records only under its own customers",
            user.role.as_str()
        )),
        _ => e,
    }
        })?;
    Ok(())
}
