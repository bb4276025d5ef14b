//! The `SQLCipher` settings of encrypted files: crm writes new ones with 16 KiB pages and
//! HMAC-SHA256, marked in the clear salt ("crm\x01"), and still opens, backs up, restores,
//! rekeys and decrypts a file an earlier crm encrypted with `SQLCipher`'s defaults (4 KiB
//! pages, HMAC-SHA512), with exit 6 for a wrong or missing key on both kinds.

use std::path::Path;

use crate::harness::{Env, skip_unless_sqlite};

const KEY: &str = "tiger-lily-1987";
const MARK: &[u8] = b"crm\x01";
const CRM_SETTINGS: &str =
    "PRAGMA cipher_page_size = 16384; PRAGMA cipher_hmac_algorithm = HMAC_SHA256;";

fn marked(db: &Path) -> bool {
    std::fs::read(db).expect("db").starts_with(MARK)
}

/// Whether `db` opens with `key` and `settings` given to `SQLCipher` directly.
fn opens_with(db: &Path, key: &str, settings: &str) -> bool {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open");
    c.pragma_update(None, "key", key).expect("key");
    c.execute_batch(settings).expect("settings");
    c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(()))
        .is_ok()
}

/// Rewrites the plain crm database `db` encrypted with `SQLCipher`'s defaults, as crm did
/// before it had settings of its own.
fn encrypt_as_earlier_crm(db: &Path) {
    let old = db.with_extension("earlier");
    {
        let c = rusqlite::Connection::open(db).expect("open");
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoint");
        c.execute(
            "ATTACH DATABASE ?1 AS old KEY ?2",
            [old.to_str().expect("utf-8"), KEY],
        )
        .expect("attach");
        c.query_row("SELECT sqlcipher_export('old')", [], |_| Ok(()))
            .expect("export");
        let app: i64 = c
            .query_row("PRAGMA main.application_id", [], |r| r.get(0))
            .expect("app id");
        let version: i64 = c
            .query_row("PRAGMA main.user_version", [], |r| r.get(0))
            .expect("version");
        c.execute_batch(&format!(
            "PRAGMA old.application_id = {app}; PRAGMA old.user_version = {version}; DETACH old;"
        ))
        .expect("header");
    }
    for s in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(s);
        let _ = std::fs::remove_file(p);
    }
    std::fs::rename(&old, db).expect("rename");
}

fn count(env: &Env, vars: &[(&str, &str)]) -> String {
    let r = env.run_env(&["find", "customer", "--count"], vars);
    r.ok();
    r.stdout.trim().to_string()
}

fn populated() -> Env {
    let env = Env::new();
    for n in ["ACME Widgets", "Zenith Pumps", "深圳机密科技"] {
        env.add("customer", &["--name", n]);
    }
    env
}

/// A wrong key and a missing key are exit 6, one line.
fn refuses_wrong_and_missing_keys(env: &Env) {
    let wrong = env.run_env(&["find", "customer"], &[("CRM_DB_KEY", "not-the-key")]);
    wrong.code(6).one_error_line();
    assert!(
        wrong.stderr.contains("key does not open"),
        "{}",
        wrong.stderr
    );
    env.run(&["find", "customer"]).code(6).one_error_line();
}

#[test]
fn new_encrypted_files_use_crms_settings_and_mark_them() {
    if skip_unless_sqlite("the file's bytes") {
        return;
    }
    let env = populated();
    let k = [("CRM_DB_KEY", KEY)];
    env.run_env(&["encrypt"], &k).ok();
    assert!(marked(&env.db), "crm encrypt wrote an unmarked salt");
    assert!(opens_with(&env.db, KEY, CRM_SETTINGS));
    assert!(
        !opens_with(&env.db, KEY, ""),
        "the file opens with SQLCipher's defaults: crm's settings were not applied"
    );
    let backup = env.path("b.db");
    env.run_env(&["backup", backup.to_str().expect("utf-8")], &k)
        .ok();
    assert!(marked(&backup) && opens_with(&backup, KEY, CRM_SETTINGS));
    // Two files, two salts: only the mark is shared.
    let salt = |p: &Path| std::fs::read(p).expect("read")[..16].to_vec();
    assert_ne!(salt(&env.db), salt(&backup));
    // A wrong or missing key is still exit 6.
    refuses_wrong_and_missing_keys(&env);
    let fresh = Env::empty();
    let mut init = fresh.cmd();
    init.env("CRM_DB_KEY", KEY)
        .args(["init", "--encrypt", "--password-stdin"])
        .write_stdin(crate::harness::PW);
    assert!(init.output().expect("init").status.success());
    assert!(marked(&fresh.db) && opens_with(&fresh.db, KEY, CRM_SETTINGS));
}

#[test]
fn a_file_an_earlier_crm_encrypted_still_opens_restores_rekeys_and_decrypts() {
    if skip_unless_sqlite("the file's bytes") {
        return;
    }
    let env = populated();
    encrypt_as_earlier_crm(&env.db);
    assert!(!marked(&env.db) && opens_with(&env.db, KEY, ""));
    let k = [("CRM_DB_KEY", KEY)];
    assert_eq!(count(&env, &k), "3");
    env.run_env(&["check"], &k).ok();
    refuses_wrong_and_missing_keys(&env);
    // Writes land in the file's own settings.
    env.run_env(&["add", "customer", "--name", "Later Co", "-q"], &k)
        .ok();
    assert!(!marked(&env.db) && opens_with(&env.db, KEY, ""));
    // An earlier crm's backup restores, rewritten in crm's settings.
    let earlier = env.path("earlier-backup.db");
    std::fs::copy(&env.db, &earlier).expect("copy");
    env.run_env(&["add", "customer", "--name", "After The Backup", "-q"], &k)
        .ok();
    env.run_env(
        &["restore", earlier.to_str().expect("utf-8"), "--force"],
        &k,
    )
    .ok();
    assert_eq!(count(&env, &k), "4");
    assert!(marked(&env.db) && opens_with(&env.db, KEY, CRM_SETTINGS));
    // Rekey and decrypt of an earlier crm's file.
    let env = populated();
    encrypt_as_earlier_crm(&env.db);
    let new = [("CRM_DB_KEY", KEY), ("CRM_DB_NEW_KEY", "a-new-key-2027")];
    env.run_env(&["rekey"], &new).ok();
    assert!(marked(&env.db) && opens_with(&env.db, "a-new-key-2027", CRM_SETTINGS));
    env.run_env(&["find", "customer"], &k).code(6);
    assert_eq!(count(&env, &[("CRM_DB_KEY", "a-new-key-2027")]), "3");
    let env = populated();
    encrypt_as_earlier_crm(&env.db);
    env.run_env(&["decrypt"], &k).ok();
    assert!(
        std::fs::read(&env.db)
            .expect("db")
            .starts_with(b"SQLite format 3\0")
    );
    assert_eq!(count(&env, &[]), "3");
    env.run(&["check"]).ok();
}
