//! The subcommands: one small file each, listed once here so parsing, help, man pages and
//! completions all see the same set.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::auth::User;
use crate::context::Ctx;
use crate::db::Store;
use crate::db::query::{Filter, Op, Query};
use crate::db::records::{self, Draft};
use crate::error::{Error, Result};
use crate::schema::Value;
use crate::schema::{Entity, Field, Kind, SYSTEM_FIELDS};

mod add;
mod agenda;
mod audit;
mod backup;
mod check;
mod cipher;
mod completions;
mod config;
mod convert;
mod copy;
mod dedupe;
mod delete;
mod demo;
mod done;
mod edit;
mod edit_bulk;
mod export;
mod field;
mod find;
mod import;
mod import_batch;
mod import_json;
mod import_opts;
mod import_progress;
mod import_rejects;
mod import_run;
mod import_summary;
mod import_times;
mod init;
mod lines;
mod log;
mod login;
mod merge;
mod merge_log;
mod placement;
mod pool;
mod report;
mod restore;
mod schema;
mod search;
mod session;
mod show;
mod token;
mod token_create;
mod user;

/// A subcommand: its clap definition and what runs it.
pub struct Cmd {
    pub name: &'static str,
    pub command: fn() -> Command,
    pub run: Run,
}

/// How a subcommand runs. Those that describe the command line itself (completions, man
/// pages) are handed the whole tree by the caller that built it (`cli`), so no command
/// reaches back up into `cli`, which is built from this list.
pub enum Run {
    Plain(fn(&mut Ctx, &ArgMatches) -> Result<()>),
    WithTree(fn(&mut Ctx, &ArgMatches, Command) -> Result<()>),
}

/// Every subcommand, in `crm --help` order.
pub const COMMANDS: &[Cmd] = &[
    Cmd {
        name: "demo",
        command: demo::command,
        run: Run::Plain(demo::run),
    },
    Cmd {
        name: "init",
        command: init::command,
        run: Run::Plain(init::run),
    },
    Cmd {
        name: "login",
        command: login::command,
        run: Run::Plain(login::run),
    },
    Cmd {
        name: "logout",
        command: session::logout_command,
        run: Run::Plain(session::logout),
    },
    Cmd {
        name: "whoami",
        command: session::whoami_command,
        run: Run::Plain(session::whoami),
    },
    Cmd {
        name: "user",
        command: user::command,
        run: Run::Plain(user::run),
    },
    Cmd {
        name: "token",
        command: token::command,
        run: Run::Plain(token::run),
    },
    Cmd {
        name: "add",
        command: add::command,
        run: Run::Plain(add::run),
    },
    Cmd {
        name: "edit",
        command: edit::command,
        run: Run::Plain(edit::run),
    },
    Cmd {
        name: "show",
        command: show::command,
        run: Run::Plain(show::run),
    },
    Cmd {
        name: "find",
        command: find::command,
        run: Run::Plain(find::run),
    },
    Cmd {
        name: "search",
        command: search::command,
        run: Run::Plain(search::run),
    },
    Cmd {
        name: "dedupe",
        command: dedupe::command,
        run: Run::Plain(dedupe::run),
    },
    Cmd {
        name: "delete",
        command: delete::command,
        run: Run::Plain(delete::run),
    },
    Cmd {
        name: "merge",
        command: merge::command,
        run: Run::Plain(merge::run),
    },
    Cmd {
        name: "convert",
        command: convert::command,
        run: Run::Plain(convert::run),
    },
    Cmd {
        name: "log",
        command: log::command,
        run: Run::Plain(log::run),
    },
    Cmd {
        name: "done",
        command: done::command,
        run: Run::Plain(done::run),
    },
    Cmd {
        name: "agenda",
        command: agenda::command,
        run: Run::Plain(agenda::run),
    },
    Cmd {
        name: "pool",
        command: pool::command,
        run: Run::Plain(pool::run),
    },
    Cmd {
        name: "import",
        command: import::command,
        run: Run::Plain(import::run),
    },
    Cmd {
        name: "export",
        command: export::command,
        run: Run::Plain(export::run),
    },
    Cmd {
        name: "field",
        command: field::command,
        run: Run::WithTree(field::run),
    },
    Cmd {
        name: "schema",
        command: schema::command,
        run: Run::Plain(schema::run),
    },
    Cmd {
        name: "report",
        command: report::command,
        run: Run::Plain(report::run),
    },
    Cmd {
        name: "audit",
        command: audit::command,
        run: Run::Plain(audit::run),
    },
    Cmd {
        name: "config",
        command: config::command,
        run: Run::Plain(config::run),
    },
    Cmd {
        name: "check",
        command: check::command,
        run: Run::Plain(check::run),
    },
    Cmd {
        name: "backup",
        command: backup::command,
        run: Run::Plain(backup::run),
    },
    Cmd {
        name: "restore",
        command: restore::command,
        run: Run::Plain(restore::run),
    },
    Cmd {
        name: "encrypt",
        command: cipher::encrypt_command,
        run: Run::Plain(cipher::encrypt),
    },
    Cmd {
        name: "decrypt",
        command: cipher::decrypt_command,
        run: Run::Plain(cipher::decrypt),
    },
    Cmd {
        name: "rekey",
        command: cipher::rekey_command,
        run: Run::Plain(cipher::rekey),
    },
    Cmd {
        name: "copy",
        command: copy::command,
        run: Run::Plain(copy::run),
    },
    Cmd {
        name: "completions",
        command: completions::command,
        run: Run::WithTree(completions::run),
    },
    Cmd {
        name: "generate-man",
        command: completions::man_command,
        run: Run::WithTree(completions::man),
    },
];

/// The `--FIELD VALUE` flag of a field, generated from the registry, as `add` takes it.
pub fn field_arg(f: &Field) -> Arg {
    field_arg_for(f, true)
}

/// The flag for `add` (`creating`: required and default shown) or for `edit`, where neither
/// applies (an edit changes only what it names).
fn field_arg_for(f: &Field, creating: bool) -> Arg {
    let mut help = format!("{} / {} [{}]", f.en, f.zh, f.kind.type_name());
    if let Kind::Choice(choices) = f.kind {
        help.push_str(&format!(
            " one of: {}",
            choices
                .iter()
                .map(|(v, _)| *v)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Kind::Ref(target) = f.kind {
        help.push_str(&format!(" ({target} id or key)"));
    }
    if f.kind == Kind::Tags {
        help.push_str(" ;-separated");
    }
    if f.required && creating {
        help.push_str(" (required)");
    }
    match if creating {
        f.default
    } else {
        crate::schema::Default::None
    } {
        crate::schema::Default::Value(v) => help.push_str(&format!(" [default: {v}]")),
        crate::schema::Default::CurrentUser => help.push_str(" [default: you]"),
        crate::schema::Default::Generated(p) => {
            help.push_str(&format!(" [default: generated {p}000001…]"));
        }
        crate::schema::Default::Today => help.push_str(" [default: today]"),
        crate::schema::Default::Now => help.push_str(" [default: now]"),
        crate::schema::Default::None => {}
    }
    // Values may start with '-' (notes such as "-20% 折扣", amounts such as -5 are refused
    // by the kind, not by the parser).
    Arg::new(f.name)
        .long(f.flag())
        .allow_hyphen_values(true)
        .value_name(f.kind.type_name().to_uppercase())
        .help(help)
}

/// "an opportunity", "a customer": the English article a noun takes.
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

/// One subcommand per entity, each with the entity's writable fields as flags.
pub fn entity_subcommands(
    about: &str,
    with_id: bool,
    extra: fn(Command) -> Command,
) -> Vec<Command> {
    crate::schema::all()
        .iter()
        .map(|e| {
            let mut c = Command::new(e.name).about(format!(
                "{about} {} ({})",
                with_article(&e.en.to_lowercase()),
                e.zh
            ));
            if e.name.contains('_') {
                c = c.alias(e.name.replace('_', "-"));
            }
            // The Chinese label names the entity too (`crm add 客户`), as everywhere ENTITY is taken.
            c = c.alias(e.zh).aliases(e.zh_aliases());
            if with_id {
                c = c.arg(
                    Arg::new("id")
                        .required(true)
                        .value_name("ID")
                        .help("Record id, or its unique key"),
                );
            }
            for f in e.writable() {
                c = c.arg(field_arg_for(f, !with_id));
            }
            extra(c)
        })
        .collect()
}

/// Reads the field flags given into a draft (only those given are marked in `given`).
pub fn read_flags(
    conn: &Store,
    e: &'static Entity,
    m: &ArgMatches,
    d: &mut Draft,
    given: &mut Vec<&'static str>,
) -> Result<()> {
    for f in e.writable() {
        // A custom field loaded after parsing (none of its flags given) has no argument: None.
        if let Some(text) = m.try_get_one::<String>(f.name).ok().flatten() {
            let v = records::parse_value(conn, f, text).map_err(|why| {
                // A well-formed reference naming no record is "not found" (exit 3), not invalid.
                let missing =
                    matches!(f.kind, Kind::Ref(_) | Kind::User) && f.kind.parse(text).is_ok();
                let msg = format!("--{}: {why}", f.flag());
                if missing {
                    Error::not_found(msg)
                } else {
                    Error::invalid(msg)
                }
            })?;
            d.set(f.name, v);
            given.push(f.name);
        }
    }
    Ok(())
}

/// Whether the user owns the record a draft describes (None where ownership does not apply).
pub fn owns(conn: &Store, user: &User, d: &Draft) -> Result<Option<bool>> {
    if let Some(owner) = d.entity.owner {
        return Ok(Some(d.text(owner) == Some(user.name.as_str())));
    }
    if let Some(via) = d.entity.owner_via {
        let Kind::Ref(target) = d
            .entity
            .fields
            .iter()
            .find(|f| f.name == via)
            .expect("owner_via names a field")
            .kind
        else {
            return Ok(None);
        };
        let Some(id) = d.int(via) else {
            return Ok(None);
        };
        let target = Entity::get(target)?;
        return match records::get(conn, target, id)? {
            Some(parent) => owns(conn, user, &parent.draft),
            None => Ok(None),
        };
    }
    Ok(None)
}

/// The display row of one record, with the given columns.
pub fn display_row(
    conn: &Store,
    e: &'static Entity,
    id: i64,
    cols: &[&'static Field],
) -> Result<Vec<Value>> {
    let mut q = Query::new(e);
    q.filters.push(Filter {
        field: &SYSTEM_FIELDS[0],
        op: Op::Eq,
        value: Value::Integer(id),
    });
    crate::db::query::rows(conn, &q, cols)?
        .pop()
        .ok_or_else(|| Error::not_found(format!("no {} with id {id}", e.name)))
}

/// The rows `q` finds as the user may see them: masked (`mask::rows`), or under
/// `--reveal` whole with the reveal audited.
pub fn masked_rows(
    ctx: &mut Ctx,
    mut q: Query,
    cols: &[&'static Field],
) -> Result<Vec<Vec<Value>>> {
    let Some(mut mask) = ctx.row_mask(q.entity, cols, &mut q)? else {
        return crate::db::query::rows(&ctx.db()?.store, &q, cols);
    };
    let rows = crate::db::query::rows(&ctx.db()?.store, &q, &mask.columns(cols))?;
    let rows = rows.iter().map(|r| mask.apply(cols, r)).collect();
    ctx.audit_reveal(&mask)?;
    Ok(rows)
}

/// `display_row` as the user may see it (`masked_rows`).
pub fn shown_row(
    ctx: &mut Ctx,
    e: &'static Entity,
    id: i64,
    cols: &[&'static Field],
) -> Result<Vec<Value>> {
    let mut q = Query::new(e);
    q.filters.push(Filter {
        field: &SYSTEM_FIELDS[0],
        op: Op::Eq,
        value: Value::Integer(id),
    });
    masked_rows(ctx, q, cols)?
        .pop()
        .ok_or_else(|| Error::not_found(format!("no {} with id {id}", e.name)))
}

/// Prints one record as `show`, `add` and `edit` do.
pub fn print_record(ctx: &mut Ctx, e: &'static Entity, id: i64) -> Result<()> {
    let cols: Vec<&'static Field> = e.columns().collect();
    let row = shown_row(ctx, e, id, &cols)?;
    let columns = crate::render::columns(ctx, &cols);
    ctx.out
        .record(&columns, &crate::render::view_row(ctx, &cols, &row))
}

/// Reads an ENTITY argument: the entity's name (any case, `-` for `_`) or its Chinese label,
/// given back as the name; a typo gets "did you mean". `only` limits the entities taken.
#[derive(Clone)]
pub struct EntityParser(pub Option<&'static [&'static str]>);

impl clap::builder::TypedValueParser for EntityParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &Command,
        _arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<String, clap::Error> {
        let text = value.to_string_lossy();
        let allowed = |e: &Entity| self.0.is_none_or(|only| only.contains(&e.name));
        if let Some(e) = Entity::lookup(&text).filter(|e| allowed(e)) {
            return Ok(e.name.to_string());
        }
        let names: Vec<&str> = crate::schema::all()
            .iter()
            .filter(|e| allowed(e))
            .map(|e| e.name)
            .collect();
        let tip = match Entity::closest(&text).filter(|e| allowed(e)) {
            Some(e) => format!("did you mean '{}'? entities: {}", e.name, names.join(", ")),
            None => format!("entities: {}", names.join(", ")),
        };
        let mut cmd = cmd.clone();
        Err(cmd.error(
            clap::error::ErrorKind::InvalidValue,
            format!("unknown entity '{text}'\n\n  tip: {tip}"),
        ))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            crate::schema::all()
                .iter()
                .filter(|e| self.0.is_none_or(|only| only.contains(&e.name)))
                .map(|e| clap::builder::PossibleValue::new(e.name)),
        ))
    }
}

/// A `--yes` flag.
pub fn yes_arg() -> Arg {
    Arg::new("yes")
        .long("yes")
        .short('y')
        .action(ArgAction::SetTrue)
        .help("Do not ask for confirmation")
}

/// `--password-stdin`, shared by `init`, `login` and `user` (kept here, not in one of them,
/// so those commands do not depend on each other).
pub fn password_stdin_arg() -> Arg {
    Arg::new("password_stdin")
        .long("password-stdin")
        .action(ArgAction::SetTrue)
        .help("Read the password from the first line of stdin")
}
