//! The funnel: stage counts and amounts, exact weighted amounts, reach and conversion from
//! stage history (a skipped stage still counts as passed), days in stage, win rate, by owner,
//! and the cohort window.

use super::{Rep, parts, row, ts};

const DAY: i64 = 86_400;

/// Eight opportunities created on 2026-03-01 with hand-made stage histories (days after
/// 2026-03-01 00:00 +08:00), and a ninth created in April.
fn data() -> Rep {
    let r = Rep::new();
    r.user("li", "sales");
    let t = "2026-03-01T08:00:00+08:00";
    let c = r.add(t, "customer", &["--name", "漏斗客户"]).to_string();
    // name, owner, final stage, amount, probability, history (stage, day)
    let opps: [(&str, &str, &str, &str, &str, &[(&str, i64)]); 8] = [
        (
            "A",
            "admin",
            "won",
            "5000.00",
            "100",
            &[
                ("prospecting", 0),
                ("qualification", 2),
                ("proposal", 7),
                ("negotiation", 17),
                ("won", 27),
            ],
        ),
        (
            "B",
            "admin",
            "won",
            "2000.00",
            "100",
            &[("prospecting", 0), ("qualification", 4), ("won", 9)],
        ),
        (
            "C",
            "admin",
            "lost",
            "800.00",
            "0",
            &[
                ("prospecting", 0),
                ("qualification", 2),
                ("proposal", 4),
                ("negotiation", 6),
                ("lost", 8),
            ],
        ),
        (
            "D",
            "admin",
            "proposal",
            "1000.50",
            "50",
            &[("prospecting", 0), ("qualification", 2), ("proposal", 3)],
        ),
        (
            "E",
            "li",
            "lost",
            "10.00",
            "0",
            &[("prospecting", 0), ("qualification", 3), ("lost", 4)],
        ),
        (
            "F",
            "li",
            "prospecting",
            "333.33",
            "10",
            &[("prospecting", 0)],
        ),
        (
            "G",
            "li",
            "prospecting",
            "0.04",
            "10",
            &[("prospecting", 0)],
        ),
        (
            "H",
            "li",
            "lost",
            "1.00",
            "0",
            &[("prospecting", 0), ("lost", 1)],
        ),
    ];
    let base = ts("2026-03-01T00:00:00+08:00");
    // Each created at day 0 and moved through its stages by crm at their moments, so the
    // stage rules write the history (and probability, closed_at) as they would for a user.
    let at = |d: i64| crm::schema::kinds::format_datetime(base + d * DAY);
    for (name, owner, stage, amount, prob, hist) in opps {
        let id = r.add(
            &at(0),
            "opportunity",
            &[
                "--customer",
                &c,
                "--name",
                name,
                "--owner",
                owner,
                "--amount",
                amount,
                "--probability",
                prob,
            ],
        );
        let id = id.to_string();
        for (s, d) in &hist[1..] {
            let mut edit = vec!["edit", "opportunity", &id, "--stage", s];
            if *s == "lost" {
                edit.extend_from_slice(&["--lost-reason", "价格"]);
            }
            r.at(&at(*d), &edit).ok();
        }
        let o = r.at(&at(40), &["--format", "json", "show", "opportunity", &id]);
        let o = o.ok().json();
        assert_eq!(o["stage"], stage);
        assert_eq!(o["probability"].to_string(), prob, "{name}");
        let want: Vec<(String, i64)> = hist
            .iter()
            .map(|(s, d)| ((*s).to_string(), base + d * DAY))
            .collect();
        let got: Vec<(String, i64)> = o["stages"]
            .as_array()
            .expect("stages")
            .iter()
            .map(|h| {
                let e = h["entered_at"].as_str().expect("entered_at");
                (h["stage"].as_str().expect("stage").to_string(), ts(e))
            })
            .collect();
        assert_eq!(got, want, "{name}");
    }
    // Outside a window ending 2026-03-31: created in April.
    r.add(
        "2026-04-01T00:00:00+08:00",
        "opportunity",
        &[
            "--customer",
            &c,
            "--name",
            "I",
            "--amount",
            "99.00",
            "--probability",
            "10",
        ],
    );
    r
}

#[test]
fn funnel_figures_by_stage_owner_and_window() {
    let r = data();
    let all = r.report(&[
        "funnel",
        "--as-of",
        "2026-04-30",
        "--to",
        "2026-03-31",
        "--by",
        "owner",
    ]);
    let s = &all["summary"];
    assert_eq!(s["opportunities"], 8, "the April one is outside --to");
    assert_eq!(s["open"], 3);
    assert_eq!(s["won"], 2);
    assert_eq!(s["lost"], 3);
    assert_eq!(parts(&s["win_rate"]), (2, 5));
    assert_eq!(s["win_rate"]["rate"], 0.4);
    let a = row(&all["amounts"], "currency", "CNY");
    assert_eq!(a["open_amount"], "1333.87");
    // (100050×50 + 33333×10 + 4×10) / 100 = 53358.7 fen, rounded once: 533.59
    assert_eq!(a["open_weighted"], "533.59");
    assert_eq!(a["won_amount"], "7000.00");

    let st = &all["stages"];
    let p = row(st, "stage", "prospecting");
    assert_eq!(p["count"], 2);
    let pa = row(&all["stage_amounts"], "stage", "prospecting");
    assert_eq!(
        (pa["currency"].as_str(), pa["count"].as_i64()),
        (Some("CNY"), Some(2))
    );
    assert_eq!(pa["amount"], "333.37");
    assert_eq!(
        pa["weighted"], "33.34",
        "3333.7 fen rounds up once, not 3333 + 0"
    );
    assert_eq!(p["reached"], 8);
    assert_eq!(parts(&p["conversion"]), (5, 8));
    assert_eq!(p["avg_days"], 2.3, "(2+4+2+2+3+1)/6");
    let q = row(st, "stage", "qualification");
    assert_eq!(q["count"], 0);
    assert_eq!(q["reached"], 5);
    assert_eq!(
        parts(&q["conversion"]),
        (4, 5),
        "B skipped proposal but passed it"
    );
    assert_eq!(q["avg_days"], 2.8);
    let pr = row(st, "stage", "proposal");
    assert_eq!(pr["count"], 1);
    let pra = row(&all["stage_amounts"], "stage", "proposal");
    assert_eq!(pra["amount"], "1000.50");
    assert_eq!(pra["weighted"], "500.25");
    assert_eq!(parts(&pr["conversion"]), (3, 4));
    assert_eq!(pr["avg_days"], 6.0);
    let n = row(st, "stage", "negotiation");
    assert_eq!(parts(&n["conversion"]), (2, 3));
    let w = row(st, "stage", "won");
    assert_eq!(w["reached"], 2);
    assert!(w["conversion"].is_null());
    assert!(w["avg_days"].is_null(), "no stay in won has ended");

    let wr = &all["win_rate_by_owner"];
    assert_eq!(parts(&row(wr, "owner", "admin")["win_rate"]), (2, 3));
    assert_eq!(parts(&row(wr, "owner", "li")["win_rate"]), (0, 2));
    let by = all["by_owner"].as_array().expect("rows");
    let li_q = by
        .iter()
        .find(|x| x["owner"] == "li" && x["stage"] == "prospecting")
        .expect("li prospecting");
    assert_eq!(parts(&li_q["conversion"]), (1, 4));

    // Without the window the April opportunity (open, no history) joins the cohort.
    let all = r.report(&["funnel", "--as-of", "2026-04-30"]);
    assert_eq!(all["summary"]["opportunities"], 9);
    assert_eq!(row(&all["stages"], "stage", "prospecting")["reached"], 9);
    // --owner keeps only li's four.
    let li = r.report(&["funnel", "--as-of", "2026-04-30", "--owner", "li"]);
    assert_eq!(li["summary"]["opportunities"], 4);
    assert_eq!(li["params"]["owner"], "li");
    // A grouping the funnel does not have is a usage error.
    r.at(super::NOW, &["report", "funnel", "--by", "city"])
        .code(2)
        .one_error_line();
}
