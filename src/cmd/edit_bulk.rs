//! `crm edit ENTITY --where EXPR… --set FIELD=VALUE… [--unset FIELD]… [--add-tag T]
//! [--remove-tag T] [--dry-run] [--yes]`: every matching record changed in one transaction
//! through the one writer (rules applied to each, each audited), the count printed.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::{Action, User};
use crate::context::Ctx;
use crate::db::Store;
use crate::db::query::{self, Query};
use crate::db::records::{self, Draft, Stored};
use crate::db::write::{AuditPolicy, Writer};
use crate::error::{Error, Result};
use crate::schema::kinds::split_tags;
use crate::schema::{Entity, Field, Kind, Value};

/// The bulk edit's flags, added to each `crm edit ENTITY` subcommand.
pub fn args(c: Command) -> Command {
    c.arg(
        Arg::new("where")
            .long("where")
            .short('w')
            .value_name("EXPR")
            .action(ArgAction::Append)
            .help("Change every record that matches (repeatable, ANDed), e.g. owner=alice"),
    )
    .arg(
        Arg::new("all")
            .long("all")
            .action(ArgAction::SetTrue)
            .help("Change every record (instead of --where)"),
    )
    .arg(
        Arg::new("set")
            .long("set")
            .value_name("FIELD=VALUE")
            .action(ArgAction::Append)
            .help("With --where/--all: set a field on every match (repeatable)"),
    )
    .arg(
        Arg::new("add_tag")
            .long("add-tag")
            .value_name("TAG")
            .action(ArgAction::Append)
            .help("With --where/--all: add a tag to every match"),
    )
    .arg(
        Arg::new("remove_tag")
            .long("remove-tag")
            .value_name("TAG")
            .action(ArgAction::Append)
            .help("With --where/--all: remove a tag from every match"),
    )
    .arg(
        Arg::new("dry_run")
            .long("dry-run")
            .action(ArgAction::SetTrue)
            .help("With --where/--all: count what would change, change nothing"),
    )
    .arg(super::yes_arg())
}

/// Whether the edit is a bulk one (`--where` or `--all`, no ID).
pub fn is_bulk(m: &ArgMatches) -> bool {
    m.get_many::<String>("where").is_some() || m.get_flag("all")
}

/// The bulk-only flags given to a single edit (`crm edit customer 5 --set …`): refused.
pub fn refuse_single(e: &Entity, m: &ArgMatches) -> Result<()> {
    for (id, flag) in [
        ("set", "--set"),
        ("add_tag", "--add-tag"),
        ("remove_tag", "--remove-tag"),
    ] {
        if m.get_many::<String>(id).is_some() {
            return Err(single_error(e, flag));
        }
    }
    if m.get_flag("dry_run") {
        return Err(single_error(e, "--dry-run"));
    }
    Ok(())
}

fn single_error(e: &Entity, flag: &str) -> Error {
    Error::usage(format!(
        "{flag} is for edits of the records --where chooses"
    ))
    .hint(format!(
        "`crm edit {} --where EXPR {flag} …`, or field flags for one record",
        e.name
    ))
}

/// One change applied to every matching record.
enum Change {
    Set(&'static Field, Value),
    AddTag(&'static Field, String),
    RemoveTag(&'static Field, String),
}

pub fn run(ctx: &mut Ctx, e: &'static Entity, m: &ArgMatches) -> Result<()> {
    if m.get_one::<String>("id").is_some() {
        return Err(Error::usage("give an ID or --where/--all, not both"));
    }
    let user = ctx.authorize(Action::Update, Some(e), None)?;
    let changes = changes(&ctx.db()?.store, e, m)?;
    if changes.is_empty() {
        return Err(Error::usage("nothing to change")
            .hint("pass --set FIELD=VALUE, --unset FIELD, --add-tag or --remove-tag"));
    }
    let mut q = Query::new(e);
    for w in m.get_many::<String>("where").into_iter().flatten() {
        q.filters.push(query::parse_where(&ctx.db()?.store, e, w)?);
    }
    // A count of matches would tell a masked value digit by digit (SPEC "Masking").
    ctx.check_masked_query(&q)?;
    // Refused before any question: a role that changes only what it owns must own every
    // match, and file none under a customer it does not own (audited as a single edit is).
    let owner_bound = !crate::auth::allowed(user.role, Action::Update, Some(e), Some(false));
    let first = query::stored(&ctx.db()?.store, &q)?;
    if owner_bound {
        for old in &first {
            let new = changed(&old.draft, &changes);
            let owns_old = super::owns(&ctx.db()?.store, &user, &old.draft)?;
            ctx.authorize(Action::Update, Some(e), owns_old)?;
            super::placement::authorize(ctx, Action::Update, &user, &new, Some(&old.draft))?;
        }
    }
    let dry_run = m.get_flag("dry_run");
    if !dry_run && !m.get_flag("yes") && ctx.g.interactive && !first.is_empty() {
        let question = format!(
            "Change {} {} record{}?",
            first.len(),
            e.name,
            if first.len() == 1 { "" } else { "s" }
        );
        if !crate::prompt::confirm(&question)? {
            return Err(Error::usage("nothing was changed (answered no)"));
        }
    }
    let db = ctx.db()?;
    let tx = db.write()?;
    // Read again under the write lock: the records as stored now are the ones changed.
    let current = query::stored(&tx, &q)?;
    let (matched, n_changed) = write_all(&tx, &user, owner_bound, &current, &changes)?;
    if dry_run {
        tx.rollback()?;
    } else {
        tx.commit()?;
    }
    let verb = if dry_run { "would change" } else { "changed" };
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    ctx.out.outcome(
        &format!(
            "{verb} {n_changed} {} record{} ({matched} matched)",
            e.name,
            plural(n_changed)
        ),
        &serde_json::json!({"matched": matched, "changed": n_changed}),
    )
}

/// Writes each record's change through one writer; the first refusal names its record and
/// nothing is written. Returns (matched, changed).
fn write_all(
    tx: &Store,
    user: &User,
    owner_bound: bool,
    current: &[Stored],
    changes: &[Change],
) -> Result<(usize, usize)> {
    let Some(e) = current.first().map(|s| s.draft.entity) else {
        return Ok((0, 0));
    };
    if let Some(sets) = set_based(tx, e, owner_bound, changes) {
        let ids: Vec<i64> = current.iter().map(|s| s.id).collect();
        return Ok((current.len(), query::set_all(tx, e, &ids, &sets)?));
    }
    let mut w = Writer::new(tx, e, AuditPolicy::PerField { detail: None }, &user.name)?;
    let mut n = 0;
    for old in current {
        let new = changed(&old.draft, changes);
        if owner_bound
            && (super::owns(tx, user, &old.draft)? == Some(false)
                || super::owns(tx, user, &new)? == Some(false))
        {
            return Err(Error::conflict(format!(
                "{} {} changed since it was read",
                e.name, old.id
            ))
            .hint("run the edit again"));
        }
        match w.update(old, new)? {
            Ok(true) => n += 1,
            Ok(false) => {}
            Err(refused) => {
                let err = refused.into_error(e);
                let msg = format!(
                    "{} {}: {}; nothing was changed",
                    e.name, old.id, err.message
                );
                return Err(Error::new(err.kind, msg));
            }
        }
    }
    Ok((current.len(), n))
}

/// The changes as one statement's assignments, when one statement does what the writer
/// would per record: on `PostgreSQL` (whose row triggers audit each record; `SQLite`'s
/// writer is fast enough record by record), for an entity without rules, a role bound to
/// no owner, and plain values — no tags to merge, no unique or generated value (which
/// could be taken), no required field cleared.
fn set_based(
    tx: &Store,
    e: &Entity,
    owner_bound: bool,
    changes: &[Change],
) -> Option<Vec<(&'static Field, Value)>> {
    if tx.is_sqlite() || owner_bound || crate::rules::of(e).is_some() {
        return None;
    }
    changes
        .iter()
        .map(|c| match c {
            Change::Set(f, v)
                if !f.unique
                    && !matches!(f.default, crate::schema::Default::Generated(_))
                    && (!f.required || *v != Value::Null) =>
            {
                Some((*f, v.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The record with every change applied (rules run later, in the writer).
fn changed(d: &Draft, changes: &[Change]) -> Draft {
    let mut d = d.clone();
    for c in changes {
        match c {
            Change::Set(f, v) => d.set(f.name, v.clone()),
            Change::AddTag(f, t) | Change::RemoveTag(f, t) => {
                let mut tags = match d.get(f.name) {
                    Value::Text(s) => split_tags(s),
                    _ => Vec::new(),
                };
                let has = tags.iter().any(|x| x == t);
                match c {
                    Change::AddTag(..) if !has => tags.push(t.clone()),
                    Change::RemoveTag(..) => tags.retain(|x| x != t),
                    _ => {}
                }
                let v = if tags.is_empty() {
                    Value::Null
                } else {
                    Value::Text(tags.join(";"))
                };
                d.set(f.name, v);
            }
        }
    }
    d
}

/// The changes the flags ask for, each value parsed as a single edit parses it.
fn changes(conn: &Store, e: &'static Entity, m: &ArgMatches) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut set = |f: &'static Field, text: Option<&str>, flag: String| -> Result<()> {
        if f.read_only {
            return Err(Error::usage(format!(
                "{} {} is set by crm and cannot be changed",
                e.name, f.name
            )));
        }
        if seen.contains(&f.name) {
            return Err(Error::usage(format!("{} is changed twice", f.name)));
        }
        seen.push(f.name);
        let v = match text {
            None => Value::Null,
            Some(t) => records::parse_value(conn, f, t).map_err(|why| {
                let missing =
                    matches!(f.kind, Kind::Ref(_) | Kind::User) && f.kind.parse(t).is_ok();
                let msg = format!("{flag}: {why}");
                if missing {
                    Error::not_found(msg)
                } else {
                    Error::invalid(msg)
                }
            })?,
        };
        out.push(Change::Set(f, v));
        Ok(())
    };
    for f in e.writable() {
        // A custom field loaded after parsing (none of its flags given) has no argument: None.
        if let Some(text) = m.try_get_one::<String>(f.name).ok().flatten() {
            set(f, Some(text), format!("--{}", f.flag()))?;
        }
    }
    for spec in m.get_many::<String>("set").into_iter().flatten() {
        let (name, value) = spec
            .split_once('=')
            .ok_or_else(|| Error::usage(format!("--set '{spec}' is not FIELD=VALUE")))?;
        set(
            e.field(name.trim())?,
            Some(value),
            format!("--set {}", name.trim()),
        )?;
    }
    for name in m.get_many::<String>("unset").into_iter().flatten() {
        set(e.field(name)?, None, format!("--unset {name}"))?;
    }
    let tag_field = || {
        e.fields
            .iter()
            .find(|f| f.kind == Kind::Tags && !f.read_only)
            .ok_or_else(|| Error::usage(format!("{} has no tags", e.name)))
    };
    for (id, add) in [("add_tag", true), ("remove_tag", false)] {
        for t in m.get_many::<String>(id).into_iter().flatten() {
            let f = tag_field()?;
            if seen.contains(&f.name) {
                return Err(Error::usage(format!("{} is changed twice", f.name)));
            }
            for tag in split_tags(t) {
                out.push(if add {
                    Change::AddTag(f, tag)
                } else {
                    Change::RemoveTag(f, tag)
                });
            }
        }
    }
    Ok(out)
}

/// What `crm user edit NAME --transfer-to OTHER` moves, and through which field: the user's
/// customers, open opportunities, plans (activities not yet done) and open tickets.
const TRANSFERRED: &[(&str, &str)] = &[
    ("customer", "owner"),
    ("opportunity", "owner"),
    ("activity", "owner"),
    ("ticket", "assignee"),
];

/// Moves `from`'s work to `to` in the caller's transaction, each record through the writer
/// (rules, audit) as a bulk edit changes it. Returns how many of each entity moved.
pub fn transfer(tx: &Store, me: &User, from: &str, to: &str) -> Result<Vec<(&'static str, usize)>> {
    let mut moved = Vec::new();
    for &(name, via) in TRANSFERRED {
        let e = Entity::get(name)?;
        let f = e.field(via)?;
        let mut q = Query::new(e);
        q.filters
            .push(query::parse_where(tx, e, &format!("{via}={from}"))?);
        match e.open {
            crate::schema::behaviour::Open::Always => {}
            crate::schema::behaviour::Open::Unless(field, closed) => {
                for v in closed {
                    q.filters
                        .push(query::parse_where(tx, e, &format!("{field}!={v}"))?);
                }
            }
            crate::schema::behaviour::Open::WhileNull(field) => {
                q.filters
                    .push(query::parse_where(tx, e, &format!("{field}="))?);
            }
        }
        let records = query::stored(tx, &q)?;
        let (_, n) = write_all(
            tx,
            me,
            false,
            &records,
            &[Change::Set(f, Value::Text(to.to_string()))],
        )?;
        moved.push((name, n));
    }
    Ok(moved)
}
