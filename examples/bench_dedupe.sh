#!/usr/bin/env bash
# Benchmark of `crm dedupe customer` (issue 12, "Speed"): a customers file with about 2 %
# planted duplicates (suffix, full-width, spacing, one-character typo), imported, then
# deduplicated; recall and precision of the planted pairs, wall time and peak RSS.
# Not a test: run it by hand, on a release build.
#   examples/bench_dedupe.sh [ROWS]     (default 100000; BENCH_DIR default /tmp/crm-dedupe-bench)
# A found pair is two records of one group (any rule); recall = planted pairs found / planted,
# precision = found pairs that were planted (or share a planted original) / found pairs.
#
# Measured 2026-12-02 on the shared 2-core dev VM (load average 7-9 from other builds, so wall
# is pessimistic), release build without SQLCipher:
#   cargo build --release --no-default-features
#   CRM=target/release/crm examples/bench_dedupe.sh 1000000
#     dedupe: 28.4 s wall (10.1 s user, 1.3 s system), 423,432 KiB (413 MiB) peak RSS
#     (a rerun: 31.9 s wall, 9.6 s user, 423,236 KiB);
#     19,918 planted pairs, 22,195 found: recall 0.999, precision 0.916
#     (name 15,144 pairs all right; similar 7,159 pairs, 5,287 right)
#   CRM=target/release/crm examples/bench_dedupe.sh 100000
#     dedupe: 2.3 s wall (0.8 s user), 100,124 KiB peak RSS; recall 1.000, precision 0.968
#   CRM=target/release/crm examples/bench_dedupe.sh 2000: recall 1.000, precision 1.000
# Every wrong pair (all 1,872 at a million rows, all 69 at 100,000) is a similar pair one edit
# apart involving a planted typo that landed one character from a *third* company (or from
# another company's typo) as well as from its original: equally close to both, nothing in the
# row tells them apart. Their share grows with the density of the names.
# The generator (v2) took 26 min and 580 MiB for a million rows; the import about 7 min.
# Before (v1 generator, Jaro-Winkler alone): precision 0.12 at 2,000 rows; the v1 generator's
# own distinct companies one character apart made precision 0.506 for the new rule at 2,000.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-100000}
DIR=${BENCH_DIR:-/tmp/crm-dedupe-bench}
CRM=${CRM:-$ROOT/target/release/crm}
mkdir -p "$DIR"
export HOME=$DIR XDG_STATE_HOME=$DIR/state XDG_DATA_HOME=$DIR/data CRM_DB=$DIR/dedupe-v2-$ROWS.db
# v2: the generator keeps distinct companies more than one edit apart (see its docstring).
CSV=$DIR/customers-v2-$ROWS.csv
PAIRS=$DIR/pairs-v2-$ROWS.txt
[ -f "$CSV" ] || python3 "$ROOT/examples/bench_dedupe_gen.py" "$ROWS" "$PAIRS" > "$CSV"
if [ ! -f "$CRM_DB" ]; then
  echo bench-password-1 | "$CRM" init --password-stdin >/dev/null 2>&1
  echo bench-password-1 | "$CRM" login --user admin --password-stdin >/dev/null
  "$CRM" import customer "$CSV" -q
fi
echo bench-password-1 | "$CRM" login --user admin --password-stdin >/dev/null
/usr/bin/time -f "dedupe: %e s wall, %U s user, %S s system, %M KiB peak RSS" \
  "$CRM" dedupe customer --format json > "$DIR/groups.json"
python3 - "$DIR/groups.json" "$PAIRS" <<'PY'
import itertools, json, sys
groups = json.load(open(sys.argv[1]))
planted = {tuple(l.strip().split(",")) for l in open(sys.argv[2]) if l.strip()}
original = {}
for a, b in planted:
    original[b] = original.get(a, a)
root = lambda c: original.get(c, c)
found = set()
by_rule = {}
for g in groups:
    codes = sorted(r["key"] for r in g["records"])
    pairs = set(itertools.combinations(codes, 2))
    found |= pairs
    by_rule.setdefault(g["rule"], set()).update(pairs)
hit = sum(1 for a, b in planted if tuple(sorted((a, b))) in found)
good = sum(1 for a, b in found if root(a) == root(b))
print(f"groups {len(groups)}, planted pairs {len(planted)}, found pairs {len(found)}")
for rule, pairs in sorted(by_rule.items()):
    right = sum(1 for a, b in pairs if root(a) == root(b))
    print(f"  rule {rule}: {len(pairs)} pairs, {right} of them planted (or sharing an original)")
print(f"recall {hit / max(len(planted), 1):.3f}, precision {good / max(len(found), 1):.3f}")
PY
