//! B9: the command line at its edges: an existing output file (exit 5 without --force,
//! untouched; replaced whole with it), `-` for stdin and stdout, and password commands
//! without a terminal and without `--password-stdin` (exit 2 naming the flag).

use crate::harness::{Env, PW, engine_is_postgres, write};

fn leftovers(env: &Env) -> Vec<String> {
    std::fs::read_dir(env.dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            std::path::Path::new(n)
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("tmp"))
        })
        .collect()
}

#[test]
fn export_never_replaces_an_existing_file_without_force() {
    let env = Env::new();
    env.add("customer", &["--name", "导出客户", "--code", "E1"]);
    write(&env.path("out.csv"), "keep me\n");
    let r = env.run(&["export", "customer", "-o", "out.csv"]);
    r.code(5).one_error_line();
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(env.path("out.csv")).expect("out"),
        "keep me\n"
    );
    env.run(&["export", "customer", "-o", "out.csv", "--force"])
        .ok();
    let text = std::fs::read_to_string(env.path("out.csv")).expect("out");
    assert!(text.starts_with("code,name,"), "{text}");
    assert!(text.contains("E1,导出客户,"), "{text}");
    assert!(leftovers(&env).is_empty(), "{:?}", leftovers(&env));
}

#[test]
fn dash_means_stdout_for_export_and_stdin_for_import() {
    let env = Env::new();
    env.add(
        "customer",
        &["--name", "管道客户", "--code", "P1", "--city", "杭州"],
    );
    let r = env.run(&["export", "customer", "-o", "-"]);
    r.ok();
    assert!(r.stdout.contains("P1,管道客户,"), "{}", r.stdout);
    assert!(!env.path("-").exists(), "no file named '-'");
    // the exported text, fed back through stdin into a fresh database, is the same data
    let other = Env::new();
    other
        .run_stdin(&["import", "customer", "-", "-q"], &r.stdout)
        .ok();
    let again = other.run(&["export", "customer", "-o", "-"]);
    again.ok();
    assert_eq!(again.stdout, r.stdout);
    // JSON to stdout is complete JSON
    let j = env
        .run(&["export", "customer", "-o", "-", "--format", "json"])
        .ok()
        .json();
    assert_eq!(j[0]["city"], "杭州");
}

#[test]
fn password_commands_without_a_terminal_name_password_stdin() {
    let env = Env::new();
    // sessions table internals (sqlite only): no session was made
    let sessions = || (!engine_is_postgres()).then(|| env.sql_int("SELECT COUNT(*) FROM sessions"));
    let sessions_before = sessions();
    for args in [
        vec!["login", "--user", "admin"],
        vec!["user", "add", "ann", "--role", "sales"],
    ] {
        // stdin is not a terminal (empty), and no --password-stdin: never a silent empty password
        let r = env.run(&args);
        r.code(2).one_error_line();
        assert!(r.stderr.contains("--password-stdin"), "{}", r.stderr);
        assert!(!r.stderr.contains(PW));
    }
    assert_eq!(sessions(), sessions_before);
    assert_eq!(env.users().iter().filter(|u| u["name"] == "ann").count(), 0);
    // init the same way creates no database at all
    let fresh = Env::empty();
    let r = fresh.run(&["init"]);
    r.code(2).one_error_line();
    assert!(r.stderr.contains("--password-stdin"), "{}", r.stderr);
    assert!(!fresh.db_exists(), "no half-made database");
    // with the flag, a password piped in works
    fresh.run_stdin(&["init", "--password-stdin"], PW).ok();
}

#[test]
fn export_into_a_missing_directory_names_the_file_and_leaves_nothing() {
    let env = Env::new();
    env.add("customer", &["--name", "A"]);
    let r = env.run(&["export", "customer", "-o", "nodir/out.csv"]);
    r.one_error_line();
    assert!(r.code == 3 || r.code == 9, "exit {}: {}", r.code, r.stderr);
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("error line");
    assert!(line.contains("nodir/out.csv"), "names the file: {line}");
    assert!(!env.path("nodir").exists());
    assert!(r.stdout.is_empty());
}
