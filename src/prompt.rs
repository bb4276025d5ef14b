//! Terminal prompts (dialoguer for fields, rpassword for passwords), used only when the
//! context says stdin and stderr are terminals; scripts never reach this module.

use std::io::BufRead;

use dialoguer::{Input, Select, theme::SimpleTheme};

use crate::context::Ctx;
use crate::db::Store;
use crate::db::records::parse_value;
use crate::error::{Error, Result};
use crate::schema::{Field, Kind};

/// A prompt that ended (Ctrl-C, closed terminal): the cursor a select list hid is shown
/// again before crm exits, or the shell is left without one.
fn io_err(e: impl std::fmt::Display) -> Error {
    let _ = dialoguer::console::Term::stderr().show_cursor();
    let detail = e.to_string();
    let message = if detail.contains("interrupted") {
        "cancelled, nothing was saved".to_string()
    } else {
        format!("cancelled, nothing was saved ({detail})")
    };
    Error::new(crate::error::ErrorKind::Interrupted, message)
}

/// A text prompt that ended: its line is finished first, so the error starts on its own.
fn line_ended(e: impl std::fmt::Display) -> Error {
    crate::output::eprint_line("");
    io_err(e)
}

/// Ctrl-C at a prompt kills crm by SIGINT before a select list can show the cursor it hid,
/// leaving the shell without one: while prompts run, a watcher thread shows it again and
/// exits with status 130 (what the signal would have given). Installed once, on first use.
fn watch_interrupt() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])
        else {
            return; // without the watcher Ctrl-C still ends crm, as before
        };
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                let _ = dialoguer::console::Term::stderr().show_cursor();
                // The interrupted read usually ends the prompt with its own message first.
                std::thread::sleep(std::time::Duration::from_millis(300));
                crate::output::eprint_line("");
                std::process::exit(130);
            }
        });
    });
}

/// What typed alone into an optional field's prompt clears it or leaves it empty (Enter keeps
/// the default); never stored as the value itself.
pub const CLEAR: &str = "-";

/// Asks for one field until the answer is valid; `current` is offered as the default.
pub fn field(conn: &Store, f: &Field, current: Option<&str>) -> Result<crate::schema::Value> {
    watch_interrupt();
    let label = format!("{} {}{}", f.en, f.zh, if f.required { " *" } else { "" });
    if let Kind::Choice(choices) = f.kind {
        // Values padded to one width so the Chinese labels line up.
        let w = choices.iter().map(|(v, _)| v.len()).max().unwrap_or(0);
        let mut items: Vec<String> = choices
            .iter()
            .map(|(v, zh)| format!("{v:<w$}  {zh}"))
            .collect();
        // A field with a default value always has one: no "(none)" that would be ignored.
        let has_default = matches!(f.default, crate::schema::Default::Value(_));
        if !f.required && !has_default {
            items.push("(none)".into());
        }
        // An empty optional field stays empty when the user just presses Enter.
        let default = match current {
            Some(c) => choices.iter().position(|(v, _)| *v == c).unwrap_or(0),
            None if items.len() > choices.len() => items.len() - 1,
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
            .map_or(crate::schema::Value::Null, |(v, _)| {
                crate::schema::Value::Text((*v).to_string())
            }));
    }
    text_field(conn, f, current, None).map(|v| v.expect("no mask to keep"))
}

/// A prompt for a field whose value the user sees masked (SPEC "Masking"): the masked form
/// is the default, and Enter keeps the stored value (None), never writes the mask back.
pub fn field_masked(conn: &Store, f: &Field, masked: &str) -> Result<Option<crate::schema::Value>> {
    watch_interrupt();
    text_field(conn, f, Some(masked), Some(masked))
}

/// The typed prompt of `field`; an answer equal to `keep` is None.
fn text_field(
    conn: &Store,
    f: &Field,
    current: Option<&str>,
    keep: Option<&str>,
) -> Result<Option<crate::schema::Value>> {
    let label = format!("{} {}{}", f.en, f.zh, if f.required { " *" } else { "" });
    loop {
        // Empty answers come back to this loop (not dialoguer's silent re-ask), so a required
        // field can say why it asks again.
        let mut input = Input::<String>::with_theme(&SimpleTheme)
            .with_prompt(&label)
            .allow_empty(true);
        if let Some(c) = current {
            input = input.default(c.to_string());
        }
        let text = input.interact_text().map_err(line_ended)?;
        if keep.is_some_and(|k| k == text) {
            return Ok(None);
        }
        let cleared = crate::schema::kinds::trim(&text) == CLEAR;
        let v = if cleared {
            Ok(crate::schema::Value::Null)
        } else {
            parse_value(conn, f, &text)
        };
        match v {
            Ok(crate::schema::Value::Null) if f.unique && current.is_some() => {
                crate::output::eprint_line(&format!(
                    "{} can be changed but not cleared; Enter keeps [{}]",
                    f.name,
                    current.unwrap_or_default()
                ));
            }
            Ok(crate::schema::Value::Null) if f.required => {
                crate::output::eprint_line(&format!("{} is required", f.name));
            }
            Ok(v) => return Ok(Some(v)),
            Err(why) => crate::output::eprint_line(&format!("invalid {}: {why}", f.name)),
        }
    }
}

/// Reads a password: the first line of stdin with `--password-stdin`, a hidden prompt on a
/// terminal, else a usage error naming `--password-stdin`.
pub fn password(ctx: &Ctx, from_stdin: bool, prompt: &str, confirm: bool) -> Result<String> {
    let pw = if from_stdin {
        let mut line = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::usage(format!("cannot read the password from stdin: {e}")))?;
        // No line at all is a missing value (a script's empty secret), not a wrong password:
        // it must not count toward the lockout.
        if read == 0 {
            return Err(Error::usage(format!(
                "--password-stdin: stdin ended before the line for '{prompt}'"
            ))
            .hint("write each password on its own line of stdin"));
        }
        line.trim_end_matches(['\n', '\r']).to_string()
    } else if ctx.g.interactive {
        ask_password(prompt, confirm)?
    } else {
        // The flag is named in the error line itself: a script may show only that line
        // (or only the JSON error object, which carries no hint).
        return Err(Error::usage(
            "a password is needed and there is no prompt: pass --password-stdin and write it on stdin",
        )
        .hint("prompts only run on a terminal without --no-input"));
    };
    if pw.len() > crate::auth::MAX_PASSWORD {
        return Err(Error::invalid(format!(
            "the password is too long (at most {} bytes)",
            crate::auth::MAX_PASSWORD
        )));
    }
    Ok(pw)
}

/// Asks on the terminal, input hidden. A new password (`confirm`) is checked against the
/// password rules before it is repeated, and asked again when too short or mistyped, up to
/// three times.
fn ask_password(prompt: &str, confirm: bool) -> Result<String> {
    let mut tries = 0;
    loop {
        tries += 1;
        let pw = rpassword::prompt_password(format!("{prompt}: ")).map_err(line_ended)?;
        if !confirm {
            return Ok(pw);
        }
        let problem = if let Err(e) = crate::auth::check_password(&pw) {
            e
        } else {
            let again = rpassword::prompt_password("Repeat it: ").map_err(line_ended)?;
            if again == pw {
                return Ok(pw);
            }
            Error::invalid("the passwords do not match")
        };
        if tries == 3 {
            return Err(problem);
        }
        crate::output::eprint_line(&format!("{}; try again", problem.message));
    }
}

/// A yes/no question on the terminal.
pub fn confirm(question: &str) -> Result<bool> {
    watch_interrupt();
    dialoguer::Confirm::with_theme(&SimpleTheme)
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(line_ended)
}
