//! What every report shares: an empty database gives empty reports (not errors) in every
//! format, the JSON shape, CSV rows prefixed by section, bad flags as usage errors, and
//! bar charts only when stdout is a terminal (checked through a pty with `script`).

use super::{NOW, Rep};

const REPORTS: [&str; 6] = [
    "funnel",
    "sales",
    "customers",
    "service",
    "contracts",
    "activities",
];

/// The JSON keys of each report (after `report` and `params`), a stable shape for scripts.
fn keys(name: &str) -> &'static [&'static str] {
    match name {
        "funnel" => &["summary", "amounts", "stages", "stage_amounts"],
        "sales" => &[
            "summary",
            "amounts",
            "by_group",
            "forecast",
            "top_customers",
        ],
        "customers" => &[
            "summary",
            "by_status",
            "by_level",
            "by_industry",
            "by_source",
            "by_city",
            "by_owner",
            "per_period",
            "rfm_thresholds",
            "rfm_monetary",
            "rfm_segments",
            "rfm_segment_amounts",
        ],
        "service" => &[
            "summary",
            "by_status",
            "by_type",
            "by_priority",
            "satisfaction",
        ],
        "contracts" => &["summary", "amounts", "by_status", "expiring", "renewals"],
        _ => &["summary", "by_owner", "per_owner_period", "neglected"],
    }
}

#[test]
fn empty_database_every_report_every_format() {
    let r = Rep::new();
    for name in REPORTS {
        let j = r.report(&[name, "--as-of", "2026-03-31"]);
        assert_eq!(j["report"], name);
        assert_eq!(j["params"]["as_of"], "2026-03-31");
        assert_eq!(j["params"]["to"], "2026-03-31");
        assert!(j["summary"].is_object(), "{name}: {j}");
        let got: Vec<&str> = j
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = vec!["report", "params"];
        want.extend_from_slice(keys(name));
        assert_eq!(got, want, "{name}");
        for (k, v) in j.as_object().expect("object") {
            assert!(
                matches!(k.as_str(), "report" | "params") || v.is_array() || v.is_object(),
                "{name}.{k} is a section: {v}"
            );
        }
        for fmt in ["table", "csv", "tsv"] {
            let out = r.at(
                NOW,
                &["--format", fmt, "report", name, "--as-of", "2026-03-31"],
            );
            out.ok();
            assert!(out.stderr.is_empty(), "{name} {fmt}: {}", out.stderr);
            assert!(!out.stdout.contains('█'), "no chart when piped");
        }
    }
    // Rates with nothing to divide keep their parts and a null rate.
    let f = r.report(&["funnel", "--as-of", "2026-03-31"]);
    assert_eq!(
        f["summary"]["win_rate"],
        serde_json::json!({"numerator": 0, "denominator": 0, "rate": null})
    );
}

#[test]
fn csv_rows_name_their_section_and_flags_are_checked() {
    let r = Rep::new();
    let t = "2026-03-01T10:00:00+08:00";
    let c = r
        .add(
            t,
            "customer",
            &[
                "--name",
                "深圳市腾达科技有限公司",
                "--status",
                "active",
                "--level",
                "A",
            ],
        )
        .to_string();
    r.add(
        t,
        "order",
        &[
            "--customer",
            &c,
            "--order-date",
            "2026-03-02",
            "--status",
            "paid",
            "--amount",
            "12.34",
        ],
    );
    let csv = r.at(
        NOW,
        &[
            "--format",
            "csv",
            "report",
            "sales",
            "--as-of",
            "2026-03-31",
            "--section",
            "top_customers",
        ],
    );
    assert_eq!(
        csv.ok().stdout,
        format!(
            "section,currency,code,name,orders,amount\ntop_customers,CNY,{},深圳市腾达科技有限公司,1,12.34\n",
            "C000001"
        )
    );
    let all = r
        .at(
            NOW,
            &[
                "--format",
                "csv",
                "report",
                "customers",
                "--as-of",
                "2026-03-31",
            ],
        )
        .ok()
        .stdout
        .clone();
    assert!(all.contains("\nsection,metric,value\n") || all.starts_with("section,metric,value\n"));
    assert!(
        all.contains("by_level,A,A类,1,1.0\n"),
        "a rate in CSV is its plain decimal:\n{all}"
    );
    // JSON with --section keeps only that section.
    let one = r.report(&[
        "customers",
        "--as-of",
        "2026-03-31",
        "--section",
        "by_level",
    ]);
    assert_eq!(one.as_object().map(serde_json::Map::len), Some(3), "{one}");
    // Bad flags are usage errors with one error line.
    for args in [
        vec!["report", "sales", "--section", "nope"],
        vec!["report", "sales", "--from", "2026-13-01"],
        vec![
            "report",
            "sales",
            "--from",
            "2026-04-01",
            "--to",
            "2026-03-01",
        ],
        vec!["report", "sales", "--by", "city"],
        vec!["report", "contracts", "--by", "owner"],
        vec!["report", "nosuch"],
    ] {
        r.at(NOW, &args).code(2).one_error_line();
    }
    // Every role may read reports.
    r.user("v", "viewer");
    let tok = r.token("v");
    r.env
        .run_env(
            &["report", "customers", "--as-of", "2026-03-31"],
            &[("CRM_TOKEN", tok.as_str()), ("CRM_TEST_NOW", NOW)],
        )
        .ok();
}

/// Runs crm on a pseudo-terminal (util-linux `script`), returning what the terminal showed.
fn on_tty(r: &Rep, args: &[&str]) -> String {
    let bin = assert_cmd::cargo::cargo_bin("crm");
    let mut line = format!("'{}'", bin.display());
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let mut c = r.env.hermetic("script");
    c.args(["-qec", &line, "/dev/null"])
        .env("COLUMNS", "100")
        .env("CRM_TEST_NOW", NOW);
    let o = c.output().expect("run script");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stdout).replace("\r\n", "\n")
}

#[test]
fn charts_only_on_a_terminal_with_chinese_labels_aligned() {
    use unicode_width::UnicodeWidthStr;
    let r = Rep::new();
    let t = "2026-03-01T10:00:00+08:00";
    for (name, status) in [
        ("一", "active"),
        ("二", "active"),
        ("三", "lost"),
        ("四", "prospect"),
    ] {
        r.add(t, "customer", &["--name", name, "--status", status]);
    }
    let args = [
        "report",
        "customers",
        "--as-of",
        "2026-03-31",
        "--section",
        "by_status",
    ];
    let tty = on_tty(&r, &args);
    let bars: Vec<&str> = tty
        .lines()
        .filter(|l| l.contains('│') && l.contains('█'))
        .collect();
    assert_eq!(bars.len(), 3, "one bar per status:\n{tty}");
    let cols: Vec<usize> = bars
        .iter()
        .map(|l| l[..l.find('│').expect("bar line")].width())
        .collect();
    assert!(
        cols.iter().all(|&c| c == cols[0]),
        "bars start in one column:\n{tty}"
    );
    assert!(bars.iter().any(|l| l.starts_with("活跃客户")), "{tty}");
    assert!(
        bars.iter().all(|l| l.width() <= 100),
        "fits COLUMNS:\n{tty}"
    );
    let full = bars
        .iter()
        .find(|l| l.starts_with("活跃客户"))
        .expect("active bar");
    let half = bars
        .iter()
        .find(|l| l.starts_with("已流失"))
        .expect("lost bar");
    let blocks = |l: &str| l.chars().filter(|&c| c == '█').count();
    let (f, h) = (blocks(full), blocks(half));
    assert!(
        f == 2 * h || f == 2 * h + 1,
        "2 active vs 1 lost: {f} and {h} blocks"
    );
    // The same command piped: the same table, no chart.
    let piped = r.at(NOW, &args).ok().stdout.clone();
    assert!(!piped.contains('█') && piped.contains("活跃客户"));
    // JSON on a terminal stays JSON.
    let json = on_tty(
        &r,
        &[
            "--format",
            "json",
            "report",
            "customers",
            "--as-of",
            "2026-03-31",
        ],
    );
    assert!(!json.contains('█'));
    serde_json::from_str::<serde_json::Value>(&json).expect("JSON on a terminal");
}
