//! Import and export under faults: kill -9 and signals mid-import, a full disk, two imports
//! at once, a closed pipe. No sleeps: waits are busy polls on the process or on elapsed time.

use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use std::fmt::Write as _;

use crate::harness::{Env, PW, skip_unless_sqlite, write};

/// A customers file of `n` rows without codes (each import generates fresh ones).
fn big_file(env: &Env, name: &str, n: usize, prefix: &str) -> String {
    let mut s = String::with_capacity(n * 80);
    s.push_str("name,city,phone,email,tags,notes\n");
    for i in 0..n {
        _ = write!(
            s,
            "{prefix}客户{i},深圳,1380013{:04},u{i}@example.cn,重点;VIP,\"多行\n备注 {i}\"\n",
            i % 10_000
        );
    }
    let p = env.path(name);
    write(&p, s);
    p.to_str().expect("path").to_string()
}

fn spawn(env: &Env, args: &[&str]) -> Child {
    let mut c = env.hermetic(Env::bin());
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.spawn().expect("spawn crm")
}

/// Waits (busy, yielding) until the child exits or `d` passes; true when it exited.
fn wait_for(child: &mut Child, d: Duration) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < d {
        if child.try_wait().expect("try_wait").is_some() {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

fn integrity_ok(env: &Env) {
    env.assert_whole();
}

/// The customer table's indexes, as `sqlite_master` has them.
fn customer_indexes(env: &Env) -> Vec<(String, Option<String>)> {
    env.sql()
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customer' ORDER BY name")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// A large import sets the secondary indexes aside and rebuilds them inside its one
/// transaction (forced here on a small file): a kill at any moment, the rebuild included,
/// leaves the rows and the indexes as before or all done.
#[cfg(feature = "test-clock")]
#[test]
fn kill_9_during_an_index_rebuild_leaves_the_indexes_whole() {
    if skip_unless_sqlite("SQLite's index set-aside and rebuild, read from sqlite_master") {
        return;
    }
    let env = Env::new();
    let n = 60_000;
    let file = big_file(&env, "big.csv", n, "R");
    let before = customer_indexes(&env);
    assert!(before.len() > 1, "{before:?}");
    let mut seen_partial_run = false;
    for delay_ms in [0, 100, 400, 800, 1_200, 60_000] {
        let mut c = env.hermetic(Env::bin());
        c.env("CRM_TEST_DEFER_BYTES", "1")
            .args(["import", "customer", &file, "-q"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().expect("spawn crm");
        if !wait_for(&mut child, Duration::from_millis(delay_ms)) {
            child.kill().expect("kill -9");
            seen_partial_run = true;
        }
        child.wait().expect("wait");
        let count = env.count("customer");
        assert_eq!(count % i64::try_from(n).expect("n"), 0, "{count} rows");
        assert_eq!(customer_indexes(&env), before, "after {delay_ms} ms");
        integrity_ok(&env);
    }
    assert!(seen_partial_run, "at least one run was killed mid-way");
    assert!(env.count("customer") >= i64::try_from(n).expect("n"));
    env.run(&["find", "customer", "--where", "owner=admin", "--count"])
        .ok();
}

#[test]
fn kill_9_mid_import_leaves_nothing_or_everything() {
    let env = Env::new();
    let n = 60_000;
    let file = big_file(&env, "big.csv", n, "K");
    let mut seen_partial_run = false;
    for delay_ms in [0, 30, 100, 250, 500, 800, 60_000] {
        let mut child = spawn(&env, &["import", "customer", &file, "-q"]);
        let exited = wait_for(&mut child, Duration::from_millis(delay_ms));
        if !exited {
            child.kill().expect("kill -9");
            seen_partial_run = true;
        }
        child.wait().expect("wait");
        let count = env.count("customer");
        assert_eq!(
            count % i64::try_from(n).expect("n"),
            0,
            "after {delay_ms} ms: {count} rows, never partial"
        );
        integrity_ok(&env);
        env.run(&["find", "customer", "--count"]).ok();
    }
    assert!(seen_partial_run, "at least one run was killed mid-way");
    assert!(env.count("customer") > 0, "the last run completed");
}

/// Feeds rows on stdin, signals once crm is reading, feeds more: the signal rolls back.
fn signal_mid_import(sig: &str, code: i32) {
    let env = Env::new();
    let mut child = spawn(&env, &["import", "customer", "-"]);
    let mut stdin = child.stdin.take().expect("stdin");
    let row = "信号测试公司,深圳,13800138000,a@b.cn,x,notes\n";
    stdin
        .write_all(b"name,city,phone,email,tags,notes\n")
        .expect("header");
    // More than a pipe buffer: once written, crm has started reading (handler installed).
    for _ in 0..4000 {
        stdin.write_all(row.as_bytes()).expect("rows");
    }
    let pid = child.id().to_string();
    let st = std::process::Command::new("kill")
        .args([sig, &pid])
        .status()
        .expect("kill");
    assert!(st.success());
    for _ in 0..4000 {
        if stdin.write_all(row.as_bytes()).is_err() {
            break;
        }
    }
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(
        stderr.contains("error: interrupted") || stderr.contains("error: terminated"),
        "{stderr}"
    );
    assert_eq!(env.count("customer"), 0);
    assert_eq!(env.batch_total(), 0);
    integrity_ok(&env);
}

#[test]
fn sigint_mid_import_rolls_back() {
    signal_mid_import("-INT", 130);
}

#[test]
fn sigterm_mid_import_rolls_back() {
    signal_mid_import("-TERM", 143);
}

#[test]
fn two_imports_at_once_both_succeed() {
    let env = Env::new();
    let a = big_file(&env, "a.csv", 3000, "A");
    let b = big_file(&env, "b.csv", 3000, "B");
    let mut ca = spawn(&env, &["import", "customer", &a]);
    let mut cb = spawn(&env, &["import", "customer", &b]);
    for c in [&mut ca, &mut cb] {
        let st = c.wait().expect("wait");
        let mut err = String::new();
        c.stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read");
        assert!(st.success(), "{err}");
    }
    assert_eq!(env.count("customer"), 6000);
    assert_eq!(env.distinct("customer", "code"), 6000);
    assert_eq!(env.batch_total(), 2);
}

#[test]
fn closed_pipe_during_export_is_quiet() {
    let env = Env::new();
    let f = big_file(&env, "p.csv", 5000, "P");
    env.run(&["import", "customer", &f]).ok();
    for format in ["csv", "json"] {
        let mut child = spawn(&env, &["export", "customer", "--format", format]);
        let mut out = child.stdout.take().expect("stdout");
        let mut buf = [0u8; 100];
        out.read_exact(&mut buf).expect("some output");
        drop(out);
        let o = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            matches!(o.status.code(), Some(0 | 141)) || o.status.code().is_none(),
            "{:?} {stderr}",
            o.status
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{stderr}"
        );
    }
}

/// Unmounts the small tmpfs however the test ends.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
#[allow(clippy::print_stdout)] // the CI log shows why the scenario did not run
fn full_disk_gives_exit_9_and_changes_nothing() {
    if skip_unless_sqlite("the SQLite file on a full tmpfs") {
        return;
    }
    let env = Env::empty();
    let mnt = env.path("small");
    std::fs::create_dir_all(&mnt).expect("mkdir");
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("SKIPPED: full_disk_gives_exit_9_and_changes_nothing: cannot mount a tmpfs here");
        return;
    }
    let _guard = Unmount(mnt.clone());
    let env = Env {
        dir: env.dir,
        db: mnt.join("crm.db"),
        pg: None,
    };
    env.run_stdin(&["init", "--password-stdin"], PW).ok();
    env.login("admin");
    let small = big_file(&env, "small.csv", 10, "S");
    env.run(&["import", "customer", &small]).ok();
    let file = big_file(&env, "huge.csv", 40_000, "H");
    let r = env.run(&["import", "customer", &file]);
    r.code(9).one_error_line();
    assert!(r.stderr.contains("full"), "{}", r.stderr);
    assert_eq!(env.count("customer"), 10);
    integrity_ok(&env);
    // A failed export to the full disk leaves no truncated file behind.
    let filler = mnt.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 4 << 20]);
    let out = mnt.join("out.csv");
    let r = env.run(&["export", "customer", "-o", out.to_str().expect("path")]);
    if r.code != 0 {
        assert_eq!(r.code, 9, "{}", r.stderr);
        assert!(!out.exists());
        let leftovers = std::fs::read_dir(&mnt)
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(leftovers, 0);
    }
    let _ = std::fs::remove_file(&filler);
    env.run(&["find", "customer", "--count"]).ok();
}

#[test]
fn import_waits_for_a_lock_then_exits_8_and_writes_nothing() {
    if skip_unless_sqlite("holds the SQLite file's write lock from a second connection") {
        return;
    }
    let env = Env::new();
    let f = big_file(&env, "l.csv", 50, "L");
    let holder = env.sql();
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("hold the write lock");
    let t0 = Instant::now();
    let r = env.run(&["import", "customer", &f, "--busy-timeout", "0.5"]);
    r.code(8).one_error_line();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "gave up near the timeout"
    );
    assert!(r.stderr.contains("retry"), "{}", r.stderr);
    holder.execute_batch("ROLLBACK").expect("release");
    assert_eq!(env.count("customer"), 0);
    env.run(&["import", "customer", &f]).ok();
    assert_eq!(env.count("customer"), 50);
}

#[test]
fn concurrent_upserts_of_the_same_keys_never_mix_rows() {
    let env = Env::new();
    let files: Vec<String> = (0..3)
        .map(|k| {
            let mut s = String::from("code,name,city,notes\n");
            for i in 0..500 {
                _ = writeln!(s, "OV{i:04},版本{k}公司{i},城市{k},备注{k}");
            }
            let p = env.path(&format!("ov{k}.csv"));
            write(&p, s);
            p.to_str().expect("path").to_string()
        })
        .collect();
    let mut children: Vec<Child> = files
        .iter()
        .map(|f| {
            spawn(
                &env,
                &[
                    "import",
                    "customer",
                    f,
                    "--mode",
                    "upsert",
                    "--busy-timeout",
                    "60",
                ],
            )
        })
        .collect();
    for c in &mut children {
        let st = c.wait().expect("wait");
        let mut err = String::new();
        c.stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read");
        assert!(st.success(), "{err}");
    }
    assert_eq!(env.count("customer"), 500);
    // Every row is one file's version in full: name, city and notes agree on the version.
    let third = |r: &serde_json::Value, k: &str| r[k].as_str().and_then(|t| t.chars().nth(2));
    let mixed = env
        .find("customer", &[])
        .iter()
        .filter(|r| third(r, "name") != third(r, "city") || third(r, "city") != third(r, "notes"))
        .count();
    assert_eq!(mixed, 0);
    let batches = env.batch_total();
    assert_eq!(batches, 3);
    let inserted: i64 = env
        .import_batches()
        .iter()
        .map(|b| b["inserted"].as_i64().expect("inserted"))
        .sum();
    assert_eq!(inserted, 500);
    integrity_ok(&env);
}

#[test]
fn second_sigint_ends_an_import_waiting_for_input() {
    let env = Env::new();
    let mut child = spawn(&env, &["import", "customer", "-"]);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"name,city\n").expect("header");
    for _ in 0..4000 {
        stdin
            .write_all("等待输入公司,深圳\n".as_bytes())
            .expect("rows");
    }
    // stdin stays open: crm waits for more input, where no flag can be checked.
    let pid = child.id().to_string();
    let t0 = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "still running after repeated SIGINT"
        );
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill");
        wait_for(&mut child, Duration::from_millis(50));
    }
    assert_eq!(child.wait().expect("wait").code(), Some(130));
    drop(stdin);
    assert_eq!(env.count("customer"), 0);
    integrity_ok(&env);
}
