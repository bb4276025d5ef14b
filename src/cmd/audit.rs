//! `crm audit [--entity E] [--id N] [--user U] [--since DATE] [--verify]`: the audit log (admin only).

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::Action;
use crate::context::Ctx;
use crate::db::audit::{self, Filter};
use crate::error::{Error, Result};
use crate::output::Column;

pub fn command() -> Command {
    Command::new("audit")
        .about("Show the audit log: who, when, what, old and new values (admin only)")
        .arg(Arg::new("entity").long("entity").value_name("ENTITY"))
        .arg(
            Arg::new("id")
                .long("id")
                .value_name("N")
                .value_parser(clap::value_parser!(i64)),
        )
        .arg(Arg::new("user").long("user").value_name("NAME"))
        .arg(
            Arg::new("since")
                .long("since")
                .value_name("DATE")
                .help("From this date or date-time on"),
        )
        .arg(
            Arg::new("limit")
                .long("limit")
                .value_name("N")
                .value_parser(clap::value_parser!(i64).range(1..))
                .help("Only the newest N rows"),
        )
        .arg(
            Arg::new("verify")
                .long("verify")
                .action(ArgAction::SetTrue)
                .help("Check the hash chain for tampering"),
        )
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    ctx.authorize(Action::Audit, None, None)?;
    let conn = &ctx.db()?.conn;
    if m.get_flag("verify") {
        return match audit::verify(conn)? {
            None => {
                ctx.out.msg("audit log intact: the hash chain verifies");
                Ok(())
            }
            Some(id) => Err(Error::storage(format!(
                "the audit log was tampered with: the hash chain breaks at row {id}"
            ))),
        };
    }
    let since = match m.get_one::<String>("since") {
        Some(s) => Some(crate::schema::kinds::parse_datetime(s).map_err(Error::usage)?),
        None => None,
    };
    let entity = match m.get_one::<String>("entity") {
        Some(e) if e == "user" => Some("user".to_string()),
        Some(e) => Some(crate::schema::Entity::get(e)?.name.to_string()),
        None => None,
    };
    let f = Filter {
        entity,
        id: m.get_one::<i64>("id").copied(),
        user: m.get_one::<String>("user").cloned(),
        since,
        limit: m.get_one::<i64>("limit").copied(),
    };
    let rows = audit::read(conn, &f)?;
    let keys = [
        "id",
        "at",
        "user",
        "action",
        "entity",
        "record_id",
        "field",
        "old",
        "new",
        "detail",
    ];
    let cols: Vec<Column> = keys
        .iter()
        .map(|k| Column {
            key: (*k).into(),
            header: (*k).into(),
        })
        .collect();
    let out: Vec<Vec<serde_json::Value>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.id.into(),
                crate::schema::kinds::format_datetime(r.at).into(),
                r.user.into(),
                r.action.into(),
                r.entity.into(),
                r.record_id.into(),
                r.field.into(),
                r.old.into(),
                r.new.into(),
                r.detail.into(),
            ]
        })
        .collect();
    ctx.out.rows(&cols, &out)
}
