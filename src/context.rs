//! What every command runs with: the global flags, the output, the database (opened on
//! first use), the logged-in user, and the one door to the role matrix.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::ArgMatches;

use crate::auth::{self, Action, User};
use crate::db::audit::{self, Entry};
use crate::db::{Db, OpenMode};
use crate::error::{Error, Result};
use crate::output::{Column, Format, Output};
use crate::schema::{Entity, Field};

mod mask;

/// The global flags, read once.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent flags, not a state machine
pub struct Globals {
    pub db: PathBuf,
    pub busy: Duration,
    pub no_input: bool,
    /// Prompts are allowed: stdin and stderr are terminals and `--no-input` was not given.
    pub interactive: bool,
    pub zh: bool,
    /// `--reveal`: masked values shown (an allowed role only; audited).
    pub reveal: bool,
    /// Where the key of an encrypted database comes from.
    pub keys: crate::dbkey::Sources,
}

/// `CRM_TOKEN`, unless unset or blank.
fn env_token() -> Option<String> {
    std::env::var("CRM_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
}

impl Globals {
    /// Whether `--db` names a `PostgreSQL` database (a URL) rather than a file.
    pub fn is_server(&self) -> bool {
        crate::db::server::is_url(&self.db)
    }
}

/// A running command's context.
pub struct Ctx {
    pub g: Globals,
    pub out: Output,
    db: Option<Db>,
    user: Option<User>,
    /// What the user sees masked (`mask`), read on first use.
    mask: Option<std::rc::Rc<crate::mask::Policy>>,
}

impl Ctx {
    pub fn from_matches(m: &ArgMatches) -> Result<Ctx> {
        let format = Format::parse(
            m.get_one::<String>("format")
                .map_or("table", String::as_str),
        )?;
        let quiet = m.get_flag("quiet");
        let color = m.get_one::<String>("color").map_or("auto", String::as_str);
        let mut out = Output::new(format, quiet, color);
        out.raw = m.get_flag("raw");
        let db = m
            .get_one::<String>("db")
            .map_or_else(crate::paths::default_db, PathBuf::from);
        let busy = m.get_one::<f64>("busy_timeout").copied().unwrap_or(5.0);
        if !(0.0..=86_400.0).contains(&busy) {
            return Err(Error::usage(
                "--busy-timeout takes seconds between 0 and 86400",
            ));
        }
        let no_input = m.get_flag("no_input");
        let interactive =
            !no_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let zh = m
            .get_one::<String>("lang")
            .is_some_and(|l| l.starts_with("zh"));
        let keys = crate::dbkey::Sources {
            key_file: m.get_one::<String>("key_file").map(PathBuf::from),
            interactive,
        };
        keys.register();
        Ok(Ctx {
            g: Globals {
                db,
                busy: Duration::from_secs_f64(busy),
                no_input,
                interactive,
                zh,
                reveal: m.get_flag("reveal"),
                keys,
            },
            out,
            db: None,
            user: None,
            mask: None,
        })
    }

    /// The database, opened (and migrated) on first use.
    pub fn db(&mut self) -> Result<&mut Db> {
        if self.db.is_none() {
            // On PostgreSQL the saved session says which login role to connect as.
            let env = env_token();
            // A token for automation connects as its own login role: the server checks it.
            let robot =
                self.g.is_server() && env.as_deref().is_some_and(auth::automation::is_token);
            let login = if robot {
                Some(auth::automation::pg_login(
                    &self.g.db,
                    env.as_deref().unwrap_or_default(),
                )?)
            } else if self.g.is_server() {
                match env.as_deref().and_then(auth::split_pg_token) {
                    Some((_, login)) => Some(login),
                    None => auth::read_pg_login(&auth::token_path(&self.g.db))?,
                }
            } else {
                None
            };
            let db = Db::open_as(&self.g.db, OpenMode::Existing, self.g.busy, login.as_ref());
            self.db = Some(match db {
                // Unknown, revoked and expired look alike to the server (and so to us).
                Err(e) if robot && e.kind == crate::error::ErrorKind::Auth => {
                    return Err(Error::auth(
                        "the server refused CRM_TOKEN: the token is unknown, revoked or expired",
                    )
                    .hint("ask an admin for a token (`crm token list`, `crm token create`)"));
                }
                other => other?,
            });
            let db = self.db.as_ref().expect("just opened");
            let region = crate::db::settings::get(&db.store, "phone.region")?;
            if let Some(r) = crate::schema::kinds::phones::Region::stored(&region) {
                r.use_for_process();
            }
            // The database's custom fields join the registry before any command reads it.
            crate::schema::custom::install(&crate::db::fields::load(&db.store)?)?;
        }
        Ok(self.db.as_mut().expect("just opened"))
    }

    /// Closes the database (before its file is replaced), handing it over if it was open.
    pub fn take_db(&mut self) -> Option<Db> {
        self.db.take()
    }

    /// Opens the database when it can be, so its custom fields are in the registry before a
    /// command looks an entity up; a failure is left for the command to meet and report in
    /// its own order.
    pub fn preload(&mut self) {
        let _ = self.db();
    }

    /// Creates the database (for `init` and `demo`).
    pub fn create_db(&mut self) -> Result<&mut Db> {
        self.db = Some(Db::open(&self.g.db, OpenMode::Create, self.g.busy)?);
        Ok(self.db.as_mut().expect("just opened"))
    }

    /// Creates a database file encrypted with `key` (`init --encrypt`).
    pub fn create_encrypted_db(&mut self, key: &str) -> Result<&mut Db> {
        self.db = Some(Db::create_encrypted(&self.g.db, self.g.busy, key)?);
        Ok(self.db.as_mut().expect("just opened"))
    }

    /// The session token: `CRM_TOKEN`, else the token file of this database.
    pub fn token(&self) -> Result<Option<String>> {
        if let Some(t) = env_token() {
            // On PostgreSQL it may carry the login too (`auth::pg_token`): the token is inside.
            return Ok(Some(auth::split_pg_token(&t).map_or(t, |(token, _)| token)));
        }
        auth::read_token(&auth::token_path(&self.g.db))
    }

    /// The logged-in user; exit 6 without a valid session.
    pub fn user(&mut self) -> Result<User> {
        if let Some(u) = &self.user {
            return Ok(u.clone());
        }
        // The database first: a missing or damaged file is a storage error (exit 9), whatever
        // the session state.
        self.db()?;
        if self.g.is_server() {
            let token = self.token()?;
            let u = auth::server::connected_user(&self.db()?.store, token.as_deref())?;
            self.user = Some(u.clone());
            return Ok(u);
        }
        let token = self.token()?.ok_or_else(|| {
            Error::auth("not logged in").hint("run `crm login` (or set CRM_TOKEN)")
        })?;
        // CRM_TOKEN comes before the session file (`token`), a token for automation or not.
        let u = if auth::automation::is_token(&token) {
            auth::automation::user(&self.db()?.store, &token)?
        } else {
            auth::session_user(&self.db()?.store, &token)?
        };
        self.user = Some(u.clone());
        Ok(u)
    }

    /// The one door to the role matrix: checks the action, audits a refusal, exits 7.
    pub fn authorize(
        &mut self,
        action: Action,
        entity: Option<&Entity>,
        owns: Option<bool>,
    ) -> Result<User> {
        let user = self.user()?;
        if auth::allowed(user.role, action, entity, owns) {
            return Ok(user);
        }
        let what = match action {
            Action::ManageUsers => "manage users".to_string(),
            Action::Audit => "read the audit log".to_string(),
            Action::Maintain => "check the database".to_string(),
            Action::Backup => "back up the database".to_string(),
            Action::Replace => "replace the database file".to_string(),
            Action::Configure => "manage settings".to_string(),
            Action::Fields => "manage custom fields".to_string(),
            Action::Claim => "use the customer pool".to_string(),
            Action::Release => "release".to_string(),
            Action::Assign => "assign customers".to_string(),
            other => format!("{other:?}").to_lowercase(),
        };
        let target = entity.map_or(String::new(), |e| format!(" {}", e.name));
        let ownership = if owns == Some(false) {
            " (not the owner)"
        } else {
            ""
        };
        self.audit_denied(entity, format!("{what}{target}{ownership}"))?;
        Err(Error::denied(format!(
            "role {} may not {what}{target}{ownership}",
            user.role.as_str()
        )))
    }

    /// Audits a refusal (`denied`, by the session's user) in a transaction of its own: the
    /// role matrix's and the masks' refusals alike.
    fn audit_denied(&mut self, entity: Option<&Entity>, detail: String) -> Result<()> {
        let user = self.user()?;
        let db = self.db()?;
        let tx = db.write()?;
        audit::log(
            &tx,
            &[Entry {
                user: Some(&user.name),
                action: "denied",
                entity: entity.map(|e| e.name),
                detail: Some(detail),
                ..Entry::default()
            }],
        )?;
        tx.commit()
    }

    /// The header of a field's column: its name, or its Chinese label with `--lang zh`.
    pub fn column(&self, f: &Field) -> Column {
        Column {
            key: f.name.to_string(),
            header: if self.g.zh {
                f.zh.to_string()
            } else {
                f.name.to_string()
            },
        }
    }

    /// Fails with a usage error when prompting is needed but not allowed.
    pub fn require_flag(&self, flag: &str, what: &str) -> Error {
        Error::usage(format!("{what} is required")).hint(format!(
            "pass {flag} (prompts only run on a terminal without --no-input)"
        ))
    }
}
