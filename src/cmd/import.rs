//! `crm import ENTITY FILE|-` (CSV or TSV into any entity, one transaction, every row
//! accounted for), `crm import history` and `crm import revert BATCH`.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::csvio::DateFormat;
use crate::db::bulk::{Key, Mode};
use crate::error::{Error, Result};
use crate::roles::Role;
use crate::schema::Entity;
use crate::schema::kinds::phones::Region;

use super::import_run::{self, InFormat, Opts};
use crate::output::Format;

pub fn command() -> Command {
    Command::new("import")
        .about("Import records from a CSV, TSV, JSON or JSONL file; list and revert imports")
        .long_about(
            "Import records from a CSV, TSV, JSON (an array of objects) or JSONL file (or - for stdin) into an entity, \
             in one transaction. The format is the file's extension (.csv, .tsv, .json, .jsonl), else --format \
             csv|tsv|json|jsonl, else CSV: what `crm export` writes in each format reads back. \
             Headers (JSON keys) match field names, labels in English or Chinese, or common synonyms such as 统一社会信用代码 \
             or 手机号 (case and surrounding spaces ignored); choices may be given by their Chinese labels; \
             --map COLUMN=FIELD maps others (--map COLUMN= skips one). The encoding is detected (byte order mark, \
             then strict UTF-8, then GB18030) and reported. With --on-error abort (the default) any bad row \
             means nothing is written and every bad row is reported; with skip the good rows are written and \
             the bad ones go to --rejects FILE (their original columns plus `error`). Either way, inserted + \
             updated + unchanged + rejected = rows read, and the exit status is 4 when any row was rejected. \
             Every import is recorded as a batch: `crm import history` lists them, `crm import revert BATCH` \
             undoes one (deleting what it inserted, restoring what it updated) unless those records changed since.",
        )
        .args_conflicts_with_subcommands(true)
        .subcommand_negates_reqs(true)
        .arg(Arg::new("entity").required(true).value_name("ENTITY").value_parser(super::EntityParser(None)).help("The entity to import into"))
        .arg(Arg::new("file").required(true).value_name("FILE").help("CSV/TSV/JSON/JSONL file, or - for stdin"))
        .arg(Arg::new("map").long("map").value_name("COLUMN=FIELD").action(ArgAction::Append).help("Map a column to a field (empty FIELD skips the column)"))
        .arg(Arg::new("key").long("key").value_name("FIELD").help("Unique field (or id) that finds existing records, or a field matched normalised (customer: name, phone, email; contact: mobile, email; lead: phone, email, company) [default: the entity's key]"))
        .arg(Arg::new("dedupe").long("dedupe").action(ArgAction::SetTrue).help("Reject a row that matches an existing record or an earlier row by credit code, phone, e-mail or normalised name (see `crm dedupe`)"))
        .arg(Arg::new("mode").long("mode").value_name("MODE").value_parser(["insert", "upsert", "update"]).default_value("insert").help("insert new records, upsert (update or insert by --key), or update existing ones only"))
        .arg(Arg::new("on_error").long("on-error").value_name("WHAT").value_parser(["abort", "skip"]).default_value("abort").help("abort: write nothing when any row is bad; skip: write the good rows"))
        .arg(Arg::new("rejects").long("rejects").value_name("FILE").help("Write bad rows (original columns plus `error`) to FILE"))
        .arg(Arg::new("force").long("force").action(ArgAction::SetTrue).help("Replace the --rejects FILE if it exists"))
        .arg(Arg::new("dry_run").long("dry-run").action(ArgAction::SetTrue).help("Check and count everything, write nothing"))
        .arg(Arg::new("encoding").long("encoding").value_name("ENC").value_parser(["auto", "utf-8", "gb18030"]).default_value("auto").help("Input encoding"))
        .arg(Arg::new("delimiter").long("delimiter").short('d').value_name("CHAR").help("Field separator [default: , or tab for .tsv/.tab files]"))
        .arg(Arg::new("date_format").long("date-format").value_name("FMT").help("Read ambiguous dates as dmy, mdy, or a pattern such as %d.%m.%Y"))
        .arg(Arg::new("phone_region").long("phone-region").value_name("CC").help("Read phones without a country code in this region (ISO code such as US) [default: the setting phone.region, CN]"))
        .arg(Arg::new("keep_times").long("keep-times").action(ArgAction::SetTrue).help("Historical import (admin, manager): take created_at on insert and the history fields closed_at, resolved_at, last_contacted_at from the file (not in the future, not before created_at)"))
        .arg(Arg::new("ignore_unknown").long("ignore-unknown").action(ArgAction::SetTrue).help("Skip columns that match no field (each one is named)"))
        .subcommand(
            Command::new("history")
                .about("List import batches, newest first")
                .arg(Arg::new("entity").long("entity").value_name("ENTITY").help("Only batches of this entity"))
                .arg(Arg::new("limit").long("limit").value_name("N").value_parser(clap::value_parser!(i64).range(1..)).default_value("50")),
        )
        .subcommand(
            Command::new("revert")
                .about("Undo an import batch: delete what it inserted, restore what it updated")
                .arg(Arg::new("batch").required(true).value_name("BATCH").value_parser(clap::value_parser!(i64)).help("Batch number from `crm import history`")),
        )
}

/// The file's format: its extension when it names one (`.csv`, `.tsv`, `.json`, `.jsonl`),
/// else `--format csv|tsv|json|jsonl`, else CSV. The extension comes first because
/// `--format json` also asks for the summary as JSON (`import x.csv --format json`).
/// Returns the format and whether it is TSV.
fn in_format(ctx: &Ctx, path: &str) -> (InFormat, bool) {
    let ext = std::path::Path::new(path)
        .extension()
        .map(|x| x.to_string_lossy().to_lowercase());
    match ext.as_deref() {
        Some("csv") => (InFormat::Csv, false),
        Some("tsv" | "tab") => (InFormat::Csv, true),
        Some("json") => (InFormat::Json, false),
        Some("jsonl" | "ndjson") => (InFormat::Jsonl, false),
        // A JSON format from the flag (or CRM_FORMAT) may also just want a JSON summary of a
        // CSV on stdin: the reader checks the first character before trusting it.
        _ => match ctx.out.format {
            Format::Json => (InFormat::JsonOrCsv, false),
            Format::Jsonl => (InFormat::JsonlOrCsv, false),
            Format::Tsv => (InFormat::Csv, true),
            Format::Csv | Format::Table => (InFormat::Csv, false),
        },
    }
}

fn delimiter(m: &ArgMatches, tsv: bool) -> Result<u8> {
    let Some(d) = m.get_one::<String>("delimiter") else {
        return Ok(if tsv { b'\t' } else { b',' });
    };
    match d.as_str() {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(
            Error::usage(format!("--delimiter '{d}' is not one ASCII character"))
                .hint("for example --delimiter ';' or --delimiter tab"),
        ),
    }
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    match m.subcommand() {
        Some(("history", sub)) => return super::import_batch::history(ctx, sub),
        Some(("revert", sub)) => return super::import_batch::revert(ctx, sub),
        _ => {}
    }
    let e = Entity::get(m.get_one::<String>("entity").expect("required"))?;
    let user = ctx.authorize(Action::Import, Some(e), None)?;
    if m.get_flag("keep_times") && !matches!(user.role, Role::Admin | Role::Manager) {
        return Err(Error::denied(format!(
            "role {} may not import history (--keep-times is for admin and manager)",
            user.role.as_str()
        )));
    }
    let path = m.get_one::<String>("file").expect("required").clone();
    let mode = match m.get_one::<String>("mode").map(String::as_str) {
        Some("upsert") => Mode::Upsert,
        Some("update") => Mode::Update,
        _ => Mode::Insert,
    };
    let key = match m.get_one::<String>("key") {
        Some(k) if k.trim() == "id" => Some(Key::Id),
        Some(k) => {
            let f = e.field(k)?;
            if !f.unique && crate::dedupe::rule_for_field(e.name, f.name).is_none() {
                return Err(Error::usage(format!(
                    "--key {k}: {} {} is not a unique field",
                    e.name, f.name
                ))
                .hint(format!("unique fields of {}: {}", e.name, unique_names(e))));
            }
            Some(Key::Field(f))
        }
        None => e
            .key
            .map(|k| Key::Field(e.field(k).expect("the key is a field"))),
    };
    if mode != Mode::Insert && key.is_none() {
        return Err(Error::usage(format!(
            "--mode {} needs --key: {} has no key field",
            mode.name(),
            e.name
        ))
        .hint(format!("pass --key id or one of: {}", unique_names(e))));
    }
    let mut maps = Vec::new();
    for spec in m.get_many::<String>("map").into_iter().flatten() {
        let (col, field) = spec
            .split_once('=')
            .ok_or_else(|| Error::usage(format!("--map '{spec}' is not COLUMN=FIELD")))?;
        if !field.trim().is_empty() && field.trim() != "id" {
            e.field(field)?;
        }
        maps.push((col.to_string(), field.to_string()));
    }
    let rejects = m.get_one::<String>("rejects").map(std::path::PathBuf::from);
    let force = m.get_flag("force");
    files_first(ctx, &path, rejects.as_deref(), force)?;
    let (format, tsv) = in_format(ctx, &path);
    let opts = Opts {
        entity: e,
        format,
        delimiter: delimiter(m, tsv)?,
        path,
        mode,
        key,
        maps,
        ignore_unknown: m.get_flag("ignore_unknown"),
        skip: m.get_one::<String>("on_error").is_some_and(|s| s == "skip"),
        rejects,
        force,
        dry_run: m.get_flag("dry_run"),
        encoding: m
            .get_one::<String>("encoding")
            .cloned()
            .unwrap_or_else(|| "auto".into()),
        dates: m
            .get_one::<String>("date_format")
            .map(|s| DateFormat::parse(s))
            .transpose()?,
        region: match m.get_one::<String>("phone_region") {
            Some(r) => {
                Region::parse(r).map_err(|why| Error::usage(format!("--phone-region: {why}")))?
            }
            None => Region::current(),
        },
        keep_times: m.get_flag("keep_times"),
        dedupe: m.get_flag("dedupe"),
    };
    if opts.dedupe && crate::dedupe::rules(e.name).is_empty() {
        return Err(
            Error::usage(format!("--dedupe: {} has no duplicate rules", e.name))
                .hint("--dedupe works on customer, contact and lead"),
        );
    }
    import_run::run(ctx, &user.name, &opts)
}

fn unique_names(e: &Entity) -> String {
    let mut names: Vec<&str> = e
        .fields
        .iter()
        .filter(|f| f.unique)
        .map(|f| f.name)
        .collect();
    for r in crate::dedupe::rules(e.name) {
        if !r.similar && !names.contains(&r.field) {
            names.push(r.field);
        }
    }
    names.push("id");
    names.join(", ")
}

/// The files, before any work: the input exists and is protected from every write, and the
/// rejects target obeys the overwrite rule (`crate::outfile`).
fn files_first(
    ctx: &mut Ctx,
    input: &str,
    rejects: Option<&std::path::Path>,
    force: bool,
) -> Result<()> {
    ctx.db()?;
    crate::csvio::decode::check_input(input)?;
    let Some(r) = rejects else { return Ok(()) };
    let target = crate::outfile::check(r, force)?;
    if target == crate::outfile::Target::Stdout && ctx.out.format == crate::output::Format::Json {
        return Err(
            Error::usage("--rejects - and --format json would both write to stdout")
                .hint("name a rejects file"),
        );
    }
    Ok(())
}
