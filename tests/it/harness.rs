//! A hermetic environment for running the `crm` binary: temp HOME and XDG dirs, fixed TZ,
//! `NO_COLOR`, a fresh database, and helpers to log in as each role.
//!
//! The database is a `SQLite` file in the temp dir, or under `CRM_TEST_ENGINE=postgres` a
//! fresh database of its own on the `CRM_TEST_PG` cluster (dropped with its roles when the
//! `Env` is), so the same tests run against both engines.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// The password every test user gets.
pub const PW: &str = "correct horse battery";

/// A temp home with its own database.
/// What a thread of its own needs to run crm as one user on an env's database (the `Env`
/// stays with its test): [`Env::remote`].
pub struct Remote {
    db: PathBuf,
    home: PathBuf,
    token: String,
}

impl Remote {
    /// `crm` with the database, home and token, and nothing else of this process's
    /// environment.
    pub fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(Env::bin());
        c.env_clear()
            .env("HOME", &self.home)
            .env("CRM_DB", &self.db)
            .env("CRM_TOKEN", &self.token);
        c
    }
}

pub struct Env {
    pub dir: TempDir,
    /// What `--db`/`CRM_DB` names: the `SQLite` file's path, or the `PostgreSQL` database's
    /// URL (the cluster's superuser URL with this database swapped in).
    pub db: PathBuf,
    /// The `PostgreSQL` database behind `db` under `CRM_TEST_ENGINE=postgres`; dropping it
    /// drops the database and the roles made for it.
    pub pg: Option<crate::pg_harness::PgDb>,
}

/// What a run of `crm` produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8(o.stdout)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            stderr: String::from_utf8(o.stderr)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        }
    }
    /// Asserts the exit status, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, want: i32) -> &Run {
        assert_eq!(
            self.code, want,
            "exit status; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn ok(&self) -> &Run {
        self.code(0)
    }
    /// The stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
    /// Exactly one error on stderr: an `error:` line, or under `--format json` the JSON
    /// error object alone.
    #[track_caller]
    pub fn one_error_line(&self) -> &Run {
        let n = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:") || l.starts_with("{\"error\":"))
            .count();
        assert_eq!(n, 1, "want one error line, got:\n{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        self
    }
}

impl Env {
    /// A fresh environment with no database yet: no `SQLite` file, or an empty `PostgreSQL`
    /// database that `crm init` has not set up.
    pub fn empty() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        if engine_is_postgres() {
            announce_pending();
            let pg = crate::pg_harness::fresh_for_engine();
            let db = PathBuf::from(pg.url());
            return Env {
                dir,
                db,
                pg: Some(pg),
            };
        }
        let db = dir.path().join("crm.db");
        Env { dir, db, pg: None }
    }

    /// A fresh database with admin `admin` logged in.
    pub fn new() -> Env {
        let env = Env::empty();
        env.run_stdin(&["init", "--password-stdin"], PW).ok();
        if let Some(pg) = &env.pg {
            pg.follow_test_clock();
        }
        env.login("admin");
        env
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The `--db`/`CRM_DB` value as text (a path or a URL).
    pub fn db_arg(&self) -> String {
        self.db.to_str().expect("utf-8 database path").to_string()
    }

    /// Asserts that `shown` (`whoami`'s `database`) names this env's database: the `SQLite`
    /// file's canonical path, or a `PostgreSQL` URL of this database without a password.
    #[track_caller]
    pub fn assert_shows_db(&self, shown: &str) {
        if let Some(pg) = &self.pg {
            assert!(
                shown.starts_with("postgres")
                    && (shown.ends_with(&format!("/{}", pg.name))
                        || shown.contains(&format!("/{}?", pg.name))),
                "database {shown:?} is not {}",
                pg.name
            );
            assert!(!shown.contains(PW), "a password in {shown:?}");
        } else {
            let file = std::fs::canonicalize(&self.db).expect("the database file");
            assert_eq!(shown, file.to_str().expect("utf-8 path"));
        }
    }

    /// Whether the database exists: the `SQLite` file is there, or the `PostgreSQL`
    /// database has crm's schema (its `crm.users` table).
    pub fn db_exists(&self) -> bool {
        match &self.pg {
            Some(pg) => pg.is_set_up(),
            None => self.db.exists(),
        }
    }

    /// A `crm` command with the hermetic environment and `--db` set.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.hermetic(Self::bin()))
    }

    /// A process of `program` in the hermetic environment: temp HOME and XDG dirs, fixed TZ,
    /// `NO_COLOR`, `CRM_DB` set, nothing else inherited but `PATH`.
    pub fn hermetic(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut c = std::process::Command::new(program);
        let home = self.dir.path();
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("TZ", "Asia/Shanghai")
            .env("NO_COLOR", "1")
            .env("CRM_DB", &self.db)
            .current_dir(home);
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd().args(args).output().expect("run crm"))
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        Run::from(
            self.cmd()
                .args(args)
                .write_stdin(stdin.to_string())
                .output()
                .expect("run crm"),
        )
    }

    /// Runs with extra environment variables.
    pub fn run_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut c = self.cmd();
        for (k, v) in vars {
            c.env(k, v);
        }
        Run::from(c.args(args).output().expect("run crm"))
    }

    /// Logs in (saving the token file).
    pub fn login(&self, user: &str) {
        self.run_stdin(&["login", "--user", user, "--password-stdin"], PW)
            .ok();
    }

    /// A token for a user, for `CRM_TOKEN`.
    pub fn token(&self, user: &str) -> String {
        self.run_stdin(
            &["login", "--user", user, "--password-stdin", "--print-token"],
            PW,
        )
        .ok()
        .stdout
        .trim()
        .to_string()
    }

    /// Adds a user with a role (as the logged-in admin).
    pub fn add_user(&self, name: &str, role: &str) {
        self.run_stdin(
            &["user", "add", name, "--role", role, "--password-stdin"],
            PW,
        )
        .ok();
    }

    /// Runs as a given user through `CRM_TOKEN`.
    pub fn run_as(&self, token: &str, args: &[&str]) -> Run {
        self.run_env(args, &[("CRM_TOKEN", token)])
    }

    /// `add -q` and the new id.
    #[track_caller]
    pub fn add(&self, entity: &str, fields: &[&str]) -> i64 {
        let mut args = vec!["add", entity, "-q"];
        args.extend_from_slice(fields);
        let r = self.run(&args);
        r.ok();
        r.stdout
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("add printed no id: {}", r.stdout))
    }

    /// Opens the `SQLite` file directly, for the few tests that must look at the file (they
    /// start with `skip_unless_sqlite`); under another engine this is a test bug.
    #[track_caller]
    pub fn sql(&self) -> rusqlite::Connection {
        assert!(
            !engine_is_postgres(),
            "env.sql() reads the SQLite file, but CRM_TEST_ENGINE=postgres: read state through \
             crm (env.count, env.record, env.audits …) or start the test with \
             `if skip_unless_sqlite(\"why\") {{ return; }}`"
        );
        rusqlite::Connection::open(&self.db).expect("open db")
    }

    /// One integer from SQL on the `SQLite` file (see `sql`).
    #[track_caller]
    pub fn sql_int(&self, sql: &str) -> i64 {
        self.sql().query_row(sql, [], |r| r.get(0)).expect("sql")
    }
}

impl Env {
    /// The path of the built `crm` binary.
    pub fn bin() -> PathBuf {
        assert_cmd::cargo::cargo_bin("crm")
    }

    /// Runs crm as `token` on this database from another thread.
    pub fn remote(&self, token: &str) -> Remote {
        Remote {
            db: self.db.clone(),
            home: self.dir.path().to_path_buf(),
            token: token.to_string(),
        }
    }

    /// Runs as a user through `CRM_TOKEN`, with stdin.
    pub fn run_as_stdin(&self, token: &str, args: &[&str], stdin: &str) -> Run {
        let mut c = self.cmd();
        c.env("CRM_TOKEN", token);
        Run::from(
            c.args(args)
                .write_stdin(stdin.to_string())
                .output()
                .expect("run crm"),
        )
    }

    /// Runs a shell script (`$CRM` is the binary) in the hermetic environment.
    pub fn sh(&self, script: &str) -> Run {
        let out = self
            .hermetic("sh")
            .arg("-c")
            .arg(script)
            .env("CRM", Self::bin())
            .output()
            .expect("run sh");
        Run::from(out)
    }

    /// The number of audit rows matching a SQL condition (`SQLite` only: prefer `audits`).
    #[track_caller]
    pub fn audit_count(&self, cond: &str) -> i64 {
        self.sql_int(&format!("SELECT COUNT(*) FROM audit WHERE {cond}"))
    }
}

/// Writes a file under the env.
pub fn write(path: &Path, content: impl AsRef<[u8]>) {
    std::fs::write(path, content).expect("write file");
}

impl Env {
    /// Starts `crm` in the hermetic environment without waiting (stdio piped), for kills.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        use std::process::Stdio;
        self.hermetic(Self::bin())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn crm")
    }

    /// Writes a customers CSV of `n` rows with codes `{prefix}{i}` and returns its path.
    pub fn customers_csv(&self, name: &str, n: usize, prefix: &str) -> String {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(n * 40);
        s.push_str("name,code,city\n");
        for i in 0..n {
            let _ = writeln!(s, "{prefix}客户{i},{prefix}{i:06},深圳");
        }
        let p = self.path(name);
        write(&p, s);
        p.to_str().expect("utf-8 path").to_string()
    }
}

/// `PRAGMA integrity_check` of any `SQLite` file, opened read-only.
pub fn integrity(path: &Path) -> String {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only");
    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap_or_else(|e| format!("error: {e}"))
}

/// One integer from SQL on any `SQLite` file, opened read-only.
pub fn int_in(path: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only");
    c.query_row(sql, [], |r| r.get(0)).expect("sql")
}

/// Whether the suite runs against `PostgreSQL` (`CRM_TEST_ENGINE=postgres`) instead of `SQLite`.
pub fn engine_is_postgres() -> bool {
    std::env::var("CRM_TEST_ENGINE").is_ok_and(|e| e.eq_ignore_ascii_case("postgres"))
}

/// For a test that must look at the `SQLite` file itself: under another engine it prints
/// `SKIPPED (sqlite only): why` and returns true, so the test starts with
/// `if skip_unless_sqlite("why") { return; }`.
pub fn skip_unless_sqlite(why: &str) -> bool {
    if engine_is_postgres() {
        println!("SKIPPED (sqlite only): {why}");
        return true;
    }
    false
}

/// Reading state through crm itself (`--format json`), so a test holds for any engine.
impl Env {
    /// `crm --format json ARGS…` as the logged-in user; must succeed; stdout parsed.
    #[track_caller]
    pub fn read_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        self.run(&all).ok().json()
    }

    /// `crm --format json ARGS…` as the user of `token`; must succeed; stdout parsed.
    #[track_caller]
    pub fn read_json_as(&self, token: &str, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        self.run_as(token, &all).ok().json()
    }

    /// A JSON array as its items.
    #[track_caller]
    fn rows(&self, args: &[&str]) -> Vec<serde_json::Value> {
        match self.read_json(args) {
            serde_json::Value::Array(v) => v,
            other => panic!("`crm {}` printed no JSON array: {other}", args.join(" ")),
        }
    }

    /// How many records of `entity` there are (`crm find ENTITY --count`).
    #[track_caller]
    pub fn count(&self, entity: &str) -> i64 {
        self.count_where(entity, &[])
    }

    /// How many records of `entity` match every `--where` filter (`FIELD=V`, `FIELD~TEXT` …).
    #[track_caller]
    pub fn count_where(&self, entity: &str, filters: &[&str]) -> i64 {
        let mut args = vec!["find", entity, "--count"];
        for f in filters {
            args.extend_from_slice(&["--where", f]);
        }
        self.read_json(&args)
            .as_i64()
            .unwrap_or_else(|| panic!("find --count printed no number"))
    }

    /// The records of `entity` matching every `--where` filter, in id order.
    #[track_caller]
    pub fn find(&self, entity: &str, filters: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["find", entity, "--sort", "id"];
        for f in filters {
            args.extend_from_slice(&["--where", f]);
        }
        self.rows(&args)
    }

    /// How many distinct non-null values `field` has over all records of `entity`.
    #[track_caller]
    pub fn distinct(&self, entity: &str, field: &str) -> i64 {
        let set: std::collections::BTreeSet<String> = self
            .find(entity, &[])
            .iter()
            .filter_map(|r| text(&r[field]))
            .collect();
        i64::try_from(set.len()).expect("count")
    }

    /// The id of the one record of `entity` matching the filters.
    #[track_caller]
    pub fn id_where(&self, entity: &str, filters: &[&str]) -> i64 {
        let rows = self.find(entity, filters);
        assert_eq!(
            rows.len(),
            1,
            "want one {entity} where {filters:?}: {rows:?}"
        );
        rows[0]["id"].as_i64().expect("id")
    }

    /// One record as `crm show ENTITY ID --format json` has it (fields plus `related`).
    #[track_caller]
    pub fn record(&self, entity: &str, id: i64) -> serde_json::Value {
        self.read_json(&["show", entity, &id.to_string()])
    }

    /// Whether a record exists: `crm show` exits 0, or 3 (not found).
    #[track_caller]
    pub fn exists(&self, entity: &str, id: i64) -> bool {
        let r = self.run(&["show", entity, &id.to_string()]);
        assert!(r.code == 0 || r.code == 3, "show {entity} {id}: {r:?}");
        r.code == 0
    }

    /// The whole audit log, oldest first (`crm audit --format json`; admin).
    #[track_caller]
    pub fn audit_rows(&self) -> Vec<serde_json::Value> {
        self.rows(&["audit"])
    }

    /// How many audit rows have every given column equal to the given text (numbers compare
    /// by their decimal text; `NULL` never matches).
    #[track_caller]
    pub fn audits(&self, want: &[(&str, &str)]) -> i64 {
        self.audits_by(|r| {
            want.iter()
                .all(|(k, v)| text(&r[*k]).as_deref() == Some(*v))
        })
    }

    /// How many audit rows satisfy a predicate.
    #[track_caller]
    pub fn audits_by(&self, keep: impl Fn(&serde_json::Value) -> bool) -> i64 {
        let n = self.audit_rows().iter().filter(|r| keep(r)).count();
        i64::try_from(n).expect("count")
    }

    /// How many audit rows there are.
    #[track_caller]
    pub fn audit_total(&self) -> i64 {
        i64::try_from(self.audit_rows().len()).expect("count")
    }

    /// How many import batches there are.
    #[track_caller]
    pub fn batch_total(&self) -> i64 {
        i64::try_from(self.import_batches().len()).expect("count")
    }

    /// The highest audit id (0 when the log is empty).
    #[track_caller]
    pub fn audit_max_id(&self) -> i64 {
        self.audit_rows()
            .iter()
            .filter_map(|r| r["id"].as_i64())
            .max()
            .unwrap_or(0)
    }

    /// The store is whole: `PRAGMA integrity_check` says ok on the `SQLite` file; under
    /// another engine, every `crm check` that applies passes.
    #[track_caller]
    pub fn assert_whole(&self) {
        if engine_is_postgres() {
            let j = self.read_json(&["check"]);
            assert!(
                j.as_array()
                    .expect("checks")
                    .iter()
                    .all(|c| c["ok"] == true),
                "{j}"
            );
        } else {
            assert_eq!(integrity(&self.db), "ok");
        }
    }

    /// The users as `crm user list --format json` has them (admin).
    #[track_caller]
    pub fn users(&self) -> Vec<serde_json::Value> {
        self.rows(&["user", "list"])
    }

    /// The import batches, newest first (`crm import history --format json`).
    #[track_caller]
    pub fn import_batches(&self) -> Vec<serde_json::Value> {
        self.rows(&["import", "history"])
    }
}

/// A JSON scalar as text: strings as they are, numbers and booleans by their text, `null` none.
pub fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The tests not yet passing on `PostgreSQL`, each with its cause: `tests/it/pg_pending.txt`,
/// one `module::test  cause…` a line (`#` comments). `.ci/run` skips them in its `PostgreSQL`
/// pass and `CRM_TEST_PENDING=1 .ci/run` runs only them, to show they still fail.
pub fn pg_pending() -> Vec<(String, String)> {
    let text = include_str!("pg_pending.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((name, cause)) => (name.to_string(), cause.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// Under `PostgreSQL`, a test on the pending list says so at its start, so that its failure
/// (when it runs anyway) reads as the known gap it is. The test's name is its thread's
/// (libtest names each test's thread after it).
fn announce_pending() {
    let thread = std::thread::current();
    let Some(name) = thread.name() else { return };
    if let Some((_, cause)) = pg_pending().into_iter().find(|(n, _)| n == name) {
        println!("PENDING on postgres: {cause}");
    }
}

/// Every name on the pending list is a test of this binary (a stale name would be skipped
/// silently), and none of them says it is SQLite-only (those are not pending, they are out).
#[test]
fn pg_pending_names_real_tests() {
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .arg("--list")
        .output()
        .expect("list the tests");
    let listed = String::from_utf8_lossy(&out.stdout);
    let tests: std::collections::BTreeSet<&str> = listed
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .collect();
    let pending = pg_pending();
    assert!(!tests.is_empty(), "no tests listed: {listed}");
    for (name, cause) in &pending {
        assert!(
            tests.contains(name.as_str()),
            "pg_pending.txt: no test {name}"
        );
        assert!(!cause.is_empty(), "pg_pending.txt: {name} has no cause");
    }
}
