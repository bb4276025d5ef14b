//! `crm audit [--entity E] [--id N] [--user U] [--since DATE]`: the audit log (admin only),
//! with imports' trail on a record; `--verify [--anchor ID:HASH]` and `--head` for tampering.

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
                .help("Check the log for tampering: its triggers, hash chain and ends"),
        )
        .arg(
            Arg::new("anchor")
                .long("anchor")
                .value_name("ID:HASH")
                .requires("verify")
                .help("With --verify: also fail unless entry ID still has this hash (from --head)"),
        )
        .arg(
            Arg::new("head")
                .long("head")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["verify", "entity", "id", "user", "since", "limit"])
                .help("Print the newest entry as ID:HASH, to keep outside the database"),
        )
        .after_long_help(
            "The trail of a record includes what imports did to it: the batch that created it \
             and each field a batch changed (key `batch`), and what a revert restored or deleted.\n\n\
             A person who can write the database file can drop the log's triggers, rewrite rows and \
             recompute the hash chain. Keep the output of `crm audit --head` elsewhere (a ticket, \
             another machine); `crm audit --verify --anchor ID:HASH` later fails (exit 9) when that \
             entry is gone or changed.",
        )
}

/// `--head`: the newest entry as `ID:HASH` (JSON: `{"id", "hash"}`).
fn print_head(ctx: &mut Ctx) -> Result<()> {
    let Some(h) = audit::head(&ctx.db()?.store)? else {
        return Err(Error::storage(
            "the audit log is empty, though crm init writes its first row: rows were deleted",
        ));
    };
    if ctx.out.format == crate::output::Format::Json {
        return ctx
            .out
            .json(&serde_json::json!({"id": h.id, "hash": h.hash}));
    }
    ctx.out.data(&format!("{}:{}\n", h.id, h.hash))
}

/// `--verify [--anchor ID:HASH]`: exit 9 naming every problem found.
fn verify(ctx: &mut Ctx, anchor: Option<&String>) -> Result<()> {
    let anchor = anchor.map(|a| audit::parse_anchor(a)).transpose()?;
    let conn = &ctx.db()?.store;
    let mut problems = audit::problems(conn)?;
    if let Some(a) = &anchor {
        problems.extend(audit::anchor_problem(conn, a)?);
    }
    if !problems.is_empty() {
        return Err(Error::storage(format!(
            "the audit log was tampered with: {}",
            problems.join("; ")
        ))
        .hint("restore a backup; see `crm audit --help` on what a file's writer can still do"));
    }
    let rows = audit::count(conn)?;
    let head = audit::head(conn)?.map(|h| format!("{}:{}", h.id, h.hash));
    let text = match &anchor {
        Some(a) => format!(
            "audit log intact: the hash chain verifies and still holds entry {} as anchored",
            a.id
        ),
        None => "audit log intact: the hash chain verifies".to_string(),
    };
    ctx.out.outcome(
        &text,
        &serde_json::json!({"ok": true, "rows": rows, "head": head, "anchor": anchor.map(|a| a.id)}),
    )
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    ctx.authorize(Action::Audit, None, None)?;
    if m.get_flag("head") {
        return print_head(ctx);
    }
    if m.get_flag("verify") {
        return verify(ctx, m.get_one::<String>("anchor"));
    }
    let since = match m.get_one::<String>("since") {
        Some(s) => Some(crate::schema::kinds::parse_datetime(s).map_err(Error::usage)?),
        None => None,
    };
    let entity = match m.get_one::<String>("entity") {
        // Users and tokens are audited as entities of their own, outside the registry.
        Some(e) if e == "user" || e == "token" => Some(e.clone()),
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
    let rows = audit::read(&ctx.db()?.store, &f)?;
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
        "batch",
    ];
    let cols: Vec<Column> = keys
        .iter()
        .map(|k| Column {
            key: (*k).into(),
            header: (*k).into(),
        })
        .collect();
    // On a terminal, long old and new values (a deleted record's JSON) are cut to share the
    // width, so they shorten instead of pushing who, what and when off the screen.
    let long = (ctx.out.format == crate::output::Format::Table && ctx.out.stdout_tty)
        .then(|| (crate::output::table::terminal_width().saturating_sub(60) / 2).max(16));
    let cut = |v: Option<String>| match (v, long) {
        (Some(v), Some(max)) => Some(crate::output::table::cut(&v, max)),
        (v, _) => v,
    };
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
                cut(r.old).into(),
                cut(r.new).into(),
                cut(r.detail).into(),
                r.batch.into(),
            ]
        })
        .collect();
    // On a narrow terminal the change itself (when, what, field, old and new, then who) stays; the
    // entity and record the filter already names go first, then the ids and the detail.
    let filtered = |set: bool| if set { 0 } else { 3 };
    let rank = [
        1,
        7,
        5,
        6,
        filtered(f.entity.is_some()),
        filtered(f.id.is_some()),
        // Old and new mean nothing without the field they belong to.
        8,
        8,
        8,
        2,
        1,
    ];
    ctx.out.rows_ranked(&cols, &out, Some(&rank))
}
