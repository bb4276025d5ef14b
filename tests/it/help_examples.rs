//! Every example at the end of a command's `--help` runs as written on the demo database, so the
//! examples cannot rot; and every command's long help ends with its examples.

use crate::harness::{Env, skip_unless_sqlite, write};
use crm::help_examples::EXAMPLES;

/// Files the examples read, made beside the demo database.
fn fixtures(env: &Env) {
    use std::os::unix::fs::PermissionsExt;
    for (name, key) in [
        ("db-key.txt", "demo-db-key-1\n"),
        ("new-key.txt", "demo-db-key-2\n"),
    ] {
        write(&env.path(name), key);
        std::fs::set_permissions(env.path(name), std::fs::Permissions::from_mode(0o600))
            .expect("chmod 600");
    }
    write(&env.path("boss-password.txt"), "boss-password-1\n");
    write(&env.path("admin-password.txt"), "demo-password\n");
    write(&env.path("li-password.txt"), "demo-password\n");
    write(&env.path("zhang-password.txt"), "zhang-password-1\n");
    write(
        &env.path("old-and-new-password.txt"),
        "demo-password\nnew-password-123\n",
    );
    write(
        &env.path("customers.csv"),
        "code,name,city\nX000001,示例客户一,北京\nX000002,示例客户二,上海\n",
    );
}

/// Runs one example line in a fresh demo database with `crm` on PATH.
fn run_example(line: &str) -> Result<(), String> {
    let env = Env::empty();
    let demo = env.db.to_str().expect("utf-8 path");
    env.run(&["demo", "--path", demo]).ok();
    fixtures(&env);
    if line.contains("import revert") {
        // The batch to revert.
        env.run(&["import", "customer", "customers.csv"]).ok();
    }
    if line.contains("merge revert") {
        // The merge to revert.
        env.run(&["merge", "customer", "1", "2", "--yes"]).ok();
    }
    let bin_dir = env.path("bin");
    std::fs::create_dir(&bin_dir).expect("bin dir");
    std::os::unix::fs::symlink(Env::bin(), bin_dir.join("crm")).expect("symlink crm");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = env
        .hermetic("bash")
        .arg("-c")
        .arg(line)
        .env("PATH", path)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && !stderr.contains("error:") {
        Ok(())
    } else {
        Err(format!(
            "`{line}` exited {:?}:\n{}{stderr}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

#[test]
fn every_help_example_runs_on_the_demo_database() {
    if skip_unless_sqlite("each example runs on the SQLite file `crm demo --path` builds") {
        return;
    }
    let lines: Vec<&str> = EXAMPLES
        .iter()
        .flat_map(|(_, ex)| ex.iter().map(|e| e.line))
        .collect();
    assert!(lines.len() > 40, "examples for most commands");
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = lines
            .chunks(lines.len().div_ceil(4))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|l| run_example(l).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("example thread"))
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_command_long_help_ends_with_its_examples() {
    let env = Env::empty();
    for (path, examples) in EXAMPLES {
        let mut args: Vec<&str> = path.split(' ').collect();
        args.push("--help");
        let r = env.run(&args);
        r.ok();
        assert!(
            r.stdout.contains("Examples:"),
            "{path} --help has no examples"
        );
        for e in *examples {
            assert!(
                r.stdout.contains(e.line),
                "{path} --help lacks `{}`",
                e.line
            );
        }
    }
    // Every visible command and subcommand has examples (entity subcommands such as
    // `add customer` show their command's).
    let mut missing = Vec::new();
    lacking_examples(&crm::cli::build(), "", &mut missing);
    assert!(missing.is_empty(), "no examples: {missing:?}");
}

fn lacking_examples(cmd: &clap::Command, parent: &str, missing: &mut Vec<String>) {
    for c in cmd.get_subcommands() {
        if c.get_name() == "help" || c.is_hide_set() {
            continue;
        }
        let path = if parent.is_empty() {
            c.get_name().to_string()
        } else {
            format!("{parent} {}", c.get_name())
        };
        if crm::help_examples::of(&path).is_none() && crm::help_examples::of(parent).is_none() {
            missing.push(path.clone());
        }
        lacking_examples(c, &path, missing);
    }
}
