//! Generated docs: the committed man pages are current, completions render, `--help` and
//! `--version` succeed, global flags go before or after the subcommand.

use crate::harness::Env;

#[test]
fn committed_man_pages_are_current() {
    let env = Env::empty();
    let out = env.path("man");
    env.run(&["generate-man", out.to_str().unwrap()]).ok();
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let list = |d: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let stale = "man/ is stale: run `cargo run -- generate-man man` and commit the result";
    assert_eq!(list(&out), list(&committed), "{stale}");
    for name in list(&out) {
        assert!(
            std::fs::read(out.join(&name)).unwrap()
                == std::fs::read(committed.join(&name)).unwrap(),
            "{name} differs; {stale}"
        );
    }
    assert!(list(&out).contains(&"crm-add.1".to_string()));
    assert!(
        !list(&out).contains(&"crm-generate-man.1".to_string()),
        "hidden commands get no page"
    );
}

#[test]
fn completions_for_each_shell() {
    let env = Env::empty();
    for shell in ["bash", "zsh", "fish"] {
        let r = env.run(&["completions", shell]);
        r.ok();
        assert!(r.stdout.len() > 1000, "{shell} script is substantial");
        assert!(
            r.stdout.contains("customer"),
            "{shell} completes entity subcommands"
        );
    }
    env.run(&["completions", "tcsh"]).code(2).one_error_line();
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    let env = Env::empty();
    let r = env.run(&["--version"]);
    assert!(r.ok().stdout.starts_with("crm "));
    for args in [
        vec!["--help"],
        vec!["help"],
        vec!["add", "customer", "--help"],
        vec!["find", "--help"],
    ] {
        let r = env.run(&args);
        r.ok();
        assert!(r.stdout.contains("Usage"), "{args:?}");
        assert!(r.stderr.is_empty());
    }
    let r = env.run(&["add", "customer", "--help"]);
    for flag in ["--credit-code", "--name", "--level", "客户名称"] {
        assert!(r.stdout.contains(flag), "add customer --help lists {flag}");
    }
    assert!(!r.stdout.contains("--created-at") && !r.stdout.contains("--id "));
    // no subcommand: help on stderr, usage status
    let r = env.run(&[]);
    r.code(2);
    assert!(r.stdout.is_empty());
}

#[test]
fn schema_needs_no_login_and_lists_labels() {
    let env = Env::empty();
    let j = env
        .run(&["schema", "customer", "--format", "json"])
        .ok()
        .json();
    let s = j.to_string();
    assert!(
        s.contains("credit_code") && s.contains("客户名称"),
        "{s:.300}"
    );
}
