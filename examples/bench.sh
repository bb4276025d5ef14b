#!/usr/bin/env bash
# Benchmark of `crm import` / `crm export` against the sqlite3 CLI on a realistic
# 1,000,000-row customers CSV (about 200 MB). Not a test: run it by hand.
#   examples/bench.sh [ROWS] [REPS]      (defaults 1000000 and 3)
# Goals: import <= 1.5x sqlite3 .import (crm validates, keeps the unique key and its
# indexes, records the batch); import peak RSS <= 128 MiB; export <= 1.2x sqlite3 -csv.
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

secs() { # run a command, print its wall seconds
  local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: > "$WORK/ci" ; : > "$WORK/si" ; : > "$WORK/ce" ; : > "$WORK/se" ; : > "$WORK/rss"
for rep in $(seq "$REPS"); do
  rm -rf "$WORK/home" "$WORK"/crm.db* "$WORK"/sq.db* "$WORK"/out*.csv
  export CRM_DB="$WORK/crm.db"
  echo "$PW" | "$CRM" init --password-stdin >/dev/null 2>&1
  echo "$PW" | "$CRM" login --user admin --password-stdin >/dev/null 2>&1
  sync
  /usr/bin/time -v -o "$WORK/time.txt" "$CRM" -q import customer "$CSV" >/dev/null
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$WORK/time.txt" >> "$WORK/ci"
  awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time.txt" >> "$WORK/rss"
  n=$(sqlite3 "$CRM_DB" 'SELECT COUNT(*) FROM customer')
  [ "$n" = "$ROWS" ] || { echo "crm imported $n rows, not $ROWS" >&2; exit 1; }
  sync
  sqlite3 "$WORK/sq.db" "CREATE TABLE customer ($(echo $COLS | sed 's/,/ TEXT, /g') TEXT)"
  secs sqlite3 "$WORK/sq.db" ".import --csv --skip 1 $CSV customer" >> "$WORK/si"
  sync
  secs "$CRM" -q export customer -o "$WORK/out-crm.csv" --force >> "$WORK/ce"
  secs sh -c "sqlite3 -csv -header '$CRM_DB' 'SELECT $COLS FROM customer' > '$WORK/out-sq.csv'" >> "$WORK/se"
  echo "rep $rep: import crm $(tail -1 "$WORK/ci")s sqlite3 $(tail -1 "$WORK/si")s; export crm $(tail -1 "$WORK/ce")s sqlite3 $(tail -1 "$WORK/se")s; rss $(tail -1 "$WORK/rss") KiB"
done
ci=$(median < "$WORK/ci"); si=$(median < "$WORK/si"); ce=$(median < "$WORK/ce"); se=$(median < "$WORK/se")
rss=$(sort -g "$WORK/rss" | tail -1)
printf 'import: crm %.2fs, sqlite3 .import %.2fs, ratio %.2fx (goal <= 1.5x)\n' "$ci" "$si" "$(echo "$ci/$si" | bc -l)"
printf 'export: crm %.2fs, sqlite3 -csv %.2fs, ratio %.2fx (goal <= 1.2x)\n' "$ce" "$se" "$(echo "$ce/$se" | bc -l)"
printf 'import peak RSS: %.1f MiB (goal <= 128 MiB)\n' "$(echo "$rss/1024" | bc -l)"
if cmp -s "$WORK/out-crm.csv" "$CSV"; then echo "export is byte-identical to the imported file"; else echo "note: export differs from the input file (see cmp)"; fi
