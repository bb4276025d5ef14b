//! `crm import ENTITY FILE|-` (CSV or TSV into any entity, one transaction, every row
//! accounted for), `crm import history` and `crm import revert BATCH`.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::csvio::DateFormat;
use crate::db::bulk::{Key, Mode};
use crate::error::{Error, Result};
use crate::schema::Entity;

use super::import_run::{self, Opts};

pub fn command() -> Command {
    Command::new("import")
        .about("Import records from a CSV or TSV file; list and revert imports")
        .long_about(
            "Import records from a CSV or TSV file (or - for stdin) into an entity, in one transaction. \
             Headers match field names or labels in English or Chinese (case and surrounding spaces ignored); \
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
        .arg(Arg::new("file").required(true).value_name("FILE").help("CSV/TSV file, or - for stdin"))
        .arg(Arg::new("map").long("map").value_name("COLUMN=FIELD").action(ArgAction::Append).help("Map a column to a field (empty FIELD skips the column)"))
        .arg(Arg::new("key").long("key").value_name("FIELD").help("Unique field (or id) that finds existing records [default: the entity's key]"))
        .arg(Arg::new("mode").long("mode").value_name("MODE").value_parser(["insert", "upsert", "update"]).default_value("insert").help("insert new records, upsert (update or insert by --key), or update existing ones only"))
        .arg(Arg::new("on_error").long("on-error").value_name("WHAT").value_parser(["abort", "skip"]).default_value("abort").help("abort: write nothing when any row is bad; skip: write the good rows"))
        .arg(Arg::new("rejects").long("rejects").value_name("FILE").help("Write bad rows (original columns plus `error`) to FILE"))
        .arg(Arg::new("dry_run").long("dry-run").action(ArgAction::SetTrue).help("Check and count everything, write nothing"))
        .arg(Arg::new("encoding").long("encoding").value_name("ENC").value_parser(["auto", "utf-8", "gb18030"]).default_value("auto").help("Input encoding"))
        .arg(Arg::new("delimiter").long("delimiter").short('d').value_name("CHAR").help("Field separator [default: , or tab for .tsv/.tab files]"))
        .arg(Arg::new("date_format").long("date-format").value_name("FMT").help("Read ambiguous dates as dmy, mdy, or a pattern such as %d.%m.%Y"))
        .arg(Arg::new("ignore_unknown").long("ignore-unknown").action(ArgAction::SetTrue).help("Skip columns that match no field"))
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

fn delimiter(m: &ArgMatches, path: &str) -> Result<u8> {
    let Some(d) = m.get_one::<String>("delimiter") else {
        let tsv = std::path::Path::new(path)
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("tsv") || x.eq_ignore_ascii_case("tab"));
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
            if !f.unique {
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
    let opts = Opts {
        entity: e,
        delimiter: delimiter(m, &path)?,
        path,
        mode,
        key,
        maps,
        ignore_unknown: m.get_flag("ignore_unknown"),
        skip: m.get_one::<String>("on_error").is_some_and(|s| s == "skip"),
        rejects: m.get_one::<String>("rejects").map(std::path::PathBuf::from),
        dry_run: m.get_flag("dry_run"),
        encoding: m
            .get_one::<String>("encoding")
            .cloned()
            .unwrap_or_else(|| "auto".into()),
        dates: m
            .get_one::<String>("date_format")
            .map(|s| DateFormat::parse(s))
            .transpose()?,
    };
    import_run::run(ctx, &user.name, &opts)
}

fn unique_names(e: &Entity) -> String {
    let mut names: Vec<&str> = e
        .fields
        .iter()
        .filter(|f| f.unique)
        .map(|f| f.name)
        .collect();
    names.push("id");
    names.join(", ")
}
