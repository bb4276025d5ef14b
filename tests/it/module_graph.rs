//! The module graph of `src/`, read from the source: the dependency circles issue 9 broke
//! (`cli ↔ cmd ↔ completions`, `import_run ↔ import_summary`, `init ↔ user`) stay broken,
//! and `db/` never reaches up into `report/`.
//!
//! A module depends on another when its code names it: `crate::…`, `super::…`, `self::…`
//! or a child module's name, in `use` lines (braces expanded) and in expressions alike.
//! A child naming one of its ancestors (`super::field_arg`) is not counted: that is how a
//! parent shares helpers with the modules it declares. Inline `#[cfg(test)] mod` blocks are
//! left out (test code is not part of the layering).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`cmd::import_run`, `""` for the crate root) → the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    Sep,
    Open,
    Close,
    Comma,
    Other,
}

/// Rust source as the tokens paths are made of; comments, strings and chars dropped.
fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_string = |mut i: usize| -> usize {
        // `i` is just past the opening quote of a string with escapes.
        while i < c.len() && c[i] != '"' {
            i += if c[i] == '\\' { 2 } else { 1 };
        }
        i + 1
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if ch == '"' {
            i = skip_string(i + 1);
            out.push(Tok::Other);
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if c.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
            out.push(Tok::Other);
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let next = c.get(i).copied();
            if matches!(word.as_str(), "r" | "br") && matches!(next, Some('"' | '#')) {
                // A raw string: r"…", r#"…"#.
                let mut hashes = 0;
                while c.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                i += 1;
                while i < c.len() {
                    if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                        i += 1 + hashes;
                        break;
                    }
                    i += 1;
                }
                out.push(Tok::Other);
            } else if word == "b" && next == Some('"') {
                i = skip_string(i + 1);
                out.push(Tok::Other);
            } else {
                out.push(Tok::Ident(word));
            }
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            i += 2;
            out.push(Tok::Sep);
        } else {
            out.push(match ch {
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                _ => Tok::Other,
            });
            i += 1;
        }
    }
    out
}

/// Every path of two or more segments, with `use` groups expanded: `crate::a::{b, c::d}`
/// gives `crate::a::b` and `crate::a::c::d`.
fn paths(t: &[Tok]) -> Vec<Vec<String>> {
    // Reads a path from `i` (an identifier) under `prefix`; returns where it stopped.
    fn path(t: &[Tok], mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
        let mut segs = prefix.to_vec();
        while let Some(Tok::Ident(w)) = t.get(i) {
            segs.push(w.clone());
            i += 1;
            if t.get(i) != Some(&Tok::Sep) {
                break;
            }
            i += 1;
            if t.get(i) == Some(&Tok::Open) {
                i += 1;
                while i < t.len() && t[i] != Tok::Close {
                    if matches!(t[i], Tok::Ident(_)) {
                        i = path(t, i, &segs, out);
                    }
                    // Skip `as alias` (or a glob) up to the next item.
                    while i < t.len() && !matches!(t[i], Tok::Comma | Tok::Close) {
                        i += 1;
                    }
                    if t.get(i) == Some(&Tok::Comma) {
                        i += 1;
                    }
                }
                return i + 1;
            }
        }
        if segs.len() >= 2 {
            out.push(segs);
        }
        i
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if matches!(t[i], Tok::Ident(_)) && t.get(i + 1) == Some(&Tok::Sep) {
            i = path(t, i, &[], &mut out);
        } else {
            i += 1;
        }
    }
    out
}

/// The module a source file is: `src/cmd/mod.rs` → `cmd`, `src/lib.rs` → `""`.
fn module_of(rel: &Path) -> Option<String> {
    let mut segs: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match segs.last().map(String::as_str) {
        Some("main") if segs.len() == 1 => return None,
        Some("lib") if segs.len() == 1 => segs.clear(),
        Some("mod") => {
            segs.pop();
        }
        _ => {}
    }
    Some(segs.join("::"))
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}::{b}")
    }
}

fn parent(m: &str) -> String {
    m.rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_string())
}

/// Whether `a` is `m` or one of its ancestors.
fn is_ancestor_or_self(a: &str, m: &str) -> bool {
    a.is_empty() || a == m || m.starts_with(&format!("{a}::"))
}

/// The dependency graph of the crate under `src`.
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rs_files(src, &mut files);
    let sources: BTreeMap<String, String> = files
        .iter()
        .filter_map(|f| {
            let m = module_of(f.strip_prefix(src).expect("under src"))?;
            let text = std::fs::read_to_string(f).expect("a readable source file");
            Some((m, text))
        })
        .collect();
    let modules: BTreeSet<&str> = sources.keys().map(String::as_str).collect();
    let mut g = Graph::new();
    for (m, text) in &sources {
        // Inline test modules come last in a file; their `super` is the file's module.
        let code = text
            .find("#[cfg(test)]\nmod ")
            .map_or(text.as_str(), |at| &text[..at]);
        let deps = g.entry(m.clone()).or_default();
        for segs in paths(&tokens(code)) {
            let (mut base, rest) = match segs[0].as_str() {
                "crate" => (String::new(), &segs[1..]),
                "self" => (m.clone(), &segs[1..]),
                "super" => {
                    let n = segs.iter().take_while(|s| *s == "super").count();
                    let mut b = m.clone();
                    for _ in 0..n {
                        b = parent(&b);
                    }
                    (b, &segs[n..])
                }
                child if modules.contains(join(m, child).as_str()) => (m.clone(), &segs[..]),
                _ => continue,
            };
            // The longest prefix that is a module is what the path names.
            let mut target = base.clone();
            for s in rest {
                base = join(&base, s);
                if modules.contains(base.as_str()) {
                    target.clone_from(&base);
                } else {
                    break;
                }
            }
            if !is_ancestor_or_self(&target, m) {
                deps.insert(target);
            }
        }
    }
    g
}

/// The modules `from` reaches through the graph.
fn reach(g: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for d in g.get(&m).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

/// Every circle through `m`: the modules that `m` reaches and that reach `m`.
fn circle_through(g: &Graph, m: &str) -> BTreeSet<String> {
    reach(g, m)
        .into_iter()
        .filter(|d| d == m || reach(g, d).contains(m))
        .collect()
}

fn src_graph() -> Graph {
    graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn the_broken_circles_stay_broken() {
    let g = src_graph();
    for m in [
        "cli",
        "cmd",
        "cmd::completions",
        "cmd::import_run",
        "cmd::import_summary",
        "cmd::import_json",
        "cmd::init",
        "cmd::user",
        "report",
        "period",
        "db::report",
    ] {
        assert!(g.contains_key(m), "no module {m} in src/: update this test");
        let circle = circle_through(&g, m);
        assert!(
            circle.is_empty(),
            "{m} is in a dependency circle with {circle:?}"
        );
    }
    // The edges that made them, named one by one so a failure says which came back.
    let forbidden = [
        ("cmd::completions", "cli"),
        ("cmd::import_summary", "cmd::import_run"),
        ("cmd::import_json", "cmd::import_run"),
        ("cmd::init", "cmd::user"),
        ("cmd::user", "cmd::init"),
    ];
    for (from, to) in forbidden {
        assert!(!g[from].contains(to), "{from} depends on {to} again");
    }
}

#[test]
fn db_never_reaches_up_into_reports() {
    let g = src_graph();
    for (m, deps) in g
        .iter()
        .filter(|(m, _)| m.as_str() == "db" || m.starts_with("db::"))
    {
        let up: Vec<&String> = deps
            .iter()
            .filter(|d| *d == "report" || d.starts_with("report::"))
            .collect();
        assert!(up.is_empty(), "{m} depends on {up:?}: db/ is below report/");
    }
}

#[test]
fn the_graph_reader_sees_every_form_of_path() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let src = dir.path();
    let write = |p: &str, text: &str| {
        let p = src.join(p);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    write(
        "lib.rs",
        "pub mod a;\npub mod b;\npub mod c;\nfn f() { a::x(); }\n",
    );
    write(
        "a/mod.rs",
        "mod kid;\nuse crate::{b::{self, Y}, c as cc};\n// crate::c::z in a comment\nfn g() { kid::h(); let s = \"crate::c\"; let q = '\"'; }\n",
    );
    write("a/kid.rs", "fn h() { super::g(); super::super::c::z(); }\n");
    write(
        "b.rs",
        "pub struct Y;\n#[cfg(test)]\nmod tests { use crate::c::z; }\n",
    );
    write("c.rs", "fn z() { let r = r#\"crate::b\"#; }\n");
    let g = graph(src);
    let deps = |m: &str| g[m].iter().cloned().collect::<Vec<_>>();
    assert_eq!(deps(""), ["a"]);
    assert_eq!(deps("a"), ["a::kid", "b", "c"]);
    assert_eq!(deps("a::kid"), ["c"], "its parent `a` is not counted");
    assert!(deps("b").is_empty(), "test modules are left out");
    assert!(deps("c").is_empty(), "strings are not paths");
}

/// Modules still in a circle, each left for its own item of issue 9 (or 10): `db::records ↔
/// rules` (pure rules), `csvio ↔ output`, and the `PostgreSQL` migrations. A circle among these
/// passes until its item breaks it; any circle through another module fails.
const STILL_IN_CIRCLES: &[&str] = &[
    "csvio",
    "db::audit",
    "db::audit::trail",
    "db::audit::verify",
    "db::batch",
    "db::batch::digest",
    "db::derive",
    "db::migrate::postgres::logins",
    "db::migrate::postgres::security",
    "db::records",
    "output",
    "output::stream",
    "rules",
    "rules::activity",
    "rules::lines",
    "rules::opportunity",
    "rules::ticket",
];

#[test]
fn no_new_circles() {
    let g = src_graph();
    for m in g.keys().filter(|m| !STILL_IN_CIRCLES.contains(&m.as_str())) {
        let circle = circle_through(&g, m);
        assert!(
            circle.is_empty(),
            "{m} is in a dependency circle with {circle:?}"
        );
    }
}
