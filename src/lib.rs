//! crm: a customer relationship management system for the terminal, on SQLite.
//! The library behind the `crm` binary, used by its tests and examples.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod context;
pub mod csvio;
pub mod db;
pub mod error;
pub mod output;
pub mod paths;
pub mod prompt;
pub mod render;
pub mod rules;
pub mod schema;

use crate::error::{Error, ErrorKind};

/// Parses the arguments and runs the command; returns the exit status.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    let matches = match cli::build().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return clap_error(&e),
    };
    let mut ctx = match context::Ctx::from_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            output::Output::new(output::Format::Table, false, "auto").error(&e);
            return e.kind.exit_code();
        }
    };
    let (name, sub) = matches.subcommand().expect("a subcommand is required");
    let cmd = cmd::COMMANDS
        .iter()
        .find(|c| c.name == name)
        .expect("every subcommand has a runner");
    match (cmd.run)(&mut ctx, sub) {
        Ok(()) => 0,
        Err(e) => {
            ctx.out.error(&e);
            e.kind.exit_code()
        }
    }
}

/// Clap's errors as one `error:` line and a hint; help and version go to stdout with status 0.
fn clap_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind as K;
    if matches!(
        e.kind(),
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let code = if e.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
            2
        } else {
            0
        };
        if code == 0 {
            let _ = output::write_stdout(e.render().to_string().as_bytes());
        } else {
            #[allow(clippy::print_stderr)]
            {
                eprint!("{}", e.render());
            }
        }
        return code;
    }
    let text = e.render().to_string();
    let first = text
        .lines()
        .next()
        .unwrap_or("error: bad arguments")
        .trim_start_matches("error: ")
        .to_string();
    let tip = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("tip: ").map(str::to_string));
    let mut err = Error::new(ErrorKind::Usage, first);
    err.hint = Some(tip.unwrap_or_else(|| "see `crm --help` or `crm COMMAND --help`".into()));
    output::Output::new(output::Format::Table, false, "never").error(&err);
    2
}
