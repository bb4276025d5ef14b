//! The clap command tree: global flags here, each subcommand's definition in its own
//! `cmd/` file, entity flags generated from the registry.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::cmd::{COMMANDS, Run};
use crate::context::Ctx;
use crate::error::Result;

/// The whole `crm` command, as parsing, `--help`, man pages and completions see it.
pub fn build() -> Command {
    let mut cmd = Command::new("crm")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A customer relationship management system for the terminal, on SQLite")
        .long_about(
            "crm keeps customers, contacts, leads, opportunities, quotes, orders, contracts, follow-ups, \
             service tickets and campaigns in one SQLite file. Every operation is a subcommand that a person \
             can type and a shell script can rely on: tables for people, JSON and CSV for scripts, and an \
             exit status that tells the truth (0 ok, 2 usage, 3 not found, 4 invalid, 5 conflict, 6 auth, \
             7 denied, 8 busy, 9 storage).",
        )
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(Arg::new("db").long("db").global(true).help_heading("Global options").value_name("PATH").env("CRM_DB").hide_env_values(true).help("Database file [default: $XDG_DATA_HOME/crm/crm.db]"))
        .arg(
            Arg::new("format")
                .long("format")
                .global(true).help_heading("Global options")
                .value_name("FORMAT")
                .env("CRM_FORMAT").hide_env_values(true)
                .value_parser(["table", "json", "csv", "tsv", "jsonl"])
                .help("Output format"),
        )
        .arg(Arg::new("quiet").short('q').long("quiet").global(true).help_heading("Global options").action(ArgAction::SetTrue).help("Silence messages and progress"))
        .arg(
            Arg::new("color")
                .long("color")
                .global(true).help_heading("Global options")
                .value_name("WHEN")
                .value_parser(["auto", "always", "never"])
                .help("Colour output [default: auto; NO_COLOR is honoured]"),
        )
        .arg(Arg::new("raw").long("raw").global(true).help_heading("Global options").action(ArgAction::SetTrue).help("CSV/TSV values verbatim: no apostrophe before formula-like text"))
        .arg(Arg::new("reveal").long("reveal").global(true).help_heading("Global options").action(ArgAction::SetTrue).help("Show masked values (roles in mask.reveal_roles; audited)"))
        .arg(Arg::new("no_input").long("no-input").global(true).help_heading("Global options").action(ArgAction::SetTrue).help("Never prompt; a missing value is an error"))
        .arg(
            Arg::new("busy_timeout")
                .long("busy-timeout")
                .global(true).help_heading("Global options")
                .value_name("SECS")
                .value_parser(clap::value_parser!(f64))
                .help("How long to wait for a locked database [default: 5]"),
        )
        .arg(
            Arg::new("key_file")
                .long("key-file")
                .global(true).help_heading("Global options")
                .value_name("FILE")
                .help("Key of an encrypted database: the first line of FILE (mode 0600); else CRM_DB_KEY, else asked"),
        )
        .arg(
            Arg::new("lang")
                .long("lang")
                .global(true).help_heading("Global options")
                .value_name("LANG")
                .env("CRM_LANG").hide_env_values(true)
                .value_parser(["en", "zh"])
                .help("Language of table headers and labels (en, zh)"),
        );
    for c in COMMANDS {
        cmd = cmd.subcommand(crate::help_examples::attach((c.command)()));
    }
    cmd
}

/// Runs the subcommand `matches` names; those that describe the command line (completions,
/// man pages) get the tree built here, so the dependency points one way: `cli` → `cmd`.
pub fn dispatch(ctx: &mut Ctx, matches: &ArgMatches) -> Result<()> {
    let (name, sub) = matches.subcommand().expect("a subcommand is required");
    let cmd = COMMANDS
        .iter()
        .find(|c| c.name == name)
        .expect("every subcommand has a runner");
    match cmd.run {
        Run::Plain(run) => run(ctx, sub),
        Run::WithTree(run) => run(ctx, sub, build()),
    }
}
