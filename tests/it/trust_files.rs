//! Issue 8, files crm writes: every writer (`export -o`, `import --rejects`, `backup`) against
//! every target it must never write (the open database by any name, its `-wal`/`-shm`, the
//! input being read, a device, a FIFO, a directory), with and without `--force`; the
//! database deleted under a running import; `backup` admin only; errors that name the file.

use std::io::Write as _;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use crate::harness::{Env, engine_is_postgres, skip_unless_sqlite, write};

/// A bad row, so that an import has something to write to its rejects file.
const INPUT: &str = "name,city\n好公司,深圳\n,坏行\n";

/// What a target looked like, to prove a refused write changed nothing.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    kind: String,
    ino: u64,
    mtime: (i64, i64),
    bytes: Option<Vec<u8>>,
    link: Option<std::path::PathBuf>,
}

fn seen(p: &Path) -> Seen {
    let l = std::fs::symlink_metadata(p).expect("target exists");
    let t = l.file_type();
    let kind = if t.is_symlink() {
        "symlink"
    } else if t.is_file() {
        "file"
    } else if t.is_dir() {
        "dir"
    } else if t.is_fifo() {
        "fifo"
    } else if t.is_char_device() {
        "device"
    } else {
        "other"
    };
    Seen {
        kind: kind.into(),
        ino: l.ino(),
        mtime: (l.mtime(), l.mtime_nsec()),
        bytes: t.is_file().then(|| std::fs::read(p).expect("read")),
        link: t
            .is_symlink()
            .then(|| std::fs::read_link(p).expect("readlink")),
    }
}

fn writer_args<'a>(writer: &str, target: &'a str, input: &'a str, force: bool) -> Vec<&'a str> {
    let mut a = match writer {
        "export" => vec!["export", "customer", "-o", target],
        "import" => vec![
            "import",
            "customer",
            input,
            "--on-error",
            "skip",
            "--rejects",
            target,
        ],
        _ => vec!["backup", target],
    };
    if force {
        a.push("--force");
    }
    a
}

/// Counts of everything a writer would change if it started its work.
fn work_done(env: &Env) -> (i64, i64, i64) {
    (
        env.count("customer"),
        env.batch_total(),
        env.audits_by(|r| r["action"] == "export" || r["action"] == "backup"),
    )
}

#[test]
fn no_writer_touches_the_database_its_companions_the_input_or_a_special_file() {
    let env = Env::new();
    env.add("customer", &["--name", "原有客户"]);
    let d = env.dir.path();
    let input = env.path("in.csv");
    write(&input, INPUT);
    // The database's own file, its companions and links to them: SQLite only.
    let file_db = !engine_is_postgres();
    if file_db {
        std::os::unix::fs::symlink(&env.db, d.join("db-link")).expect("symlink");
        std::fs::hard_link(&env.db, d.join("db-hard")).expect("hard link");
        std::os::unix::fs::symlink("crm.db-wal", d.join("wal-link")).expect("symlink");
    }
    std::os::unix::fs::symlink(&input, d.join("in-link")).expect("symlink");
    std::fs::create_dir(d.join("adir")).expect("dir");
    let fifo = env.hermetic("mkfifo").arg("fifo").status().expect("mkfifo");
    assert!(fifo.success());
    // A null device of our own (root only): never risk the machine's /dev/null.
    let device = env
        .hermetic("mknod")
        .args(["null-dev", "c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    if !device {
        println!("SKIPPED: device-node target (mknod needs root)");
    }
    let db = env.db.to_str().expect("utf-8").to_string();
    let input_s = input.to_str().expect("utf-8").to_string();
    let mut targets = if file_db {
        vec![
            db.as_str(),
            "crm.db",
            "./crm.db",
            "db-link",
            "db-hard",
            "crm.db-wal",
            "crm.db-shm",
            "wal-link",
        ]
    } else {
        Vec::new()
    };
    targets.extend(["adir", "fifo"]);
    if device {
        targets.push("null-dev");
    }
    let before = work_done(&env);
    for writer in ["export", "import", "backup"] {
        let mut ts = targets.clone();
        if writer == "import" {
            ts.extend(["in.csv", input_s.as_str(), "in-link"]);
        }
        for t in ts {
            for force in [false, true] {
                // `crm.db-wal`/`-shm` exist only while crm runs: compare what is there.
                let path = d.join(t);
                let was = path.symlink_metadata().is_ok().then(|| seen(&path));
                let r = env.run(&writer_args(writer, t, &input_s, force));
                r.code(5).one_error_line();
                assert!(
                    r.stderr.contains(&format!("will not write {t}")),
                    "{writer} {t}: {}",
                    r.stderr
                );
                let is_db = [db.as_str(), "crm.db", "./crm.db", "db-hard"].contains(&t);
                match was {
                    // The database's bytes change legitimately (sessions, checkpoints); what
                    // must hold is that it is still the same file.
                    Some(was) if is_db => {
                        let now = seen(&path);
                        assert_eq!((now.kind, now.ino), (was.kind, was.ino), "{writer} {t}");
                    }
                    Some(was) if !t.contains("-wal") && !t.contains("-shm") => {
                        assert_eq!(seen(&path), was, "{writer} --force={force} changed {t}");
                    }
                    _ => {}
                }
                assert_eq!(work_done(&env), before, "{writer} {t} did work first");
            }
        }
        env.run(&["check"]).ok();
    }
    assert_eq!(std::fs::read_to_string(&input).expect("input"), INPUT);
    // No temp file left anywhere.
    let tmp: Vec<_> = std::fs::read_dir(d)
        .expect("ls")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");
}

#[test]
fn an_existing_regular_file_is_replaced_only_with_force() {
    let env = Env::new();
    env.add("customer", &["--name", "甲"]);
    let input = env.path("in.csv");
    write(&input, INPUT);
    let input_s = input.to_str().expect("utf-8");
    for writer in ["export", "import", "backup"] {
        let out = env.path(&format!("{writer}.out"));
        let out_s = out.to_str().expect("utf-8");
        write(&out, "keep me");
        let r = env.run(&writer_args(writer, out_s, input_s, false));
        r.code(5).one_error_line();
        assert!(r.stderr.contains("--force"), "{}", r.stderr);
        assert_eq!(std::fs::read(&out).expect("kept"), b"keep me");
        // A symlink to a regular file: with --force the file it names is replaced.
        let link = env.path(&format!("{writer}.link"));
        std::os::unix::fs::symlink(&out, &link).expect("symlink");
        let code = if writer == "import" { 4 } else { 0 };
        env.run(&writer_args(
            writer,
            link.to_str().expect("utf-8"),
            input_s,
            true,
        ))
        .code(code);
        assert!(
            link.symlink_metadata()
                .expect("link")
                .file_type()
                .is_symlink()
        );
        let now = std::fs::read(&out).expect("replaced");
        assert_ne!(now, b"keep me", "{writer}");
        assert_eq!(
            out.metadata().expect("meta").mode() & 0o777,
            0o600,
            "{writer}"
        );
        std::fs::remove_file(&out).expect("rm");
        env.run(&writer_args(writer, out_s, input_s, false))
            .code(code);
        assert!(out.exists(), "{writer} writes a new file without --force");
    }
    env.run(&["check"]).ok();
}

#[test]
fn dash_is_stdout_for_every_writer() {
    let env = Env::new();
    env.add("customer", &["--name", "乙"]);
    let input = env.path("in.csv");
    write(&input, INPUT);
    let r = env.run(&["export", "customer", "-o", "-"]);
    r.ok();
    assert!(r.stdout.contains("乙"), "{}", r.stdout);
    let r = env.run(&writer_args(
        "import",
        "-",
        input.to_str().expect("utf-8"),
        false,
    ));
    r.code(4);
    assert!(r.stdout.contains("坏行"), "{}", r.stdout);
    // With --format json the summary owns stdout.
    let mut both = writer_args("import", "-", input.to_str().expect("utf-8"), false);
    both.extend(["--format", "json"]);
    env.run(&both).code(2).one_error_line();
    let out = env.cmd().args(["backup", "-"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.starts_with(b"SQLite format 3\0"));
    for name in ["-", "./-"] {
        assert!(!env.path(name).exists());
    }
}

#[test]
fn deleting_the_database_under_an_import_fails_with_9() {
    if skip_unless_sqlite("unlinks the SQLite file under a running import") {
        return;
    }
    let env = Env::new();
    let mut child = env.spawn(&["import", "customer", "-"]);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"name,city\n").expect("header");
    let row = "删除测试公司,深圳\n";
    // More than a pipe buffer: once written, crm is reading its input, so it has opened the
    // database (the session check comes first).
    for _ in 0..8000 {
        stdin.write_all(row.as_bytes()).expect("rows");
    }
    std::fs::remove_file(&env.db).expect("unlink the database");
    for _ in 0..1000 {
        stdin.write_all(row.as_bytes()).expect("rows");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(env.db.to_str().expect("utf-8")),
        "{stderr}"
    );
    assert!(lines[0].contains("deleted or replaced"), "{stderr}");
    assert!(!stderr.contains("imported customer"), "{stderr}");
}

#[test]
fn backup_is_for_admins_only() {
    let env = Env::new();
    for role in ["manager", "sales", "service", "viewer"] {
        let name = format!("u-{role}");
        env.add_user(&name, role);
        let token = env.token(&name);
        let file = env.path(&format!("{role}.db"));
        let r = env.run_as(&token, &["backup", file.to_str().expect("utf-8")]);
        r.code(7).one_error_line();
        assert!(r.stderr.contains("back up"), "{}", r.stderr);
        assert!(!file.exists(), "{role}");
        let r = env.run_as(&token, &["backup", "-"]);
        r.code(7);
        assert!(r.stdout.is_empty());
    }
    env.run(&["backup", env.path("admin.db").to_str().expect("utf-8")])
        .ok();
}

#[test]
fn file_errors_name_the_file_the_user_gave() {
    let env = Env::new();
    let r = env.run(&["import", "customer", "no-such.csv"]);
    r.code(3).one_error_line();
    assert!(
        r.stderr.contains("error: cannot read no-such.csv"),
        "{}",
        r.stderr
    );
    let input = env.path("in.csv");
    write(&input, INPUT);
    let input_s = input.to_str().expect("utf-8");
    for writer in ["export", "import", "backup"] {
        let r = env.run(&writer_args(writer, "nodir/out.x", input_s, false));
        r.code(9).one_error_line();
        let line = r
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .expect("line");
        assert!(line.contains("nodir/out.x"), "{writer}: {line}");
        assert!(!line.contains(".tmp"), "{writer}: {line}");
        assert!(!env.path("nodir").exists());
    }
    assert_eq!(env.count("customer"), 0);
}
