//! `crm copy` and `crm backup` from a server: a whole crm database moved into an empty
//! destination on either engine — every table's rows with their ids, the audit log as it is
//! (same rows, same hashes), import batches, stage history and each table's id position —
//! read from one snapshot of the source and written in one transaction on the destination,
//! then counted and its audit chain verified there before that transaction commits.
//!
//! Passwords cannot cross engines (argon2 hashes on `SQLite`, SCRAM login roles on
//! `PostgreSQL`): the admin running the copy gives theirs for the destination, every other
//! user gets one nobody knows until an admin sets it (`crm user passwd NAME`). Sessions
//! are not copied.
//!
//! On `PostgreSQL` the destination's schema is made by [`setup::create`] inside the copy's
//! transaction, as the URL's role (which owns it then). Record tables carry triggers that
//! audit each insert: the copied audit rows already say what happened, so those triggers
//! are disabled for the copy (`ALTER TABLE … DISABLE TRIGGER`, which the owner may do) and
//! enabled again before the commit; nobody else sees the tables in between.

mod tables;

use std::path::Path;
use std::time::Duration;

use crate::db::postgres::setup;
use crate::db::{Db, OpenMode, Store, audit, server};
use crate::error::{Error, Result};
use crate::schema::{ENTITIES, Value};
use crate::vals;
use tables::{Table, quote};

/// The admin who runs the copy: the one user whose password is set on the destination.
pub struct Admin<'a> {
    pub name: &'a str,
    /// The password, for a server's login role.
    pub password: &'a str,
    /// Its argon2 hash, for a `SQLite` destination (crm's `auth::hash_password`).
    pub hash: &'a str,
}

/// What a copy moved: rows per table, in the order written, and the users.
#[derive(Debug, Default)]
pub struct Moved {
    pub tables: Vec<(String, u64)>,
    pub users: Vec<String>,
}

/// The password hash of a user whose password did not move: no argon2 hash, so no
/// password matches it, and `crm user passwd NAME` replaces it.
const UNUSABLE: &str = "!copied: set with crm user passwd";

/// Whether `dest` names a database server rather than a file.
pub fn is_server(dest: &Path) -> bool {
    server::is_url(dest)
}

/// Copies `src` into a new `SQLite` file at `path` (a file that does not exist or is
/// empty: crm's migrations make its schema). A failure leaves a partial file behind for
/// the caller to remove; it writes to a temporary name for that reason.
pub fn into_file(src: &Store, path: &Path, admin: &Admin, busy: Duration) -> Result<Moved> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return Err(not_empty(&path.display().to_string()));
    }
    let mut db = Db::open(path, OpenMode::Create, busy)?;
    if crate::db::users::count(&db.store)? > 0 {
        return Err(not_empty(&path.display().to_string()));
    }
    let snapshot = src.read()?;
    let tx = db.write()?;
    tx.batch("PRAGMA defer_foreign_keys = ON")?;
    let moved = copy_all(&snapshot, &tx, admin)?;
    verify(&snapshot, &tx, &moved)?;
    let broken = crate::db::maintain::broken_references(&tx)?;
    if let Some(b) = broken.first() {
        return Err(Error::storage(format!(
            "the copy holds a reference that points nowhere: {b}"
        )));
    }
    tx.commit()?;
    snapshot.finish()?;
    Ok(moved)
}

/// Copies `src` into the empty database at the server `url`, connected as the URL's role
/// (one that may create roles and schemas, as for `crm init`). Returns what moved and how
/// the destination is shown (without a password).
pub fn into_server(
    src: &Store,
    url: &Path,
    admin: &Admin,
    busy: Duration,
) -> Result<(Moved, String)> {
    let db = Db::open_as(url, OpenMode::Create, busy, None)?;
    let shown = db.path.display().to_string();
    let dst = &db.store;
    if setup::is_initialised(dst)? {
        return Err(not_empty(&shown));
    }
    let snapshot = src.read()?;
    taken_roles(&snapshot, dst)?;
    dst.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
    let done = (|| {
        setup::create(dst)?;
        for e in ENTITIES {
            dst.batch(&format!(
                "ALTER TABLE crm.{} DISABLE TRIGGER audit_row",
                e.table()
            ))?;
        }
        let moved = copy_all(&snapshot, dst, admin)?;
        for e in ENTITIES {
            dst.batch(&format!(
                "ALTER TABLE crm.{} ENABLE TRIGGER audit_row",
                e.table()
            ))?;
        }
        verify(&snapshot, dst, &moved)?;
        let off = audit::missing_triggers(dst)?;
        if !off.is_empty() {
            return Err(Error::internal(format!(
                "triggers missing after the copy: {}",
                off.join(", ")
            )));
        }
        Ok(moved)
    })();
    match done {
        Ok(moved) => {
            dst.batch("COMMIT")?;
            // The planner's statistics, and the visibility map its index-only scans
            // need, for the tables just filled: without them, until autovacuum gets to
            // them, reports are planned for empty tables and read the row behind each
            // index entry (on the 1M-row reports data set, right after a copy: customers
            // 7.2 s instead of 3.4 s, activities 2.4 s instead of 0.9 s, same loaded VM).
            // It costs the copy a pass over what it wrote. Best effort: the copy is
            // committed, and autovacuum would do both in time.
            let _ = dst.batch("VACUUM (ANALYZE)");
            snapshot.finish()?;
            Ok((moved, shown))
        }
        Err(e) => {
            let _ = dst.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Refuses a server where a user's login role exists already: roles are cluster-wide, and
/// one left by a dropped database of the same name would be another's login (exit 5).
fn taken_roles(src: &Store, dst: &Store) -> Result<()> {
    for (_, name) in crate::db::users::names(src)? {
        let role = crate::db::postgres::accounts::login_role(dst, &name)?;
        let taken: bool = dst.value(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname::text = ?)",
            vals![role.clone()],
        )?;
        if taken {
            return Err(Error::conflict(format!(
                "the server already has a role {role} for user {name}"
            ))
            .hint("nothing was changed; drop that role (left by an earlier database of this name?) or copy to another database"));
        }
    }
    Ok(())
}

/// How a server destination is shown (its URL without a password).
pub fn shown_server(url: &Path) -> Result<String> {
    let text = url
        .to_str()
        .ok_or_else(|| Error::usage("the destination is not valid UTF-8"))?;
    Ok(crate::db::postgres::ConnInfo::parse(text)?.display())
}

fn not_empty(shown: &str) -> Error {
    Error::conflict(format!(
        "{shown} is not empty: crm copy only fills an empty database"
    ))
    .hint("nothing was changed; copy to a new file or an empty database")
}

/// Every table, then the users' logins and the id positions.
fn copy_all(src: &Store, dst: &Store, admin: &Admin) -> Result<Moved> {
    if crate::db::users::by_name(src, admin.name)?.is_none() {
        return Err(Error::internal(
            "the admin running the copy is no user of the source",
        ));
    }
    let mut moved = Moved::default();
    // Custom fields first: their columns must be there before the records' rows come.
    let defs = crate::db::fields::load(src)?;
    for d in &defs {
        let kind = crate::schema::custom::kind(&d.kind, &d.choices)?;
        crate::db::fields::create(dst, d, kind, admin.name, crate::clock::now())?;
    }
    moved.tables.push((
        "custom_field".into(),
        u64::try_from(defs.len()).unwrap_or(0),
    ));
    for t in tables::ALL() {
        let n = if t.name == "users" {
            let (n, users) = copy_users(src, dst, admin)?;
            moved.users = users;
            n
        } else {
            copy_table(src, dst, &t)?
        };
        moved.tables.push((t.name.to_string(), n));
    }
    for t in tables::ALL().iter().filter(|t| t.has_id) {
        let at = tables::position(src, t)?;
        tables::set_position(dst, t, at)?;
    }
    // The search index is cut from the records, not copied: made anew where they land.
    crate::db::search::build(dst)?;
    Ok(moved)
}

/// The users' rows with their ids, roles and states, each with a password only its new
/// engine knows; on a server, each gets its login role.
fn copy_users(src: &Store, dst: &Store, admin: &Admin) -> Result<(u64, Vec<String>)> {
    let cols: Vec<String> = tables::columns(src, "users")?
        .into_iter()
        .filter(|c| c != "password_hash")
        .collect();
    let mut all = cols.clone();
    all.push("password_hash".into());
    let sql = tables::insert_sql("users", &all, 1);
    let rows = src.query(
        &format!("SELECT {} FROM users ORDER BY id", quote_all(&cols)),
        vals![],
    )?;
    let name_at = cols.iter().position(|c| c == "name");
    let id_at = cols.iter().position(|c| c == "id");
    let (Some(name_at), Some(id_at)) = (name_at, id_at) else {
        return Err(Error::internal("the users table has no id or name"));
    };
    let mut names = Vec::new();
    for r in rows {
        let name: String = r.get(name_at)?;
        let id: i64 = r.get(id_at)?;
        let me = name == admin.name;
        let hash = match dst {
            Store::Sqlite(_) if me => admin.hash.to_string(),
            Store::Sqlite(_) => UNUSABLE.to_string(),
            Store::Postgres(_) => String::new(),
        };
        let mut values = r.into_values();
        values.push(Value::Text(hash));
        dst.execute(&sql, &values)?;
        if !dst.is_sqlite() {
            let password = if me {
                admin.password.to_string()
            } else {
                unknown_password()?
            };
            server::add_login(dst, id, &name, &password)?;
        }
        names.push(name);
    }
    Ok((names.len() as u64, names))
}

/// A password nobody knows: 32 random bytes in hex.
fn unknown_password() -> Result<String> {
    use std::io::Read;
    let mut buf = [0_u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(audit::hex(&buf))
}

fn quote_all(cols: &[String]) -> String {
    cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
}

/// One table's rows, streamed from the source and written in multi-row inserts (on a
/// server, one COPY).
fn copy_table(src: &Store, dst: &Store, t: &Table) -> Result<u64> {
    let cols = tables::columns(src, t.name)?;
    let dest_cols = tables::columns(dst, t.name)?;
    if let Some(c) = cols.iter().find(|c| !dest_cols.contains(c)) {
        return Err(Error::internal(format!(
            "the destination's {} has no column {c}",
            t.name
        )));
    }
    let select = format!(
        "SELECT {} FROM {} ORDER BY {}",
        quote_all(&cols),
        quote(t.name),
        t.order
    );
    if let Some(pg) = dst.postgres() {
        // A server takes the rows as one COPY stream.
        return pg.copy_in(&quote(t.name), &quote_all(&cols), |put| {
            src.each(&select, vals![], |r| put(r.into_values()))
        });
    }
    let per = (8000 / cols.len().max(1)).clamp(1, 500);
    let full = tables::insert_sql(t.name, &cols, per);
    let mut buf: Vec<Value> = Vec::with_capacity(per * cols.len());
    let mut n: u64 = 0;
    let mut rows = 0;
    src.each(&select, vals![], |r| {
        buf.extend(r.into_values());
        rows += 1;
        n += 1;
        if rows == per {
            dst.execute(&full, &buf)?;
            buf.clear();
            rows = 0;
        }
        Ok(())
    })?;
    if rows > 0 {
        dst.execute(&tables::insert_sql(t.name, &cols, rows), &buf)?;
    }
    Ok(n)
}

/// The destination holds what the source holds: each table's count, and an audit log whose
/// chain verifies and ends at the source's head.
fn verify(src: &Store, dst: &Store, moved: &Moved) -> Result<()> {
    for (table, n) in &moved.tables {
        let q = format!("SELECT COUNT(*) FROM {}", quote(table));
        let (have, want): (i64, i64) = (dst.value(&q, vals![])?, src.value(&q, vals![])?);
        if u64::try_from(have).ok() != Some(*n) || have != want {
            return Err(Error::storage(format!(
                "the copy's {table} holds {have} rows, the source {want}; nothing was copied"
            )));
        }
    }
    if let Some(id) = audit::chain_break(dst)? {
        return Err(Error::storage(format!(
            "the copied audit chain breaks at entry {id}; nothing was copied"
        )));
    }
    if audit::head(dst)? != audit::head(src)? {
        return Err(Error::storage(
            "the copied audit log does not end where the source's does; nothing was copied",
        ));
    }
    Ok(())
}
