//! Where a `PostgreSQL` database is and how to reach it, as libpq users expect: a
//! `postgres://` or `postgresql://` URL (with `?host=/socket/dir` for a unix socket), the
//! `PG*` variables for whatever the URL leaves out, and `~/.pgpass` (or `PGPASSFILE`) for
//! the password. Never a password on the command line: the URL may carry one, but crm's
//! own commands take it from stdin, a prompt, the session file or these two sources.

use std::path::PathBuf;
use std::str::FromStr;

use postgres::Config;
use postgres::config::Host;

use crate::error::{Error, Result};

/// How much the connection checks the server (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A `PostgreSQL` target with every libpq default applied.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub config: Config,
    pub tls: Tls,
    /// `sslrootcert`: the root certificate that `verify-ca`/`verify-full` trust.
    pub root_cert: Option<PathBuf>,
}

/// Whether a `--db` value names a `PostgreSQL` database rather than a file.
pub fn is_url(target: &str) -> bool {
    let lower = target.get(..13).unwrap_or(target).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// What the environment says: a variable's value, unless unset or empty.
type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl ConnInfo {
    /// Parses a URL and fills the gaps from the process environment and `.pgpass`.
    pub fn parse(url: &str) -> Result<ConnInfo> {
        ConnInfo::parse_with(url, &process_env)
    }

    /// As [`ConnInfo::parse`], with the environment given (for tests).
    pub fn parse_with(url: &str, env: Env<'_>) -> Result<ConnInfo> {
        let (url, mode) = take_param(url, "sslmode");
        let (url, root_cert) = take_param(&url, "sslrootcert");
        let mut config = Config::from_str(&url).map_err(|e| {
            Error::usage(format!("--db: not a valid PostgreSQL URL: {e}"))
                .hint("write it as postgres://USER@HOST:PORT/DATABASE or postgres:///DATABASE?host=/socket/dir")
        })?;
        if config.get_hosts().is_empty() {
            let hosts = env("PGHOST").unwrap_or_else(|| "/var/run/postgresql".into());
            for h in hosts.split(',') {
                if h.starts_with('/') {
                    config.host_path(h);
                } else {
                    config.host(h);
                }
            }
        }
        if config.get_ports().is_empty()
            && let Some(p) = env("PGPORT")
        {
            let port = p
                .parse::<u16>()
                .map_err(|_| Error::usage(format!("PGPORT={p} is not a port number")))?;
            config.port(port);
        }
        if config.get_user().is_none() {
            let user = env("PGUSER")
                .or_else(|| env("USER"))
                .unwrap_or_else(|| "postgres".into());
            config.user(&user);
        }
        if config.get_dbname().is_none() {
            let db = env("PGDATABASE")
                .unwrap_or_else(|| config.get_user().unwrap_or_default().to_string());
            config.dbname(&db);
        }
        let mode = match mode.or_else(|| env("PGSSLMODE")) {
            None => Tls::Prefer,
            Some(m) => parse_sslmode(&m)?,
        };
        if config.get_password().is_none() {
            if let Some(pw) = env("PGPASSWORD") {
                config.password(pw);
            } else if let Some(pw) = pgpass_password(&config, env) {
                config.password(pw);
            }
        }
        Ok(ConnInfo {
            config,
            tls: mode,
            root_cert: root_cert
                .or_else(|| env("PGSSLROOTCERT"))
                .map(PathBuf::from),
        })
    }

    /// The database's name (what role names are namespaced by).
    pub fn dbname(&self) -> &str {
        self.config.get_dbname().unwrap_or_default()
    }

    /// Where the database is, for messages and `whoami`: no user and never a password
    /// (`pg_role` says who), a unix socket as libpq writes it.
    pub fn display(&self) -> String {
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        match self.config.get_hosts().first() {
            Some(Host::Unix(dir)) if port == 5432 => {
                format!("postgres:///{}?host={}", self.dbname(), dir.display())
            }
            Some(Host::Unix(dir)) => format!(
                "postgres:///{}?host={}&port={port}",
                self.dbname(),
                dir.display()
            ),
            Some(Host::Tcp(h)) => format!("postgres://{h}:{port}/{}", self.dbname()),
            None => format!("postgres:///{}", self.dbname()),
        }
    }
}

/// Removes `name=…` from the URL's query (the client library knows only some of libpq's
/// `sslmode`s and no `sslrootcert`) and returns its value apart.
fn take_param(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut mode = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.split_once('=') {
            Some((k, v)) if k == name => {
                mode = Some(v.to_string());
                false
            }
            _ => true,
        })
        .collect();
    if kept.is_empty() {
        (base.to_string(), mode)
    } else {
        (format!("{base}?{}", kept.join("&")), mode)
    }
}

fn parse_sslmode(m: &str) -> Result<Tls> {
    Ok(match m {
        "disable" => Tls::Disable,
        "allow" | "prefer" => Tls::Prefer,
        "require" => Tls::Require,
        "verify-ca" => Tls::VerifyCa,
        "verify-full" => Tls::VerifyFull,
        other => {
            return Err(
                Error::usage(format!("sslmode={other} is not a libpq sslmode"))
                    .hint("use disable, prefer, require, verify-ca or verify-full"),
            );
        }
    })
}

/// The password `.pgpass` holds for this host, port, database and user (libpq's rules:
/// first matching line wins, `*` matches anything, `\` escapes `:` and `\`; a unix socket
/// matches `localhost`; the file is ignored unless only its owner can read it).
fn pgpass_password(config: &Config, env: Env<'_>) -> Option<String> {
    let path = env("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return None;
        }
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let host = match config.get_hosts().first()? {
        Host::Tcp(h) => h.clone(),
        Host::Unix(_) => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let want = [
        host.as_str(),
        port.as_str(),
        config.get_dbname().unwrap_or_default(),
        config.get_user().unwrap_or_default(),
    ];
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let f = pgpass_fields(line);
            (f.len() == 5 && f.iter().zip(want).all(|(got, w)| got == "*" || got == w))
                .then(|| f[4].clone())
        })
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().expect("one field at least").push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field at least").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn url_names_engine() {
        assert!(is_url("postgres://x/y"));
        assert!(is_url("PostgreSQL://x/y"));
        assert!(!is_url("crm.db"));
        assert!(!is_url("./postgres://x"));
    }

    #[test]
    fn env_fills_what_the_url_leaves_out() {
        let env = env_of(&[
            ("PGHOST", "/tmp/sock"),
            ("PGPORT", "5433"),
            ("PGUSER", "ann"),
            ("PGDATABASE", "prod"),
            ("PGPASSWORD", "pw"),
            ("PGSSLMODE", "require"),
        ]);
        let c = ConnInfo::parse_with("postgres://", &env).unwrap();
        assert_eq!(c.config.get_hosts(), &[Host::Unix("/tmp/sock".into())]);
        assert_eq!(c.config.get_ports(), &[5433]);
        assert_eq!(c.config.get_user(), Some("ann"));
        assert_eq!(c.dbname(), "prod");
        assert_eq!(c.config.get_password(), Some(&b"pw"[..]));
        assert_eq!(c.tls, Tls::Require);
    }

    #[test]
    fn url_wins_over_env_and_verify_full_is_kept() {
        let env = env_of(&[("PGUSER", "ann"), ("PGDATABASE", "prod")]);
        let c = ConnInfo::parse_with(
            "postgresql://bob@db.example:6000/staging?sslmode=verify-full",
            &env,
        )
        .unwrap();
        assert_eq!(c.config.get_user(), Some("bob"));
        assert_eq!(c.dbname(), "staging");
        assert_eq!(c.tls, Tls::VerifyFull);
        assert_eq!(c.display(), "postgres://db.example:6000/staging");
    }

    #[test]
    fn socket_dir_in_query() {
        let env = env_of(&[]);
        let c = ConnInfo::parse_with("postgres://ann@/prod?host=/run/pg", &env).unwrap();
        assert_eq!(c.config.get_hosts(), &[Host::Unix("/run/pg".into())]);
        assert!(ConnInfo::parse_with("postgres://x/y?sslmode=sometimes", &env).is_err());
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        assert_eq!(
            pgpass_fields(r"h:5432:*:ann:p\:w\\x"),
            vec!["h", "5432", "*", "ann", r"p:w\x"]
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "other:*:*:*:no\nlocalhost:*:prod:ann:secret\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let path = file.display().to_string();
        let env = move |k: &str| (k == "PGPASSFILE").then(|| path.clone());
        let c = ConnInfo::parse_with("postgres://ann@/prod?host=/s", &env).unwrap();
        assert_eq!(c.config.get_password(), Some(&b"secret"[..]));
    }
}
