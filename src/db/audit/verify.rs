//! Tamper evidence for the audit log, and its limits. The triggers make the log append-only
//! for crm and for a careless `sqlite3` session; the hash chain shows a row changed or taken
//! out of the middle; crm's own records (import batches, the init row) show rows taken off
//! either end. None of this stops a person who can write the file from dropping the triggers,
//! rewriting rows and recomputing the chain (the chain is a plain SHA-256: any secret to key it
//! would have to be in the file or the binary, which that person has). What catches them is a
//! head (`crm audit --head`) kept somewhere else: `crm audit --verify --anchor ID:HASH`.
//!
//! On `PostgreSQL` the same holds of a role that may drop the triggers (the schema's owner);
//! no crm role may, and none may write the log but through `crm.audit_append` and the
//! triggers. The chain rule is the same (`crm.row_hash`), so one reader verifies both.

use super::{Entry, row_hash};
use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::db::migrate::TRIGGERS;
use crate::error::{Error, Result};
use crate::schema::ENTITIES;
use crate::vals;

/// The newest entry: what an admin keeps outside the file to pin the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub id: i64,
    pub hash: String,
}

/// The newest entry, or `None` for an empty log.
pub fn head(conn: &Store) -> Result<Option<Head>> {
    conn.query_opt(
        "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
        vals![],
    )?
    .map(|r| {
        Ok(Head {
            id: r.get(0)?,
            hash: r.get(1)?,
        })
    })
    .transpose()
}

/// Reads `ID:HASH` as `crm audit --head` prints it.
pub fn parse_anchor(s: &str) -> Result<Head> {
    let bad = || {
        Error::usage(format!("--anchor '{s}' is not ID:HASH"))
            .hint("pass what `crm audit --head` printed, e.g. 42:9f86d081…")
    };
    let (id, hash) = s.trim().split_once(':').ok_or_else(bad)?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    let hash = hash.to_ascii_lowercase();
    if id < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok(Head { id, hash })
}

/// Recomputes the hash chain row by row (never the whole log in memory); returns the id of
/// the first row that does not match.
///
/// On `PostgreSQL` a role may see only part of the log (row-level security: a manager's
/// `crm check` sees the customer status rows its reports read), and a chain is only
/// checked whole: unless the session reads every row, the server recomputes it
/// (`crm.audit_chain_break()`, by the same rule, for those who may maintain the database).
pub fn chain_break(conn: &Store) -> Result<Option<i64>> {
    if partial_view(conn)? {
        return conn.value("SELECT crm.audit_chain_break()", vals![]);
    }
    let mut prev = String::new();
    let mut broken = None;
    conn.each(
        "SELECT id, at, \"user\", action, entity, record_id, field, old, new, detail, hash FROM audit ORDER BY id",
        vals![],
        |r| {
            if broken.is_some() {
                return Ok(()); // the first break is the answer; the rest is drained
            }
            let (user, action, entity, field): (
                Option<String>,
                String,
                Option<String>,
                Option<String>,
            ) = (r.get(2)?, r.get(3)?, r.get(4)?, r.get(6)?);
            let e = Entry {
                user: user.as_deref(),
                action: &action,
                entity: entity.as_deref(),
                record_id: r.get(5)?,
                field: field.as_deref(),
                old: r.get(7)?,
                new: r.get(8)?,
                detail: r.get(9)?,
            };
            let hash: String = r.get(10)?;
            if row_hash(&prev, r.get(1)?, &e) != hash {
                broken = Some(r.get(0)?);
            }
            prev = hash;
            Ok(())
        },
    )?;
    Ok(broken)
}

/// Whether row-level security hides part of the log from this session (`PostgreSQL` only).
fn partial_view(conn: &Store) -> Result<bool> {
    Ok(conn.dialect() == Dialect::Postgres && !reads_whole_log(conn)?)
}

/// `PostgreSQL`: whether row-level security hides none of the log from this session: a
/// superuser or the tables' owner (who bypass it), or a crm user whose role may audit.
fn reads_whole_log(conn: &Store) -> Result<bool> {
    let r = conn.query_one(
        "SELECT (SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user)
              OR pg_catalog.pg_has_role(current_user, (SELECT relowner FROM pg_catalog.pg_class WHERE oid = 'crm.audit'::regclass), 'USAGE'),
            (SELECT u.role FROM users u WHERE u.name = crm.me())",
        vals![],
    )?;
    if r.get::<Option<bool>>(0)?.unwrap_or(false) {
        return Ok(true);
    }
    let role: Option<String> = r.get(1)?;
    Ok(role
        .and_then(|r| crate::roles::Role::parse(&r).ok())
        .is_some_and(|role| crate::roles::allowed(role, crate::roles::Action::Audit, None, None)))
}

/// The name of a trigger in crm's `CREATE TRIGGER name …`.
fn trigger_name(sql: &str) -> &str {
    sql.split_whitespace().nth(2).unwrap_or(sql)
}

/// crm's append-only triggers that are missing or differ from what crm creates, by name.
/// (Opening already refuses any trigger crm did not create; this finds the ones taken away.)
///
/// On `PostgreSQL`, the log's own triggers (update, delete, truncate) and each entity's
/// `audit_row`, which writes the log there: missing or disabled, named `TABLE.TRIGGER`
/// for the latter.
pub fn missing_triggers(conn: &Store) -> Result<Vec<String>> {
    if conn.dialect() == Dialect::Postgres {
        return missing_triggers_pg(conn);
    }
    let mut out = Vec::new();
    for want in TRIGGERS {
        let name = trigger_name(want);
        let sql: Option<String> = conn
            .query_opt(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                vals![name],
            )?
            .map(|r| r.get(0))
            .transpose()?
            .flatten();
        if sql.as_deref() != Some(want) {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

fn missing_triggers_pg(conn: &Store) -> Result<Vec<String>> {
    let on = |table: &str, name: &str| -> Result<bool> {
        conn.value(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
               JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'crm' AND c.relname = ? AND t.tgname = ? AND t.tgenabled <> 'D')",
            vals![table, name],
        )
    };
    let mut out = Vec::new();
    for name in ["audit_no_update", "audit_no_delete", "audit_no_truncate"] {
        if !on("audit", name)? {
            out.push(name.to_string());
        }
    }
    for e in ENTITIES {
        if !on(e.name, "audit_row")? {
            out.push(format!("{}.audit_row", e.name));
        }
    }
    Ok(out)
}

/// Rows missing from either end of the log, as far as crm's other records tell: the log of
/// a database `crm init` made starts with the init row (id 1; `crm demo`'s with its demo row) and is never empty, and every
/// import batch names the audit row that records it.
///
/// On `PostgreSQL`, only for a session that reads the whole log: to one that sees part of
/// it (a manager's `crm check`), the rows it cannot see would look deleted.
pub fn truncation(conn: &Store) -> Result<Option<String>> {
    if partial_view(conn)? {
        return Ok(None);
    }
    let first: Option<(i64, String, Option<String>)> = conn
        .query_opt(
            "SELECT id, action, detail FROM audit ORDER BY id LIMIT 1",
            vals![],
        )?
        .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?, r.get(2)?)))
        .transpose()?;
    match first {
        None => return Ok(Some("the audit log is empty: rows were deleted".into())),
        Some((1, action, Some(d))) if action == "user_add" && d.starts_with("init: ") => {}
        // `crm demo` creates its database with a `demo` row instead of init's.
        Some((1, action, _)) if action == "demo" => {}
        Some((id, ..)) => {
            return Ok(Some(format!(
                "the audit log does not start with crm init's row (its first row is {id}): rows were deleted"
            )));
        }
    }
    let sql = format!(
        "SELECT b.id, b.audit_id FROM import_batch b LEFT JOIN audit a ON a.id = b.audit_id
             WHERE b.audit_id IS NOT NULL
               AND (a.id IS NULL OR a.action {} 'import' OR a.detail NOT LIKE 'batch ' || b.id || ':%')
             ORDER BY b.id LIMIT 1",
        conn.dialect().distinct()
    );
    let lost: Option<(i64, i64)> = conn
        .query_opt(&sql, vals![])?
        .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    Ok(lost.map(|(batch, row)| {
        format!(
            "import batch {batch} was recorded in audit row {row}, which is gone: rows were deleted"
        )
    }))
}

/// An import's history changed behind crm's back: each batch's own audit row names the batch
/// (which must still point back at it) and, since schema v7, a digest of what the batch
/// recorded (`batch::trail_digest`), so the import trail on a record is as sound as the chain.
///
/// On `PostgreSQL`, only for a session that reads the whole log (as [`truncation`]).
pub fn import_history(conn: &Store) -> Result<Option<String>> {
    if partial_view(conn)? {
        return Ok(None);
    }
    // Read whole before the checks query again (a stream holds PostgreSQL's connection);
    // one row per import batch.
    let imports = conn.query(
        "SELECT id, detail FROM audit WHERE action = 'import' ORDER BY id",
        vals![],
    )?;
    for r in imports {
        let (row, detail): (i64, Option<String>) = (r.get(0)?, r.get(1)?);
        let Some(batch) = super::batch_of("import", detail.as_deref()) else {
            continue;
        };
        let points: Option<Option<i64>> = conn
            .query_opt(
                "SELECT audit_id FROM import_batch WHERE id = ?",
                vals![batch],
            )?
            .map(|r| r.get(0))
            .transpose()?;
        let altered = match points {
            None => true,
            Some(Some(id)) => id != row,
            Some(None) => false, // a batch from before crm kept its audit row
        };
        let digest = detail
            .as_deref()
            .and_then(|d| d.split_once(crate::db::batch::digest::MARK))
            .map(|(_, h)| h.to_string());
        let changed = match (&digest, altered) {
            (_, true) => true,
            (Some(want), false) => crate::db::batch::digest::trail_digest(conn, batch)? != *want,
            (None, false) => false,
        };
        if changed {
            return Ok(Some(format!(
                "import batch {batch} (audit row {row}) no longer matches what was recorded: the import history was altered"
            )));
        }
    }
    Ok(None)
}

/// Everything wrong with the log, one phrase each; empty when it verifies.
pub fn problems(conn: &Store) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let missing = missing_triggers(conn)?;
    if !missing.is_empty() {
        out.push(format!(
            "its append-only protection is missing or altered (trigger {})",
            missing.join(", ")
        ));
    }
    if let Some(id) = chain_break(conn)? {
        out.push(format!("the hash chain breaks at row {id}"));
    }
    if let Some(t) = truncation(conn)? {
        out.push(t);
    }
    if let Some(t) = import_history(conn)? {
        out.push(t);
    }
    Ok(out)
}

/// Whether the log still holds the entry an anchor was taken from, unchanged. With the chain
/// intact this pins every row up to it: changing any of them changes its hash.
pub fn anchor_problem(conn: &Store, anchor: &Head) -> Result<Option<String>> {
    let hash: Option<String> = conn
        .query_opt("SELECT hash FROM audit WHERE id = ?", vals![anchor.id])?
        .map(|r| r.get(0))
        .transpose()?;
    Ok(match hash {
        None => Some(format!(
            "row {} of the anchor is gone: rows were deleted",
            anchor.id
        )),
        Some(h) if h != anchor.hash => Some(format!(
            "row {} no longer has the anchor's hash: the log up to it was rewritten",
            anchor.id
        )),
        Some(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_parse_as_head_prints_them() {
        let h = "A".repeat(64);
        assert_eq!(
            parse_anchor(&format!("12:{h}")).expect("valid"),
            Head {
                id: 12,
                hash: "a".repeat(64)
            }
        );
        for bad in [
            "12",
            "x:ab",
            "0:ab",
            &format!("12:{}", "g".repeat(64)),
            "12:abc",
        ] {
            assert!(parse_anchor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn trigger_names_come_from_crms_own_sql() {
        let names: Vec<&str> = TRIGGERS.iter().map(|s| trigger_name(s)).collect();
        assert_eq!(names, ["audit_no_update", "audit_no_delete"]);
    }
}
