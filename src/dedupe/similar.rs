//! The `similar` rule: two names are similar when their Jaro-Winkler similarity (the
//! `strsim` crate; the score shown, what `--min-score` compares) reaches the threshold
//! *and* they are few edits apart for their length ([`edits`]). Jaro-Winkler alone
//! overrates short names that share a prefix and a trade word: 杭州盛美教育 and
//! 杭州恒盛教育 score 0.911, Wayne 兆尚千电子 and Wayne 尚华达电子 0.92, two different
//! companies each; a typo makes one edit, two different names of this length make two or
//! more. Names are compared only within blocks so that it scales:
//!
//! - every name and every name with one character left out (the symmetric-delete keys of
//!   SymSpell): two names one edit apart always share one, so one-typo twins always meet,
//!   however common their city, trade or phone prefix;
//! - for names long enough to be allowed two edits or more: a shared city, a phone prefix,
//!   or one of their [`RAREST`] rarest shared bigrams.
//!
//! A block of more than [`CAP`] records says nothing (every name in 北京 shares the city)
//! and is left out.

use std::collections::HashMap;

use super::{Group, Rec};

/// Blocks larger than this are not compared within.
const CAP: usize = 256;
/// How many of a record's shared bigrams it looks in.
const RAREST: usize = 3;
/// Symmetric-delete keys held at once (16 bytes each): more are made in several passes,
/// so that a million names stay within a small memory budget.
const KEYS_PER_PASS: usize = 2_000_000;

/// How many edits (a character substituted, inserted, deleted, or two neighbours swapped)
/// two names of which the shorter has `len` characters may be apart and still be similar
/// at `min_score`: a `1 - min_score` share of the characters, at least one. At the default
/// 0.9: one edit up to 19 characters, two from 20.
pub fn edits(len: usize, min_score: f64) -> usize {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    // The small term absorbs float error: 20 × (1 − 0.9) is 1.9999999999999996.
    let share = f64::from(len) * (1.0 - min_score) + 1e-9;
    // The largest whole number within the share, counted (no float-to-integer cast).
    (2..=len)
        .take_while(|&k| f64::from(k) <= share)
        .last()
        .map_or(1, |k| usize::try_from(k).unwrap_or(usize::MAX))
}

/// The score of two names if they are similar at `min_score` (see the module): their
/// Jaro-Winkler similarity, when it is at least `min_score` and the names are at most
/// [`edits`] apart.
pub fn score(a: &str, b: &str, min_score: f64) -> Option<f64> {
    if a == b {
        return Some(1.0);
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    let allowed = edits(la.min(lb), min_score);
    if la.abs_diff(lb) > allowed {
        return None;
    }
    let s = strsim::jaro_winkler(a, b);
    (s >= min_score && strsim::osa_distance(a, b) <= allowed).then_some(s)
}

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

/// The hash of `name`'s characters with the one at `skip` left out (`None`: whole).
/// A fixed function, so that runs are repeatable; a collision only adds a candidate that
/// the score then refuses.
fn hash_without(name: &str, skip: Option<usize>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, c) in name.chars().enumerate() {
        if Some(k) != skip {
            h = (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3);
            h ^= h >> 29;
        }
    }
    h
}

/// The symmetric-delete keys of a name: whole, and without each character in turn.
fn delete_keys(name: &str) -> impl Iterator<Item = u64> + '_ {
    let n = name.chars().count();
    std::iter::once(None)
        .chain((0..n).map(Some))
        .map(move |skip| hash_without(name, skip))
}

/// Candidate pairs (i < j) of records sharing a symmetric-delete key, the keys made
/// `per_pass` at a time (about).
pub fn one_edit_candidates(names: &[Option<&str>], per_pass: usize, out: &mut Vec<(u32, u32)>) {
    let total: usize = names.iter().flatten().map(|n| n.chars().count() + 1).sum();
    let passes = total.div_ceil(per_pass.max(1)).max(1) as u64;
    let mut keys: Vec<(u64, u32)> = Vec::new();
    let mut run: Vec<u32> = Vec::new();
    for pass in 0..passes {
        keys.clear();
        for (i, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            let i = u32::try_from(i).expect("fewer than 4 billion records");
            keys.extend(
                delete_keys(name)
                    .filter(|h| h % passes == pass)
                    .map(|h| (h, i)),
            );
        }
        keys.sort_unstable();
        for block in keys.chunk_by(|a, b| a.0 == b.0) {
            if block.len() < 2 || block.len() > CAP {
                continue;
            }
            run.clear();
            run.extend(block.iter().map(|k| k.1));
            run.dedup(); // one name may give a key twice (两两: either 两 left out)
            for (k, &a) in run.iter().enumerate() {
                out.extend(run[k + 1..].iter().map(|&b| (a, b)));
            }
        }
    }
}

/// A block worth comparing within: more than one record, at most [`CAP`].
fn small(v: Option<&Vec<u32>>) -> Option<&Vec<u32>> {
    v.filter(|v| v.len() > 1 && v.len() <= CAP)
}

/// Candidate pairs (i < j) among the records whose names are at least `min_len`
/// characters (those that may be two edits or more apart): sharing a city, a phone
/// prefix, or one of their rarest bigrams.
fn block_candidates(
    recs: &[Rec],
    names: &[Option<&str>],
    min_len: usize,
    out: &mut Vec<(u32, u32)>,
) {
    let long: Vec<bool> = names
        .iter()
        .map(|n| n.is_some_and(|n| n.chars().count() >= min_len))
        .collect();
    let grams: Vec<Vec<u64>> = names
        .iter()
        .zip(&long)
        .map(|(n, &l)| n.filter(|_| l).map(bigrams).unwrap_or_default())
        .collect();
    let mut by_gram: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut by_city: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut by_phone: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, x) in recs.iter().enumerate() {
        if !long[i] {
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
    for (i, x) in recs.iter().enumerate() {
        if !long[i] {
            continue;
        }
        let mut shared: Vec<&Vec<u32>> = grams[i]
            .iter()
            .filter_map(|g| small(by_gram.get(g)))
            .collect();
        shared.sort_by_key(|v| v.len());
        shared.truncate(RAREST);
        shared.extend(small(x.city.as_deref().and_then(|c| by_city.get(c))));
        let p = x.phone.as_deref().filter(|p| p.len() > 8);
        shared.extend(small(p.and_then(|p| by_phone.get(&p[..p.len() - 4]))));
        let i = u32::try_from(i).expect("fewer than 4 billion records");
        for b in shared {
            out.extend(b.iter().filter(|&&j| j > i).map(|&j| (i, j)));
        }
    }
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
    let mut cand: Vec<(u32, u32)> = Vec::new();
    one_edit_candidates(&names, KEYS_PER_PASS, &mut cand);
    // The shortest name that may be two edits from another: only such names need the
    // wider blocks (the allowance grows with length, so the first length found is it).
    let longest = names.iter().flatten().map(|n| n.chars().count()).max();
    if let Some(two) = (1..=longest.unwrap_or(0)).find(|&l| edits(l, min_score) >= 2) {
        block_candidates(recs, &names, two, &mut cand);
    }
    cand.sort_unstable();
    cand.dedup();
    let mut edges: Vec<Edge> = Vec::new();
    for (i, j) in cand {
        let (i, j) = (i as usize, j as usize);
        let (Some(a), Some(b)) = (names[i], names[j]) else {
            continue;
        };
        if skip_equal && a == b {
            continue;
        }
        if let Some(s) = score(a, b, min_score) {
            edges.push((i, j, s));
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
    edges: &[Edge],
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
                    score(x, y, min_score).is_some()
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
