//! `crm check`: the database's health — integrity, foreign keys, the audit hash chain, the
//! audit log's append-only triggers and the journal mode — with exit 9 and one clear line
//! when anything fails.

use clap::{ArgMatches, Command};
use serde_json::Value as J;

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::{Store, maintain};
use crate::error::{Error, Result};
use crate::output::Column;

pub fn command() -> Command {
    Command::new("check")
        .about("Check the database: integrity, foreign keys, audit log, WAL mode")
        .long_about(
            "Check the database: PRAGMA integrity_check, PRAGMA foreign_key_check, the audit log's \
             hash chain (and rows missing from its ends), its append-only triggers, that credit codes are unique \
             (the index is made once customers sharing one are resolved) and the journal \
             mode (WAL). Prints one row per check; exits 9 when any \
             fails. crm never repairs by deleting: restore a backup (`crm restore FILE`). Admin and manager.",
        )
}

/// One check's result: name, passed, detail.
type Outcome = (&'static str, bool, String);

/// Runs every check on an open connection.
pub fn checks(conn: &Store) -> Result<Vec<Outcome>> {
    if !conn.is_sqlite() {
        return server_checks(conn);
    }
    let mut out = Vec::new();
    // A badly damaged page can make integrity_check itself fail: that is its answer too.
    match maintain::integrity(conn) {
        Ok(lines) => {
            let ok = lines.len() == 1 && lines[0] == "ok";
            out.push(("integrity", ok, lines.join("; ")));
        }
        Err(e) => out.push(("integrity", false, e.message)),
    }
    let fk = maintain::broken_references(conn)?;
    out.push((
        "foreign_keys",
        fk.is_empty(),
        if fk.is_empty() {
            "ok".into()
        } else {
            format!("{} broken: {}", fk.len(), fk.join("; "))
        },
    ));
    audit_checks(conn, &mut out)?;
    out.push(search_index(conn));
    out.push(credit_codes(conn));
    let mode = maintain::journal_mode(conn)?;
    if maintain::is_read_only(conn) {
        // Opened read-only (a read-only mount): the connection's journal mode is not the
        // file's; the file itself says whether it is in WAL mode.
        let wal = maintain::file_in_wal_mode(conn);
        out.push((
            "journal_mode",
            wal != Some(false),
            match wal {
                Some(true) => "wal (read-only: checked without writing)".into(),
                Some(false) => format!("{mode} (read-only file, not in WAL mode)"),
                None => "read-only: checked without writing".into(),
            },
        ));
    } else {
        out.push(("journal_mode", mode.eq_ignore_ascii_case("wal"), mode));
    }
    Ok(out)
}

/// The audit log's chain, its ends, the import history and its append-only triggers.
fn audit_checks(conn: &Store, out: &mut Vec<Outcome>) -> Result<()> {
    // The chain, rows missing from its ends as crm's own records tell, and the import
    // history the chain covers through each batch's row.
    let chain = match crate::db::audit::chain_break(conn)? {
        Some(id) => Some(format!("the hash chain breaks at row {id}")),
        None => match crate::db::audit::truncation(conn)? {
            Some(t) => Some(t),
            None => crate::db::audit::import_history(conn)?,
        },
    };
    out.push(match chain {
        None => ("audit_chain", true, "ok".into()),
        Some(why) => ("audit_chain", false, why),
    });
    // Opening refuses triggers crm did not create; this finds crm's own taken away.
    let missing = crate::db::audit::missing_triggers(conn)?;
    out.push(if missing.is_empty() {
        ("audit_triggers", true, "ok".into())
    } else {
        (
            "audit_triggers",
            false,
            format!(
                "the audit log is not append-only: trigger {} missing or altered",
                missing.join(", ")
            ),
        )
    });
    Ok(())
}

/// On a server: the schema version, the server's own constraints (always enforced there),
/// the audit log, and row-level security on every table that needs it.
/// Whether the search index holds what the records say (`db::search::stale`).
fn search_index(conn: &Store) -> Outcome {
    // A damaged file can make the index unreadable: that is its answer too.
    match crate::db::search::stale(conn) {
        Ok(stale) if stale.is_empty() => ("search_index", true, "ok".into()),
        Ok(stale) => ("search_index", false, stale.join("; ")),
        Err(e) => ("search_index", false, e.message),
    }
}

/// Whether `credit_code` is unique (`db::credit_unique`): an upgrade that found customers
/// sharing one left the index out; they are listed until resolved, and then the index is
/// made here.
fn credit_codes(conn: &Store) -> Outcome {
    use crate::db::credit_unique;
    let name = "credit_code_unique";
    let res = (|| {
        if credit_unique::present(conn)? {
            return Ok((name, true, "ok".to_string()));
        }
        let dups = credit_unique::duplicates(conn)?;
        if !dups.is_empty() {
            return Ok((
                name,
                false,
                format!(
                    "{} credit codes are held by several customers: {} (merge or correct them, then run crm check)",
                    dups.len(),
                    credit_unique::describe(&dups)
                ),
            ));
        }
        if conn.is_sqlite() && maintain::is_read_only(conn) {
            return Ok((
                name,
                false,
                "the unique index is missing (read-only: not made)".into(),
            ));
        }
        credit_unique::ensure(conn)?;
        Ok((name, true, "ok (the unique index was made)".into()))
    })();
    res.unwrap_or_else(|e: Error| (name, false, e.message))
}

fn server_checks(conn: &Store) -> Result<Vec<Outcome>> {
    let mut out = Vec::new();
    let (at, known) = crate::db::server::schema_version(conn)?;
    out.push((
        "schema_version",
        at == known,
        if at == known {
            format!("{at}")
        } else {
            format!("{at}, this crm writes {known}")
        },
    ));
    audit_checks(conn, &mut out)?;
    out.push(search_index(conn));
    out.push(credit_codes(conn));
    let open = crate::db::server::unprotected_tables(conn)?;
    out.push(if open.is_empty() {
        ("row_security", true, "ok".into())
    } else {
        (
            "row_security",
            false,
            format!("row-level security missing on {}", open.join(", ")),
        )
    });
    Ok(out)
}

pub fn run(ctx: &mut Ctx, _m: &ArgMatches) -> Result<()> {
    ctx.authorize(Action::Maintain, None, None)?;
    let results = checks(&ctx.db()?.store)?;
    let cols: Vec<Column> = ["check", "ok", "detail"]
        .iter()
        .map(|k| Column {
            key: (*k).into(),
            header: (*k).into(),
        })
        .collect();
    let rows: Vec<Vec<J>> = results
        .iter()
        .map(|(n, ok, d)| vec![J::from(*n), J::Bool(*ok), J::from(d.as_str())])
        .collect();
    ctx.out.rows(&cols, &rows)?;
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, ok, _)| !ok)
        .map(|(n, _, d)| format!("{n}: {d}"))
        .collect();
    if failed.is_empty() {
        ctx.out.msg("database ok");
        return Ok(());
    }
    Err(Error::storage(format!(
        "{} failed the check: {}",
        ctx.g.db.display(),
        failed.join("; ")
    ))
    .hint("restore a backup; crm never repairs by deleting"))
}
