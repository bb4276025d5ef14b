//! The `similar` rule: Jaro-Winkler similarity of normalised names (the `strsim` crate),
//! compared only within blocks so that it scales: records sharing a city, a phone prefix,
//! or one of their rarest name bigrams. A block of more than [`CAP`] records says nothing
//! (every name in 北京 shares the city; every 科技 company shares that bigram) and is left
//! out; each record looks in the [`RAREST`] rarest of its bigrams that some other record
//! shares, so a one-character typo (whose new bigrams nobody shares) still meets its twin.

use std::collections::HashMap;

use super::{Group, Rec};

/// Blocks larger than this are not compared within.
const CAP: usize = 256;
/// How many of a record's shared bigrams it looks in.
const RAREST: usize = 3;

/// A name's distinct character bigrams (a one-character name: that character).
fn bigrams(name: &str) -> Vec<u64> {
    let chars: Vec<char> = name.chars().collect();
    let mut out: Vec<u64> = if chars.len() < 2 {
        chars.iter().map(|&c| u64::from(c)).collect()
    } else {
        chars
            .windows(2)
            .map(|w| (u64::from(w[0]) << 32) | u64::from(w[1]))
            .collect()
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// A block worth comparing within: more than one record, at most [`CAP`].
fn small(v: Option<&Vec<u32>>) -> Option<&Vec<u32>> {
    v.filter(|v| v.len() > 1 && v.len() <= CAP)
}

/// The groups of records whose names (key `r`) are similar at `min_score` or more.
/// `skip_equal`: pairs with equal names are another rule's.
pub fn groups(
    recs: &[Rec],
    r: usize,
    rule: &'static str,
    min_score: f64,
    skip_equal: bool,
) -> Vec<Group> {
    let names: Vec<Option<&str>> = recs.iter().map(|x| x.keys[r].as_deref()).collect();
    let grams: Vec<Vec<u64>> = names
        .iter()
        .map(|n| n.map(bigrams).unwrap_or_default())
        .collect();
    let mut by_gram: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut by_city: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut by_phone: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, x) in recs.iter().enumerate() {
        if names[i].is_none() {
            continue;
        }
        let i = u32::try_from(i).expect("fewer than 4 billion records");
        for g in &grams[i as usize] {
            by_gram.entry(*g).or_default().push(i);
        }
        if let Some(c) = &x.city {
            by_city.entry(c).or_default().push(i);
        }
        if let Some(p) = x.phone.as_deref().filter(|p| p.len() > 8) {
            // The number without its last four digits: one switchboard, one block.
            by_phone.entry(&p[..p.len() - 4]).or_default().push(i);
        }
    }
    let mut edges: Vec<(usize, usize, f64)> = Vec::new();
    let mut cand: Vec<u32> = Vec::new();
    for (i, x) in recs.iter().enumerate() {
        let Some(name) = names[i] else { continue };
        cand.clear();
        let mut shared: Vec<&Vec<u32>> = grams[i]
            .iter()
            .filter_map(|g| small(by_gram.get(g)))
            .collect();
        shared.sort_by_key(|v| v.len());
        shared.truncate(RAREST);
        shared.extend(small(x.city.as_deref().and_then(|c| by_city.get(c))));
        let p = x.phone.as_deref().filter(|p| p.len() > 8);
        shared.extend(small(p.and_then(|p| by_phone.get(&p[..p.len() - 4]))));
        for b in shared {
            cand.extend(b.iter().filter(|&&j| j as usize > i));
        }
        cand.sort_unstable();
        cand.dedup();
        for &j in &cand {
            let other = names[j as usize].expect("indexed names are present");
            if skip_equal && other == name {
                continue;
            }
            let score = strsim::jaro_winkler(name, other);
            if score >= min_score {
                edges.push((i, j as usize, score));
            }
        }
    }
    join(recs, &names, rule, &edges, min_score)
}

/// The root of `i`'s set, halving the path on the way.
fn root(p: &mut HashMap<usize, usize>, mut i: usize) -> usize {
    while let Some(&up) = p.get(&i).filter(|&&up| up != i) {
        let grand = p.get(&up).copied().unwrap_or(up);
        p.insert(i, grand);
        i = up;
    }
    i
}

/// Two similar records (positions) and their score.
type Edge = (usize, usize, f64);

/// Groups connected by `edges` (union-find); a group's score is its weakest link. A
/// group is kept whole only when every two of its names are similar (a chain A~B~C with A
/// and C apart is not one company): else each similar pair is its own group.
fn join(
    recs: &[Rec],
    names: &[Option<&str>],
    rule: &'static str,
    edges: &[(usize, usize, f64)],
    min_score: f64,
) -> Vec<Group> {
    let mut parent: HashMap<usize, usize> = HashMap::new();
    for &(a, b, _) in edges {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent.insert(ra.max(rb), ra.min(rb));
        }
    }
    let mut by_root: HashMap<usize, (Vec<usize>, Vec<Edge>)> = HashMap::new();
    for &(a, b, s) in edges {
        let g = by_root.entry(root(&mut parent, a)).or_default();
        g.0.extend([a, b]);
        g.1.push((a, b, s));
    }
    let floor = |s: f64| (s * 1000.0).floor() / 1000.0;
    let by_id = |m: &mut Vec<usize>| {
        m.sort_unstable();
        m.dedup();
        m.sort_by_key(|&i| recs[i].id);
    };
    let mut out: Vec<Group> = Vec::new();
    for (mut members, links) in by_root.into_values() {
        by_id(&mut members);
        let whole = members.len() <= 16
            && members.iter().enumerate().all(|(k, &a)| {
                members[k + 1..].iter().all(|&b| {
                    let (x, y) = (names[a].unwrap_or(""), names[b].unwrap_or(""));
                    x == y || strsim::jaro_winkler(x, y) >= min_score
                })
            });
        if whole {
            let score = links.iter().map(|l| l.2).fold(1.0, f64::min);
            out.push(Group {
                rule,
                score: floor(score),
                members,
            });
        } else {
            for (a, b, s) in links {
                let mut pair = vec![a, b];
                by_id(&mut pair);
                out.push(Group {
                    rule,
                    score: floor(s),
                    members: pair,
                });
            }
        }
    }
    out.sort_by_key(|g| (recs[g.members[0]].id, recs[g.members[1]].id));
    out
}
