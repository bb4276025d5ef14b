//! crm: a customer relationship management system for the terminal, on `SQLite`.
//! The library behind the `crm` binary, used by its tests and examples.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod context;
pub mod csvio;
pub mod db;
pub mod dbkey;
pub mod dedupe;
pub mod error;
pub mod help_examples;
pub mod mask;
pub mod names;
pub mod outfile;
pub mod output;
pub mod paths;
pub mod period;
pub mod prompt;
pub mod render;
pub mod report;
pub mod roles;
pub mod rules;
pub mod schema;
pub mod search;
pub mod settings;

use crate::error::{Error, ErrorKind};

/// Parses the arguments and runs the command; returns the exit status.
// Taken by value as `main` has them; parsed twice when custom fields' flags need it.
#[allow(clippy::needless_pass_by_value)]
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    let json = wants_json(&args);
    let color = color_choice(&args);
    let matches = match cli::build().try_get_matches_from(&args) {
        Ok(m) => m,
        // A custom field's flag is known once the database's fields are loaded: parse again.
        // And `crm add customer --help` lists them.
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::UnknownArgument | clap::error::ErrorKind::DisplayHelp
            ) =>
        {
            match with_custom_fields(&args) {
                Some(Ok(m)) => m,
                Some(Err(e2)) => return clap_error(&e2, json, &color),
                None => return clap_error(&e, json, &color),
            }
        }
        Err(e) => return clap_error(&e, json, &color),
    };
    let mut ctx = match context::Ctx::from_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let format = if json {
                output::Format::Json
            } else {
                output::Format::Table
            };
            output::Output::new(format, false, &color).error(&e);
            return e.kind.exit_code();
        }
    };
    if takes_registry(&matches) {
        ctx.preload();
    }
    match cli::dispatch(&mut ctx, &matches) {
        Ok(()) => 0,
        Err(e) => {
            ctx.out.error(&e);
            e.kind.exit_code()
        }
    }
}

/// Whether the command reads the registry of an existing database (all but those that make,
/// enter or describe one), so that database's custom fields are loaded first.
fn takes_registry(m: &clap::ArgMatches) -> bool {
    !matches!(
        m.subcommand_name(),
        Some("init" | "demo" | "login" | "logout" | "completions" | "generate-man")
    )
}

/// The arguments parsed again after loading the database's custom fields (None: the
/// database has none, or cannot be opened, and the first error stands).
fn with_custom_fields(
    args: &[std::ffi::OsString],
) -> Option<std::result::Result<clap::ArgMatches, clap::Error>> {
    // Without --help, which would stop this first parse before the database is known.
    let plain = args.iter().filter(|a| *a != "--help" && *a != "-h");
    let loose = cli::build()
        .ignore_errors(true)
        .try_get_matches_from(plain)
        .ok()?;
    if !takes_registry(&loose) {
        return None;
    }
    let mut ctx = context::Ctx::from_matches(&loose).ok()?;
    ctx.db().ok()?;
    if !crate::schema::all()
        .iter()
        .any(|e| e.fields.iter().any(|f| f.custom))
    {
        return None;
    }
    Some(cli::build().try_get_matches_from(args))
}

/// Clap's errors as one `error:` line and a hint; help and version go to stdout with status 0.
fn clap_error(e: &clap::Error, json: bool, color: &str) -> i32 {
    use clap::error::ErrorKind as K;
    if matches!(
        e.kind(),
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        if e.kind() != K::DisplayHelpOnMissingArgumentOrSubcommand {
            let _ = output::write_stdout(e.render().to_string().as_bytes());
            return 0;
        }
        #[allow(clippy::print_stderr)]
        {
            eprint!("{}", e.render());
        }
        return 2;
    }
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first = lines
        .next()
        .unwrap_or("error: bad arguments")
        .trim_start_matches("error: ")
        .to_string();
    let rest: Vec<&str> = lines
        .filter(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .collect();
    // "the following required arguments were not provided:" lists them on the next lines.
    let mut i = 0;
    if first.ends_with(':') {
        while i < rest.len() && !rest[i].starts_with("tip:") && !rest[i].starts_with('[') {
            first.push(' ');
            first.push_str(rest[i]);
            i += 1;
        }
    }
    let hint = rest[i..]
        .iter()
        .find_map(|l| {
            l.strip_prefix("tip: ").map(str::to_string).or_else(|| {
                l.strip_prefix('[')
                    .and_then(|v| v.strip_suffix(']'))
                    .map(str::to_string)
            })
        })
        .map(|h| without_hidden(&h))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "see `crm --help` or `crm COMMAND --help`".into());
    let err = Error::new(ErrorKind::Usage, first).hint(hint);
    let format = if json {
        output::Format::Json
    } else {
        output::Format::Table
    };
    output::Output::new(format, false, color).error(&err);
    2
}

/// A "similar subcommands" hint without the hidden ones (`generate-man` is for packagers, not
/// a suggestion); empty when none is left.
fn without_hidden(hint: &str) -> String {
    let Some((head, list)) = hint.split_once(": ") else {
        return hint.to_string();
    };
    if !head.contains("similar subcommand") {
        return hint.to_string();
    }
    let cli = cli::build();
    let hidden = |name: &str| {
        cli.get_subcommands()
            .any(|c| c.is_hide_set() && c.get_name() == name.trim_matches('\''))
    };
    let kept: Vec<&str> = list.split(", ").filter(|n| !hidden(n)).collect();
    match kept.len() {
        0 => String::new(),
        1 => format!("a similar subcommand exists: {}", kept[0]),
        _ => format!("some similar subcommands exist: {}", kept.join(", ")),
    }
}

/// Whether `--format json` was asked for, read from the raw arguments (for errors that clap
/// raises before the flags are parsed).
/// The `--color` choice (the last one given), read from the raw arguments: errors found before
/// or while parsing them are coloured as every other error is.
fn color_choice(args: &[std::ffi::OsString]) -> String {
    let mut it = args.iter().filter_map(|a| a.to_str());
    let mut color = "auto".to_string();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--color" {
            if let Some(v) = it.next() {
                color = v.to_string();
            }
        } else if let Some(v) = a.strip_prefix("--color=") {
            color = v.to_string();
        }
    }
    color
}

fn wants_json(args: &[std::ffi::OsString]) -> bool {
    let mut it = args.iter().filter_map(|a| a.to_str());
    let mut json = std::env::var("CRM_FORMAT").is_ok_and(|f| f == "json");
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--format" {
            json = it.next() == Some("json");
        } else if let Some(v) = a.strip_prefix("--format=") {
            json = v == "json";
        }
    }
    json
}
