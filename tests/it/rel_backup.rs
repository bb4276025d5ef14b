//! F3: `kill -9` during `crm backup` at several points (found by polling the directory, no
//! sleeps). The destination is the previous good backup, a new good one, or absent; only the
//! temp file may be left behind; every backup passes `integrity_check`.

use std::path::Path;

use crate::harness::{Env, int_in, integrity};

/// Where in the backup the kill lands.
#[derive(Clone, Copy, Debug)]
enum Point {
    AtOnce,
    TempCreated,
    TempHasData,
    TempOverOneMiB,
    TempRenamed,
}

/// The temp files `crm backup` leaves next to `dest` (names start with dest's name + '.').
fn temps(dir: &Path, dest: &str) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, bytes_in(&e.path()))
        })
        .filter(|(n, _)| n.starts_with(&format!("{dest}.")))
        .collect();
    v.sort();
    v
}

/// The bytes in a file, or in the files of a directory (a backup's temp directory).
fn bytes_in(p: &Path) -> u64 {
    match std::fs::read_dir(p) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| bytes_in(&e.path())).sum(),
        Err(_) => std::fs::metadata(p).map_or(0, |m| m.len()),
    }
}

/// Runs `crm backup dest [--force]` and kills it at `point`; true when the kill hit a live
/// process while a temp file existed or had just been renamed.
fn kill_at(env: &Env, dest: &str, force: bool, point: Point) -> bool {
    let mut args = vec!["backup", dest];
    if force {
        args.push("--force");
    }
    let mut child = env.spawn(&args);
    let dir = env.dir.path();
    let mut seen_temp = false;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return false; // finished before the point came: a whole run, checked below too
        }
        let t = temps(dir, dest);
        let hit = match point {
            Point::AtOnce => true,
            Point::TempCreated => !t.is_empty(),
            Point::TempHasData => t.iter().any(|(_, len)| *len > 0),
            Point::TempOverOneMiB => t.iter().any(|(_, len)| *len > 1 << 20),
            Point::TempRenamed => {
                seen_temp |= !t.is_empty();
                seen_temp && t.is_empty()
            }
        };
        if hit {
            break;
        }
        std::thread::yield_now();
    }
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    !matches!(point, Point::AtOnce)
}

#[test]
fn kill_9_during_backup_leaves_the_old_backup_a_new_one_or_nothing() {
    let env = Env::new();
    let big = env.customers_csv("big.csv", 20_000, "B");
    env.run(&["import", "customer", &big, "-q"]).ok();
    env.run(&["backup", "good.db"]).ok();
    let old = int_in(&env.path("good.db"), "SELECT COUNT(*) FROM customer");
    assert_eq!(old, 20_000);
    let more = env.customers_csv("more.csv", 500, "M");
    env.run(&["import", "customer", &more, "-q"]).ok();
    let new = 20_500;
    let points = [
        Point::AtOnce,
        Point::TempCreated,
        Point::TempHasData,
        Point::TempOverOneMiB,
        Point::TempRenamed,
    ];
    let mut hits = 0;
    let mut left = 0;
    for (round, point) in points.iter().cycle().take(10).enumerate() {
        // even rounds replace the good backup (--force), odd rounds write a fresh file
        let (dest, force) = if round % 2 == 0 {
            ("good.db".to_string(), true)
        } else {
            (format!("fresh{round}.db"), false)
        };
        if kill_at(&env, &dest, force, *point) {
            hits += 1;
        }
        let p = env.path(&dest);
        if p.exists() {
            assert_eq!(integrity(&p), "ok", "{point:?}: {dest} is whole");
            let n = int_in(&p, "SELECT COUNT(*) FROM customer");
            assert!(
                n == new || (force && n == old),
                "{point:?}: {dest} holds {n} customers, want {old} (before) or {new}"
            );
        } else {
            assert!(!force, "{point:?}: the previous good backup disappeared");
        }
        for (name, _) in temps(env.dir.path(), &dest) {
            left += 1;
            assert!(
                std::path::Path::new(&name)
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("tmp")),
                "{point:?}: only temp files may be left, found {name}"
            );
            let _ = std::fs::remove_dir_all(env.path(&name));
        }
    }
    assert!(hits >= 4, "the kills landed mid-backup only {hits} times");
    assert!(
        left >= 2,
        "no kill left a temp behind ({left}): the test missed the copy"
    );
    // the database itself is unharmed and a later backup succeeds
    env.assert_whole();
    assert_eq!(
        env.run(&["find", "customer", "--count"]).ok().stdout.trim(),
        new.to_string()
    );
    env.run(&["backup", "good.db", "--force"]).ok();
    assert_eq!(integrity(&env.path("good.db")), "ok");
    assert_eq!(
        int_in(&env.path("good.db"), "SELECT COUNT(*) FROM customer"),
        new
    );
}
