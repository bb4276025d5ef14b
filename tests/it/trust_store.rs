//! The data layer's boundary (issue 9, DESIGN "Two engines, one data layer"): only `src/db/`
//! knows which engine runs, so nothing above it names rusqlite.

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
            std::fs::read_to_string(p)
                .expect("read source")
                .contains("rusqlite")
        })
        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "rusqlite named outside src/db/: {offenders:?}"
    );
}
