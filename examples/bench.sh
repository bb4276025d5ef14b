#!/usr/bin/env bash
# Benchmark of `crm import` / `crm export` against the sqlite3 CLI on a realistic
# 1,000,000-row customers CSV (about 200 MB). Not a test: run it by hand.
#   examples/bench.sh [ROWS] [REPS]      (defaults 1000000 and 3)
# Goals: import <= 1.5x sqlite3 .import (crm validates, keeps the unique key and its
# indexes, records the batch); import peak RSS <= 128 MiB; export <= 1.2x sqlite3 -csv.
#
# Measured 2026-11-25 on the 2-core dev VM shared with other builds, release build,
# 1,000,000 rows / 198 MB, 3 reps, medians, load average ~1.5 (BENCH_DIR=/tmp/integ-bench):
#   after merging the reports' v5 indexes (5 secondary customer indexes kept row by row):
#       import crm 10.71 s vs sqlite3 .import 3.70 s = 2.89x wall; RSS 100.6 MiB
#   now (v6: one (owner, status, created_at) customer index; a large import sets the
#   table's secondary indexes aside and rebuilds them at the end, in its one transaction):
#       import crm 3.31 s vs sqlite3 .import 2.55 s = 1.30x wall (CPU 4.89 s vs 2.42 s = 2.02x:
#       crm parses on a second thread); export crm 1.15 s vs sqlite3 -csv 1.77 s = 0.65x;
#       import peak RSS 84.9 MiB
# 2026-12-01, end of issue 8 (store refactor included), load average ~1.2:
#   import crm 4.03 s vs sqlite3 .import 2.92 s = 1.38x wall (CPU 5.64 s vs 2.80 s = 2.01x);
#   export 1.65 s vs 2.21 s = 0.75x; import peak RSS 84.7 MiB; export byte-identical.
# 2026-12-01, end of issue 9 (one write path, neutral store API), load average ~1.3:
#   import crm 4.01 s vs sqlite3 .import 3.00 s = 1.34x wall (CPU 5.71 s vs 2.86 s = 2.00x);
#   export 1.27 s vs 1.92 s = 0.66x; import peak RSS 83.6 MiB; export byte-identical.
# Before the reports branch (3 indexes: unique code, owner, status), under load ~3:
#   import 4.62 s vs 3.34 s = 1.38x wall, export 0.62x, RSS 101.7 MiB.
# The import uses about twice sqlite3's CPU: WAL mode writes every page twice (the WAL,
# then the checkpoint), and crm checks every row (kinds, references, unique key, rules).
set -euo pipefail
ROWS=${1:-1000000}
REPS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/crm-bench}
mkdir -p "$WORK"
cd "$ROOT"
cargo build --release --quiet
CRM="$ROOT/target/release/crm"
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
CSV="$WORK/customers-$ROWS.csv"
[ -s "$CSV" ] || python3 "$ROOT/examples/gen_customers.py" "$ROWS" > "$CSV"
echo "file: $CSV ($(du -m "$CSV" | cut -f1) MB, $ROWS rows)"
COLS="code,name,kind,industry,level,status,source,owner,phone,email,website,city,address,tags,credit_code,notes"
export HOME="$WORK/home" XDG_STATE_HOME="$WORK/home/state" XDG_DATA_HOME="$WORK/home/data"
PW="bench password 1"

# Runs a command under /usr/bin/time; appends "wall cpu rss_kib" to the file named first.
measure() {
  local out=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" "$@" >/dev/null
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$WORK/time.txt" >> "$out"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$2" '{print $c}' "$1" | median; }

rm -f "$WORK"/m-*
for rep in $(seq "$REPS"); do
  rm -rf "$WORK/home" "$WORK"/crm.db* "$WORK"/sq.db* "$WORK"/out*.csv
  export CRM_DB="$WORK/crm.db"
  echo "$PW" | "$CRM" init --password-stdin >/dev/null 2>&1
  echo "$PW" | "$CRM" login --user admin --password-stdin >/dev/null 2>&1
  sync
  measure "$WORK/m-ci" "$CRM" -q import customer "$CSV"
  n=$(sqlite3 "$CRM_DB" 'SELECT COUNT(*) FROM customer')
  [ "$n" = "$ROWS" ] || { echo "crm imported $n rows, not $ROWS" >&2; exit 1; }
  sync
  sqlite3 "$WORK/sq.db" "CREATE TABLE customer ($(echo $COLS | sed 's/,/ TEXT, /g') TEXT)"
  measure "$WORK/m-si" sqlite3 "$WORK/sq.db" ".import --csv --skip 1 $CSV customer"
  sync
  measure "$WORK/m-ce" "$CRM" -q export customer -o "$WORK/out-crm.csv" --force
  measure "$WORK/m-se" sh -c "sqlite3 -csv -header '$CRM_DB' 'SELECT $COLS FROM customer' > '$WORK/out-sq.csv'"
  echo "rep $rep (wall cpu rss): import crm $(tail -1 "$WORK/m-ci") | sqlite3 $(tail -1 "$WORK/m-si"); export crm $(tail -1 "$WORK/m-ce") | sqlite3 $(tail -1 "$WORK/m-se")"
done
ratio() { echo "$1/$2" | bc -l; }
ci=$(col "$WORK/m-ci" 1); si=$(col "$WORK/m-si" 1); ce=$(col "$WORK/m-ce" 1); se=$(col "$WORK/m-se" 1)
cic=$(col "$WORK/m-ci" 2); sic=$(col "$WORK/m-si" 2); cec=$(col "$WORK/m-ce" 2); sec=$(col "$WORK/m-se" 2)
rss=$(awk '{print $3}' "$WORK/m-ci" | sort -g | tail -1)
printf 'import: crm %.2fs, sqlite3 .import %.2fs: %.2fx wall (goal <= 1.5x); cpu %.2fs vs %.2fs: %.2fx\n' "$ci" "$si" "$(ratio "$ci" "$si")" "$cic" "$sic" "$(ratio "$cic" "$sic")"
printf 'export: crm %.2fs, sqlite3 -csv %.2fs: %.2fx wall (goal <= 1.2x); cpu %.2fs vs %.2fs: %.2fx\n' "$ce" "$se" "$(ratio "$ce" "$se")" "$cec" "$sec" "$(ratio "$cec" "$sec")"
printf 'import peak RSS: %.1f MiB (goal <= 128 MiB)\n' "$(echo "$rss/1024" | bc -l)"
printf 'load average while measuring: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
if cmp -s "$WORK/out-crm.csv" "$CSV"; then echo "export is byte-identical to the imported file"; else echo "note: export differs from the input file (see cmp)"; fi
