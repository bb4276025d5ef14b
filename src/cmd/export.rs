//! `crm export ENTITY [-o FILE] [--where EXPR]… [--columns A,B]`: CSV (default), TSV, JSON
//! or JSONL, streamed from one read snapshot so memory stays flat; references written as the
//! referenced record's key; what it writes, `crm import` reads back unchanged.

use std::io::{BufWriter, Write};

use crate::db::Store;
use crate::schema::{Value, ValueRef};
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::csvio::needs_guard;
use crate::csvio::write::{AtomicFile, Gb18030, is_broken_pipe};
use crate::db::audit::{self, Entry};
use crate::db::bulk::export_rows;
use crate::db::query::Query;
use crate::error::{ErrorKind, Result};
use crate::output::Format;
use crate::schema::{Entity, Field, Kind};

pub fn command() -> Command {
    Command::new("export")
        .about("Export records as CSV, TSV, JSON or JSONL")
        .long_about(
            "Export an entity's records: CSV by default (--format tsv, json or jsonl for the others, or an \
             -o FILE ending in .tsv, .json or .jsonl), with a \
             header of the writable field names (with --lang zh, or CRM_LANG=zh, their Chinese labels, and choices \
             as their Chinese labels; JSON keeps names and stored values), references as the referenced record's key, so that `crm import` \
             reads the file back unchanged. Text a spreadsheet would run as a formula (starting with =, +, -, @, \
             tab, CR or LF) gets a leading apostrophe that import removes again; --raw writes values verbatim. \
             -o FILE writes a temp file (mode 0600) and renames it when complete, so a failed export leaves no \
             truncated file; an existing FILE is replaced only with --force. The rows come from one consistent \
             snapshot, streamed; while a reader that does not drain the pipe holds that snapshot, the database's \
             write-ahead log cannot be folded back and shrinks again after the export ends.",
        )
        .arg(Arg::new("entity").required(true).value_name("ENTITY").value_parser(super::EntityParser(None)))
        .arg(Arg::new("output").long("output").short('o').value_name("FILE").help("Write to FILE instead of stdout"))
        .arg(Arg::new("force").long("force").action(ArgAction::SetTrue).help("Replace FILE if it exists"))
        .arg(Arg::new("where").long("where").short('w').value_name("EXPR").action(ArgAction::Append).help("Filter, as in `crm find`"))
        .arg(Arg::new("columns").long("columns").value_name("A,B").help("Exactly these columns (id, created_at, updated_at allowed)"))
        .arg(Arg::new("bom").long("bom").action(ArgAction::SetTrue).help("Start with a byte order mark (for Excel)"))
        .arg(Arg::new("encoding").long("encoding").value_name("ENC").value_parser(["utf-8", "gb18030"]).default_value("utf-8").help("Output encoding (GB18030, never GBK: it cannot hold every character)"))
}

#[allow(clippy::struct_excessive_bools)] // independent switches of one export
struct Spec {
    format: Format,
    cols: Vec<&'static Field>,
    raw: bool,
    bom: bool,
    gb18030: bool,
    /// What the user sees masked (`mask::rows`); noted reveals are audited after.
    mask: std::cell::RefCell<Option<crate::mask::rows::RowMask>>,
    /// `--lang zh`: CSV/TSV headers are the Chinese labels and choices their Chinese labels
    /// (both of which import reads back). JSON keeps field names and stored values: it is
    /// for programs, and its keys are stable whatever the language.
    zh: bool,
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let entity = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    let user = ctx.authorize(Action::Export, Some(entity), None)?;
    let mut query = super::find::query_from(ctx, entity, m)?;
    let cols = match m.get_one::<String>("columns") {
        Some(list) => crate::render::pick_columns(entity, Some(list))?,
        None => entity.writable().collect(),
    };
    let mask = ctx.row_mask(entity, &cols, &mut query)?;
    let out = m.get_one::<String>("output").filter(|o| *o != "-");
    let spec = Spec {
        // A --format flag says; else the file's extension, as for import (`-o x.json` must
        // not be a CSV that `crm import customer x.json` then refuses, nor CRM_FORMAT=json,
        // set for a script's output, turn `-o x.csv` into JSON); else CRM_FORMAT; else CSV.
        format: match (ctx.out.format, out.and_then(|p| format_of(p))) {
            (f, Some(ext)) if !format_flag_given(m) || f == Format::Table => ext,
            (Format::Table, None) => Format::Csv,
            (f, _) => f,
        },
        cols,
        mask: std::cell::RefCell::new(mask),
        raw: ctx.out.raw,
        bom: m.get_flag("bom"),
        gb18030: m
            .get_one::<String>("encoding")
            .is_some_and(|s| s == "gb18030"),
        zh: ctx.g.zh,
    };
    // The overwrite rule, before any work (the audit row included).
    ctx.db()?;
    if let Some(p) = out {
        crate::outfile::check(std::path::Path::new(p), m.get_flag("force"))?;
    }
    audit_export(
        ctx,
        &user.name,
        entity,
        out.map_or("stdout", String::as_str),
    )?;
    let conn = &ctx.db()?.store;
    let result = match out {
        Some(path) => to_file(conn, &query, &spec, path, m.get_flag("force")),
        None => to_stdout(conn, &query, &spec),
    };
    match result {
        Ok(n) => {
            super::find::reveal_audit(ctx, spec.mask.borrow().as_ref())?;
            let to = out.map_or(String::new(), |p| format!(" to {p}"));
            ctx.out
                .msg(&format!("exported {n} {} records{to}", entity.name));
            Ok(())
        }
        // `crm export customer | head`: the reader has all it wanted; that is success.
        Err(err) if out.is_none() && is_broken_pipe(&err) => Ok(()),
        Err(err) => Err(err),
    }
}

/// The format a file name asks for by its extension (`.csv`, `.tsv`, `.json`, `.jsonl`).
fn format_of(path: &str) -> Option<Format> {
    let ext = std::path::Path::new(path)
        .extension()
        .map(|x| x.to_string_lossy().to_lowercase());
    match ext.as_deref() {
        Some("csv") => Some(Format::Csv),
        Some("tsv" | "tab") => Some(Format::Tsv),
        Some("json") => Some(Format::Json),
        Some("jsonl" | "ndjson") => Some(Format::Jsonl),
        _ => None,
    }
}

/// Whether `--format` was on the command line (not only `CRM_FORMAT`).
fn format_flag_given(m: &ArgMatches) -> bool {
    m.value_source("format") == Some(clap::parser::ValueSource::CommandLine)
}

/// Writes a temp file beside `path` and renames it into place once complete.
fn to_file(conn: &Store, q: &Query, spec: &Spec, path: &str, force: bool) -> Result<u64> {
    let file = AtomicFile::create(std::path::Path::new(path), force)?;
    if spec.gb18030 {
        let mut w = Gb18030::new(file);
        let n = stream(conn, q, spec, &mut w)?;
        w.into_inner()?.commit()?;
        Ok(n)
    } else {
        let mut file = file;
        let n = stream(conn, q, spec, &mut file)?;
        file.commit()?;
        Ok(n)
    }
}

fn to_stdout(conn: &Store, q: &Query, spec: &Spec) -> Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 18, std::io::stdout().lock());
    let n = if spec.gb18030 {
        let mut g = Gb18030::new(&mut w);
        let n = stream(conn, q, spec, &mut g)?;
        g.into_inner()?;
        n
    } else {
        stream(conn, q, spec, &mut w)?
    };
    w.flush()?;
    Ok(n)
}

/// One audit row per export, written before it starts; skipped on a read-only database.
fn audit_export(ctx: &mut Ctx, user: &str, e: &Entity, to: &str) -> Result<()> {
    let db = ctx.db()?;
    let res = db.write().and_then(|tx| {
        audit::log(
            &tx,
            &[Entry {
                user: Some(user),
                action: "export",
                entity: Some(e.name),
                detail: Some(format!("to {to}")),
                ..Entry::default()
            }],
        )?;
        tx.commit()
    });
    match res {
        Err(err) if err.kind == ErrorKind::Storage && err.message.contains("read-only") => Ok(()),
        other => other,
    }
}

fn text_of(v: ValueRef) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

/// The Chinese label of a stored choice (the stored value if it has none).
fn choice_zh(kind: Kind, stored: &[u8]) -> &[u8] {
    match kind {
        Kind::Choice(choices) => choices
            .iter()
            .find(|(v, _)| v.as_bytes() == stored)
            .map_or(stored, |(_, zh)| zh.as_bytes()),
        _ => stored,
    }
}

/// The export's rows, masked as the user sees them (the mask's extra columns dropped).
fn rows(
    conn: &Store,
    q: &Query,
    s: &Spec,
    mut f: impl FnMut(&[ValueRef]) -> Result<()>,
) -> Result<u64> {
    let mut mask = s.mask.borrow_mut();
    let Some(mask) = mask.as_mut() else {
        return export_rows(conn, q, &s.cols, f);
    };
    let cols = mask.columns(&s.cols);
    export_rows(conn, q, &cols, |row| {
        let masked = mask.apply_refs(&s.cols, row);
        let shown: Vec<ValueRef> = row
            .iter()
            .zip(&masked)
            .map(|(v, m)| m.as_ref().map_or(*v, |t| ValueRef::Text(t.as_bytes())))
            .collect();
        f(&shown)
    })
}

fn stream(conn: &Store, q: &Query, s: &Spec, w: &mut dyn Write) -> Result<u64> {
    if s.bom {
        w.write_all("\u{FEFF}".as_bytes())?;
    }
    match s.format {
        Format::Json | Format::Jsonl => {
            let json = s.format == Format::Json;
            if json {
                w.write_all(b"[")?;
            }
            let mut first = true;
            let n = rows(conn, q, s, |row| {
                let obj: serde_json::Map<String, serde_json::Value> = s
                    .cols
                    .iter()
                    .zip(row)
                    .map(|(f, v)| (f.name.to_string(), f.kind.to_json(&text_of(*v))))
                    .collect();
                if json {
                    w.write_all(if first { b"\n  " } else { b",\n  " })?;
                }
                first = false;
                serde_json::to_writer(&mut *w, &obj)?;
                if !json {
                    w.write_all(b"\n")?;
                }
                Ok(())
            })?;
            if json {
                w.write_all(if first { b"]\n" } else { b"\n]\n" })?;
            }
            Ok(n)
        }
        _ => {
            let delim = if s.format == Format::Tsv { b'\t' } else { b',' };
            let mut cw = csv::WriterBuilder::new()
                .delimiter(delim)
                .buffer_capacity(1 << 16)
                .from_writer(w);
            cw.write_record(s.cols.iter().map(|f| if s.zh { f.zh } else { f.name }))?;
            let mut scratch = String::new();
            let n = rows(conn, q, s, |row| {
                for (f, v) in s.cols.iter().zip(row) {
                    match *v {
                        ValueRef::Null => cw.write_field(b"")?,
                        ValueRef::Text(t) if s.zh && matches!(f.kind, Kind::Choice(_)) => {
                            cw.write_field(choice_zh(f.kind, t))?;
                        }
                        ValueRef::Text(t) => {
                            let guard = !s.raw
                                && std::str::from_utf8(t).is_ok_and(|st| needs_guard(f.kind, st));
                            if guard {
                                scratch.clear();
                                scratch.push('\'');
                                scratch.push_str(std::str::from_utf8(t).expect("checked"));
                                cw.write_field(scratch.as_bytes())?;
                            } else {
                                cw.write_field(t)?;
                            }
                        }
                        other => cw.write_field(f.kind.format(&text_of(other)).as_bytes())?,
                    }
                }
                cw.write_record(None::<&[u8]>)?;
                Ok(())
            })?;
            cw.flush()?;
            Ok(n)
        }
    }
}
