//! L4-lite: a bounded mixed load on one database: 2 importers (abort mode, one file of each
//! with a bad last row), 2 `find --count` loops, 1 edit loop and 1 export loop, all at once.
//! Every count a reader sees is a state between whole imports, every export is one snapshot,
//! every command's exit is as expected, and the file passes `integrity_check` afterwards.

use crate::harness::{Env, engine_is_postgres, write};

const ROWS: i64 = 1_000;
const IMPORTS: usize = 3;

#[test]
fn readers_see_whole_imports_and_exports_are_snapshots_under_mixed_load() {
    let env = Env::new();
    let target = env.add("customer", &["--name", "被编辑的客户"]);
    let base = 1;
    // each importer: IMPORTS good files of ROWS rows, then one whose last row is bad
    let mut files: Vec<Vec<(String, bool)>> = Vec::new();
    for w in 0..2 {
        let mut mine = Vec::new();
        for k in 0..IMPORTS {
            let f = env.customers_csv(&format!("w{w}_{k}.csv"), 1_000, &format!("W{w}K{k}X"));
            mine.push((f, true));
        }
        let bad = env.customers_csv(&format!("w{w}_bad.csv"), 999, &format!("W{w}BAD"));
        let mut text = std::fs::read_to_string(&bad).expect("read");
        text.push_str(",no name,深圳\n"); // row 1,000 lacks its required name
        write(std::path::Path::new(&bad), text);
        mine.push((bad, false));
        files.push(mine);
    }
    let whole = |n: i64| (n - base) % ROWS == 0 && (base..=base + 6 * ROWS).contains(&n);
    let (counts, exports) = std::thread::scope(|s| {
        for mine in &files {
            let env = &env;
            s.spawn(move || {
                for (f, good) in mine {
                    let r = env.run(&["import", "customer", f, "-q"]);
                    r.code(if *good { 0 } else { 4 });
                }
            });
        }
        let finders: Vec<_> = (0..2)
            .map(|_| {
                let env = &env;
                s.spawn(move || {
                    (0..25)
                        .map(|_| {
                            let r = env.run(&["find", "customer", "--count"]);
                            r.ok();
                            r.stdout.trim().parse::<i64>().expect("a count")
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let editor = {
            let env = &env;
            s.spawn(move || {
                for i in 0..15 {
                    env.run(&[
                        "edit",
                        "customer",
                        &target.to_string(),
                        "--city",
                        &format!("城市{i}"),
                    ])
                    .ok();
                }
            })
        };
        let exporter = {
            let env = &env;
            s.spawn(move || {
                (0..8)
                    .map(|i| {
                        let out = format!("export{i}.csv");
                        env.run(&["export", "customer", "-o", &out]).ok();
                        let text = std::fs::read_to_string(env.path(&out)).expect("export file");
                        i64::try_from(text.lines().count()).expect("small") - 1
                    })
                    .collect::<Vec<_>>()
            })
        };
        editor.join().expect("editor");
        let counts: Vec<i64> = finders
            .into_iter()
            .flat_map(|h| h.join().expect("finder"))
            .collect();
        (counts, exporter.join().expect("exporter"))
    });
    for n in &counts {
        assert!(whole(*n), "find saw {n} customers: part of an import");
    }
    for n in &exports {
        assert!(whole(*n), "an export held {n} rows: not a committed state");
    }
    let total = base + 6 * ROWS;
    assert_eq!(env.count("customer"), total);
    assert_eq!(env.count_where("customer", &["code~BAD"]), 0);
    assert_eq!(
        env.audits(&[
            ("entity", "customer"),
            ("record_id", &target.to_string()),
            ("field", "city")
        ]),
        15
    );
    assert_eq!(env.record("customer", target)["city"], "城市14");
    env.assert_whole();
    if !engine_is_postgres() {
        // the SQLite file's own foreign key check (crm check below covers any engine)
        assert_eq!(
            env.sql_int("SELECT COUNT(*) FROM pragma_foreign_key_check"),
            0
        );
    }
    env.run(&["check"]).ok();
    println!("counts seen: {:?}; export sizes: {exports:?}", {
        let mut c = counts.clone();
        c.sort_unstable();
        c.dedup();
        c
    });
}
