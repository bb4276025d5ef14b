//! The data layer's boundary (issue 9, DESIGN "Two engines, one data layer"): only `src/db/`
//! knows which engine runs, so nothing above it names rusqlite or the postgres client.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_engine_type_is_named_above_the_data_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let db = src.join("db");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| !p.starts_with(&db))
        .filter(|p| {
            let text = std::fs::read_to_string(p).expect("read source");
            // Either engine's crate: rusqlite, or the postgres client.
            text.contains("rusqlite")
                || text.contains("postgres::")
                || text.contains("use postgres")
        })
        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "an engine crate named outside src/db/: {offenders:?}"
    );
}

fn codes(env: &crate::harness::Env, args: &[&str]) -> Vec<String> {
    let mut all = vec!["find", "customer"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--sort", "code", "--columns", "code", "--format", "json"]);
    env.run(&all)
        .ok()
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["code"].as_str().expect("code").to_string())
        .collect()
}

/// The spellings the SQL dialect supplies (`db/dialect.rs`), seen through `find`: a match
/// ignoring ASCII case, whole-tag membership and its negation, a null-safe `!=`, and an
/// offset without a limit.
#[test]
fn the_dialects_spellings_find_what_they_always_found() {
    let env = crate::harness::Env::new();
    env.add(
        "customer",
        &[
            "--name",
            "Acme Trading",
            "--level",
            "A",
            "--tags",
            "vip;east",
            "--code",
            "C1",
        ],
    );
    env.add(
        "customer",
        &[
            "--name",
            "ACME Retail",
            "--level",
            "B",
            "--tags",
            "vip2",
            "--code",
            "C2",
        ],
    );
    env.add("customer", &["--name", "Other Co", "--code", "C3"]);
    assert_eq!(codes(&env, &["acme"]), ["C1", "C2"]);
    assert_eq!(codes(&env, &["--where", "name~TRAD"]), ["C1"]);
    assert_eq!(codes(&env, &["--where", "tags=vip"]), ["C1"]);
    assert_eq!(codes(&env, &["--where", "tags!=vip"]), ["C2", "C3"]);
    // A record with no level differs from A too.
    assert_eq!(codes(&env, &["--where", "level!=A"]), ["C2", "C3"]);
    assert_eq!(codes(&env, &["--offset", "1"]), ["C2", "C3"]);
    assert_eq!(codes(&env, &["--offset", "1", "--limit", "1"]), ["C2"]);
}
