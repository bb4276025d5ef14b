//! Encryption at rest: `crm init --encrypt`, the key from `CRM_DB_KEY` or `--key-file`
//! (0600), exit 6 without it or with a wrong one, `rekey`, `encrypt` and `decrypt` of a
//! populated file (a kill -9 at each stage leaves a usable database), and backups that
//! stay encrypted. The file itself is looked at, so these are `SQLite`-only.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::harness::{Env, PW, engine_is_postgres, skip_unless_sqlite};

const KEY: &str = "tiger-lily-1987";
const NAMES: [&str; 3] = ["ACME Widgets", "Zenith Pumps", "深圳机密科技"];

/// Whether any of the customer names appears in the file or its `-wal`.
fn names_visible(db: &Path) -> bool {
    ["", "-wal"].iter().any(|s| {
        let mut p = db.as_os_str().to_owned();
        p.push(s);
        let bytes = std::fs::read(p).unwrap_or_default();
        NAMES
            .iter()
            .any(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
    })
}

fn is_plain(db: &Path) -> bool {
    std::fs::read(db)
        .expect("db")
        .starts_with(b"SQLite format 3\0")
}

/// A database with the customers in it, plain.
fn populated() -> Env {
    let env = Env::new();
    for n in NAMES {
        env.add("customer", &["--name", n]);
    }
    env
}

fn count(env: &Env, vars: &[(&str, &str)]) -> String {
    let r = env.run_env(&["find", "customer", "--count"], vars);
    r.ok();
    r.stdout.trim().to_string()
}

#[test]
fn an_encrypted_database_needs_its_key_and_shows_no_names() {
    if skip_unless_sqlite("the file's bytes") {
        return;
    }
    let env = Env::empty();
    let k = [("CRM_DB_KEY", KEY)];
    let mut init = env.cmd();
    init.env("CRM_DB_KEY", KEY)
        .args(["init", "--encrypt", "--password-stdin"])
        .write_stdin(PW);
    assert!(init.output().expect("init").status.success());
    let mut login = env.cmd();
    login
        .env("CRM_DB_KEY", KEY)
        .args(["login", "--user", "admin", "--password-stdin"])
        .write_stdin(PW);
    assert!(login.output().expect("login").status.success());
    // The session alone is not enough: every command needs the key.
    let none = env.run(&["find", "customer"]);
    none.code(6).one_error_line();
    assert!(
        none.stderr.contains("encrypted and no key"),
        "{}",
        none.stderr
    );
    let wrong = env.run_env(&["find", "customer"], &[("CRM_DB_KEY", "not-the-key")]);
    wrong.code(6).one_error_line();
    assert!(
        wrong.stderr.contains("key does not open"),
        "{}",
        wrong.stderr
    );
    assert!(
        !wrong.stderr.contains("file is not a database"),
        "{}",
        wrong.stderr
    );
    for n in NAMES {
        env.run_env(&["add", "customer", "--name", n, "-q"], &k)
            .ok();
    }
    assert_eq!(count(&env, &k), "3");
    env.run_env(&["check"], &k).ok();
    assert!(!is_plain(&env.db));
    assert!(
        !names_visible(&env.db),
        "a customer name is readable in the file"
    );
    // A garbage file is still a storage error (9), not a key problem.
    let junk = env.path("junk.db");
    std::fs::write(&junk, "not a database\n").expect("write");
    env.run(&["--db", junk.to_str().expect("utf-8"), "whoami"])
        .code(9);
}

#[test]
fn a_key_file_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    if skip_unless_sqlite("encryption is of the SQLite file") {
        return;
    }
    let env = populated();
    env.run_env(&["encrypt"], &[("CRM_DB_KEY", KEY)]).ok();
    let file = env.path("key");
    std::fs::write(&file, format!("{KEY}\n")).expect("write");
    let arg = file.to_str().expect("utf-8");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let open = env.run(&["--key-file", arg, "find", "customer", "--count"]);
    open.code(6).one_error_line();
    assert!(open.stderr.contains("0644"), "{}", open.stderr);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let ok = env.run(&["--key-file", arg, "find", "customer", "--count"]);
    assert_eq!(ok.ok().stdout.trim(), "3");
}

#[test]
fn rekey_changes_the_key_and_keeps_the_data() {
    if skip_unless_sqlite("encryption is of the SQLite file") {
        return;
    }
    let env = populated();
    let old = [("CRM_DB_KEY", KEY)];
    env.run_env(&["encrypt"], &old).ok();
    // Too short a new key is refused, nothing changed.
    env.run_env(
        &["rekey"],
        &[("CRM_DB_KEY", KEY), ("CRM_DB_NEW_KEY", "short")],
    )
    .code(6);
    assert_eq!(count(&env, &old), "3");
    env.run_env(
        &["rekey"],
        &[("CRM_DB_KEY", KEY), ("CRM_DB_NEW_KEY", "a-new-key-2027")],
    )
    .ok();
    env.run_env(&["find", "customer"], &old).code(6);
    let new = [("CRM_DB_KEY", "a-new-key-2027")];
    assert_eq!(count(&env, &new), "3");
    env.run_env(&["check"], &new).ok();
    assert!(!names_visible(&env.db));
}

#[test]
fn encrypt_and_decrypt_convert_a_populated_database_in_place() {
    if skip_unless_sqlite("encryption is of the SQLite file") {
        return;
    }
    let env = populated();
    assert!(names_visible(&env.db) || is_plain(&env.db));
    let k = [("CRM_DB_KEY", KEY)];
    env.run_env(&["encrypt"], &k).ok();
    assert!(!is_plain(&env.db));
    assert!(
        !names_visible(&env.db),
        "a name survived encryption in the clear"
    );
    assert_eq!(count(&env, &k), "3");
    env.run_env(&["check"], &k).ok();
    env.run_env(&["encrypt"], &k).code(5);
    // Nothing left beside it: the plain original went once the new file verified.
    let mut left: Vec<String> = std::fs::read_dir(env.dir.path())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("crm.db."))
        .collect();
    left.sort();
    assert!(left.is_empty(), "left behind: {left:?}");
    env.run_env(&["decrypt"], &k).ok();
    assert!(is_plain(&env.db));
    assert_eq!(count(&env, &[]), "3");
    env.run(&["check"]).ok();
    env.run(&["decrypt"]).code(5);
    // Admin only.
    env.add_user("sam", "manager");
    let sam = env.token("sam");
    env.run_as(&sam, &["encrypt"]).code(7);
}

/// Runs `crm encrypt` paused at `stage` (a test-build hook) and kills it with SIGKILL there.
fn kill_encrypt_at(env: &Env, stage: &str) {
    use std::process::Stdio;
    let mut child = env
        .hermetic(Env::bin())
        .args(["encrypt"])
        .env("CRM_DB_KEY", KEY)
        .env("CRM_TEST_PAUSE_AT", stage)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn crm");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    err.read_line(&mut line).expect("read stderr");
    assert!(line.contains(&format!("paused at {stage}")), "{line}");
    child.kill().expect("kill -9");
    let _ = child.wait();
}

#[test]
fn a_kill_during_encrypt_leaves_a_usable_database() {
    if skip_unless_sqlite("encryption is of the SQLite file") {
        return;
    }
    for (stage, encrypted) in [("exported", false), ("linked", false), ("renamed", true)] {
        let env = populated();
        kill_encrypt_at(&env, stage);
        let vars: &[(&str, &str)] = if encrypted {
            &[("CRM_DB_KEY", KEY)]
        } else {
            &[]
        };
        assert_eq!(is_plain(&env.db), !encrypted, "{stage}");
        assert_eq!(count(&env, vars), "3", "{stage}");
        env.run_env(&["check"], vars).ok();
        // And the conversion can be run again to the end.
        if !encrypted {
            env.run_env(&["encrypt"], &[("CRM_DB_KEY", KEY)]).ok();
            assert_eq!(count(&env, &[("CRM_DB_KEY", KEY)]), "3", "{stage}");
        }
    }
}

#[test]
fn a_backup_of_an_encrypted_database_stays_encrypted_and_restores() {
    if skip_unless_sqlite("encryption is of the SQLite file") {
        return;
    }
    let env = populated();
    let k = [("CRM_DB_KEY", KEY)];
    env.run_env(&["encrypt"], &k).ok();
    let backup = env.path("b.db");
    let arg = backup.to_str().expect("utf-8");
    env.run_env(&["backup", arg], &k).ok();
    assert!(!is_plain(&backup));
    assert!(!names_visible(&backup));
    env.run_env(&["add", "customer", "--name", "Later Co", "-q"], &k)
        .ok();
    env.run_env(&["restore", arg, "--force"], &k).ok();
    assert_eq!(count(&env, &k), "3");
    env.run_env(&["check"], &k).ok();
    assert!(!is_plain(&env.db));
}

#[test]
fn encryption_does_not_apply_to_a_server() {
    if !engine_is_postgres() {
        println!("SKIPPED (postgres only): the PostgreSQL refusal");
        return;
    }
    let env = Env::new();
    for cmd in [&["encrypt"][..], &["decrypt"], &["rekey"]] {
        let r = env.run_env(cmd, &[("CRM_DB_KEY", KEY)]);
        r.code(2).one_error_line();
        assert!(r.stderr.contains("SQLite file"), "{}", r.stderr);
    }
}

/// Writers keep adding while the file is encrypted and decrypted under them: a conversion
/// either happens or says the file changed (exit 8), a writer that lost its file to the swap
/// says so (8 or 9), no acknowledged write is lost and the file stays whole. (Peeking at the
/// header of the open file once dropped the process's locks on it, and a backup under
/// writers corrupted its source.)
#[test]
fn conversions_under_write_load_lose_nothing() {
    if skip_unless_sqlite("encryption is of the SQLite file") {
        return;
    }
    let env = Env::new();
    let token = env.token("admin");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (remote, stop) = (env.remote(&token), stop.clone());
        std::thread::spawn(move || {
            let (mut added, mut n) = (0_i64, 0);
            while !stop.load(Ordering::Relaxed) || n < 5 {
                let o = remote
                    .command()
                    .env("CRM_DB_KEY", KEY)
                    .args(["add", "customer", "--name", &format!("w {n}"), "-q"])
                    .output()
                    .expect("run crm");
                match o.status.code() {
                    Some(0) => added += 1,
                    Some(8 | 9) => {}
                    other => panic!("add: {other:?} {}", String::from_utf8_lossy(&o.stderr)),
                }
                n += 1;
            }
            added
        })
    };
    let k = [("CRM_DB_KEY", KEY)];
    for step in ["encrypt", "decrypt", "encrypt", "decrypt", "encrypt"] {
        let r = env.run_env(&[step], &k);
        assert!(
            [0, 5, 8].contains(&r.code),
            "{step}: {} {}",
            r.code,
            r.stderr
        );
    }
    stop.store(true, Ordering::Relaxed);
    let added = writer.join().expect("writer");
    assert_eq!(count(&env, &k), added.to_string());
    env.run_env(&["check"], &k).ok();
}
