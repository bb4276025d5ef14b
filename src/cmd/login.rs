//! `crm login [--user NAME] [--password-stdin] [--ttl DURATION] [--print-token]`.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::context::Ctx;
use crate::error::{Error, Result};

pub fn command() -> Command {
    Command::new("login")
        .about("Log in and save a session token for this database")
        .arg(
            Arg::new("user")
                .long("user")
                .short('u')
                .value_name("NAME")
                .help("User name (prompted on a terminal)"),
        )
        .arg(super::password_stdin_arg())
        .arg(
            Arg::new("ttl")
                .long("ttl")
                .value_name("DURATION")
                .default_value("8h")
                .help("Session lifetime: 90s, 30m, 8h, 7d"),
        )
        .arg(
            Arg::new("print_token")
                .long("print-token")
                .action(ArgAction::SetTrue)
                .help("Print the token (for CRM_TOKEN) instead of saving it"),
        )
}

/// The longest session: the bound is on the whole lifetime, so `600m` is as good as `10h`.
const MAX_TTL: i64 = 366 * 86_400;

/// Parses `90s`, `30m`, `8h`, `7d` into seconds.
pub fn parse_duration(s: &str) -> Result<i64> {
    let s = s.trim();
    let bad = || Error::usage(format!("'{s}' is not a duration")).hint("write 90s, 30m, 8h or 7d");
    let unit = s.chars().last().ok_or_else(bad)?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    match n.checked_mul(mult) {
        Some(secs) if n > 0 && secs <= MAX_TTL => Ok(secs),
        _ => Err(Error::usage(format!(
            "--ttl {s} is out of range (from 1s to 366d)"
        ))),
    }
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let ttl = parse_duration(m.get_one::<String>("ttl").expect("default"))?;
    let name = match m.get_one::<String>("user") {
        Some(n) => n.clone(),
        None if ctx.g.interactive => dialoguer::Input::<String>::new()
            .with_prompt("User")
            .interact_text()
            .map_err(|e| Error::new(crate::error::ErrorKind::Interrupted, e.to_string()))?,
        None => return Err(ctx.require_flag("--user NAME", "a user name")),
    };
    let password = crate::prompt::password(ctx, m.get_flag("password_stdin"), "Password", false)?;
    if ctx.g.is_server() {
        let (user, token, login) =
            crate::auth::server::login(&ctx.g.db, ctx.g.busy, &name, &password, ttl)?;
        if m.get_flag("print_token") {
            let token = crate::auth::pg_token(&token, &login);
            return ctx.out.data(&format!("{token}\n"));
        }
        let path = crate::auth::token_path(&ctx.g.db);
        crate::auth::write_session(&path, &token, Some(&login))?;
        return ctx.out.outcome(
            &format!("logged in as {} ({})", user.name, user.role.as_str()),
            &serde_json::json!({"user": user.name, "role": user.role.as_str()}),
        );
    }
    let db = ctx.db()?;
    let (user, token) = crate::auth::login(&mut db.store, &name, &password, ttl)?;
    if m.get_flag("print_token") {
        return ctx.out.data(&format!("{token}\n"));
    }
    crate::auth::write_token(&crate::auth::token_path(&ctx.g.db), &token)?;
    ctx.out.outcome(
        &format!("logged in as {} ({})", user.name, user.role.as_str()),
        &serde_json::json!({"user": user.name, "role": user.role.as_str()}),
    )
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_bounded_by_their_total() {
        assert_eq!(parse_duration("90s").unwrap(), 90);
        assert_eq!(parse_duration("600m").unwrap(), 36_000);
        assert_eq!(parse_duration("8h").unwrap(), 28_800);
        assert_eq!(parse_duration("366d").unwrap(), 366 * 86_400);
        for bad in [
            "0h",
            "367d",
            "9000h",
            "-5m",
            "8",
            "h",
            "99999999999999999999s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
