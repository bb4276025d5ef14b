//! Terminal prompts (dialoguer for fields, rpassword for passwords), used only when the
//! context says stdin and stderr are terminals; scripts never reach this module.

use std::io::BufRead;

use dialoguer::{Input, Select, theme::SimpleTheme};
use rusqlite::Connection;

use crate::context::Ctx;
use crate::db::records::parse_value;
use crate::error::{Error, Result};
use crate::schema::{Field, Kind};

fn io_err(e: impl std::fmt::Display) -> Error {
    Error::new(
        crate::error::ErrorKind::Interrupted,
        format!("prompt ended: {e}"),
    )
}

/// Asks for one field until the answer is valid; `current` is offered as the default.
pub fn field(
    conn: &Connection,
    f: &Field,
    current: Option<String>,
) -> Result<rusqlite::types::Value> {
    let label = format!("{} {}{}", f.en, f.zh, if f.required { " *" } else { "" });
    if let Kind::Choice(choices) = f.kind {
        let mut items: Vec<String> = choices.iter().map(|(v, zh)| format!("{v}  {zh}")).collect();
        if !f.required {
            items.push("(none)".into());
        }
        // An empty optional field stays empty when the user just presses Enter.
        let default = match current.as_deref() {
            Some(c) => choices.iter().position(|(v, _)| *v == c).unwrap_or(0),
            None if !f.required => items.len() - 1,
            None => 0,
        };
        let pick = Select::with_theme(&SimpleTheme)
            .with_prompt(label)
            .items(&items)
            .default(default)
            .interact()
            .map_err(io_err)?;
        return Ok(choices
            .get(pick)
            .map_or(rusqlite::types::Value::Null, |(v, _)| {
                rusqlite::types::Value::Text((*v).to_string())
            }));
    }
    loop {
        let mut input = Input::<String>::with_theme(&SimpleTheme)
            .with_prompt(&label)
            .allow_empty(!f.required);
        if let Some(c) = &current {
            input = input.default(c.clone());
        }
        let text = input.interact_text().map_err(io_err)?;
        match parse_value(conn, f, &text) {
            Ok(v) if f.required && v == rusqlite::types::Value::Null => {
                crate::output::eprint_line(&format!("{} is required", f.name));
            }
            Ok(v) => return Ok(v),
            Err(why) => crate::output::eprint_line(&format!("invalid {}: {why}", f.name)),
        }
    }
}

/// Reads a password: the first line of stdin with `--password-stdin`, a hidden prompt on a
/// terminal, else a usage error naming `--password-stdin`.
pub fn password(ctx: &Ctx, from_stdin: bool, prompt: &str, confirm: bool) -> Result<String> {
    let pw = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::usage(format!("cannot read the password from stdin: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else if ctx.g.interactive {
        let pw = rpassword::prompt_password(format!("{prompt}: ")).map_err(io_err)?;
        if confirm {
            let again = rpassword::prompt_password("Repeat it: ").map_err(io_err)?;
            if again != pw {
                return Err(Error::invalid("the passwords do not match"));
            }
        }
        pw
    } else {
        return Err(ctx.require_flag("--password-stdin", "a password"));
    };
    if pw.len() > crate::auth::MAX_PASSWORD {
        return Err(Error::invalid(format!(
            "the password is too long (at most {} bytes)",
            crate::auth::MAX_PASSWORD
        )));
    }
    Ok(pw)
}

/// A yes/no question on the terminal.
pub fn confirm(question: &str) -> Result<bool> {
    dialoguer::Confirm::with_theme(&SimpleTheme)
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(io_err)
}
