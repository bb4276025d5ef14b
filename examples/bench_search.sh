#!/usr/bin/env bash
# Benchmark of the search index (issue 11, "Speed") against the sqlite3 CLI on the
# 1,000,000-row customers CSV. Not a test: run it by hand.
#   examples/bench_search.sh [CSV] [REPS]     (defaults $BENCH_DIR/customers-1000000.csv, 3)
#   BENCH_DIR (default /tmp/crm-search-bench) holds the databases; a missing CSV is generated;
#   CRM=path measures an existing binary instead of building one.
# Side by side in one run, whole-process times, medians of REPS:
#   import: `crm import customer` (index built in its transaction) vs `sqlite3 .import` of
#     the same file into a bare table: goal <= 3x; crm's peak RSS <= 128 MiB;
#   size: the crm database with its index <= 2x the same database without it (both vacuumed);
#   find: `crm find customer TEXT --limit 20` for a rare term (full person name, e-mail
#     fragment, 7-digit phone fragment, 2-character Chinese word) <= 0.05x sqlite3's
#     `LIKE '%TEXT%'` scan over the same columns of the bare table; `科技 --count` <= 0.1x
#     the counting scan; `zw --limit 20` and `zhangwei` <= 30 ms.
# SKIP_IMPORT=1 measures the queries again on the databases of the last run.
#
# Measured 2026-12-02 (branch ftsimport), release build `cargo build --release
# --no-default-features` (plain SQLite), 1,000,000 rows / 198 MB, on the 2-core VM shared
# with other helpers' builds (load average 6-10: walls are inflated, the sqlite3 scans too):
#   CRM=target/release/crm examples/bench_search.sh CSV 1        (import, 1 rep)
#   import: crm 73.15 s vs sqlite3 .import 6.79 s = 10.78x wall (goal <= 3x: NOT met);
#     CPU 26.94 s vs 2.48 s = 10.86x (was 32.38 s); peak RSS 109.9 MiB (met)
#   size: 387.5 MB with the index vs 281.4 MB without = 1.38x (met)
#   SKIP_IMPORT=1 CRM=target/release/crm examples/bench_search.sh CSV 5   (queries, 5 reps)
#   person 黄杰霞 12.7 ms vs 760.7 ms = 0.017x; e-mail user123456@ 22.0 vs 663.6 ms = 0.033x;
#   phone 9276545 16.0 vs 661.7 ms = 0.024x (met); 磊艳 12.9 vs 79.1 ms = 0.163x (the scan
#   stops at its 20th hit); 科技 --count 16.2 vs 760.5 ms = 0.021x (met);
#   zw --limit 20 23.3 ms (was 215.8 ms; met: ranked in two queries, `db::query::paged`);
#   zhangwei --limit 20 15.1 ms (met).
# Where the import's time goes (perf, 100,000 rows, per thread): the FTS5 thread (side
# build) 58% of the CPU, the writer 23%, the CSV reader 17%; in the FTS5 thread
# sqlite3Fts5HashWrite and its memcmp are about 60% (a cache miss per token). So the wall
# is the FTS5 thread's: ~1.2-1.5 s of CPU per 100,000 rows for ~86 tokens a record.
# Tried on 100,000 rows (CPU of the FTS5 inserts alone, examples of one run side by side):
#   hashsize 1/2/4/8/16 MiB: 1.53/1.51/1.50/1.56/1.52 s (4 MiB 1.17 s in a quieter run than
#   the 1 and 16 MiB ones): no size pays, 2 MiB kept for memory; automerge 2/8: 1.48/1.44 s
#   vs 1.50; automerge=0 then 'optimize': 1.29 + 0.15 s; crisismerge 64: 1.49 s; pgsz 8000:
#   1.47 s; detail=none is already the format (no positions; CJK pairs are tokens).
#   Without the 21 pinyin keys a record: 0.70 s vs 1.17 s (they are 40% of the inserts:
#   long, mostly distinct terms). Dropping tokens that are a prefix of another token of
#   the same record (word tails, pinyin keys; answers unchanged): 14% fewer tokens, 16% less
#   insert time, but the per-record sort that finds them costs as much; pinyin keys alone:
#   1.8 of 21 a record. Cutting the index rows on the writer's thread instead of the FTS5
#   thread (done): ~8% off the FTS5 thread. Still open: fewer pinyin keys (later-syllable
#   keys are most of them) or another index layout; 3x needs the FTS5 thread ~2x faster.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/crm-search-bench}
CSV=${1:-$WORK/customers-1000000.csv}
REPS=${2:-3}
mkdir -p "$WORK"
cd "$ROOT"
# CRM=path: measure that binary (e.g. one built with `--no-default-features`); else build.
if [ -z "${CRM:-}" ]; then
  cargo build --release --quiet
  CRM="$ROOT/target/release/crm"
fi
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
[ -s "$CSV" ] || python3 "$ROOT/examples/gen_customers.py" 1000000 > "$CSV"
echo "file: $CSV ($(du -m "$CSV" | cut -f1) MB)"
COLS="code,name,kind,industry,level,status,source,owner,phone,email,website,city,address,tags,credit_code,notes"
# The customer's searchable fields (`.search()` in src/schema/entities.rs).
SEARCH="code name phone email city credit_code"
export HOME="$WORK/home" XDG_STATE_HOME="$WORK/home/state" XDG_DATA_HOME="$WORK/home/data"
export CRM_DB="$WORK/crm.db"
PW="bench password 1"

# Runs a command under /usr/bin/time -v; appends "wall cpu rss_kib" to the file named first
# (wall from bash's clock: time's is in hundredths).
measure() {
  local out=$1; shift
  local t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null
  local t1=$EPOCHREALTIME
  awk -F': ' -v w="$(echo "$t1 - $t0" | bc -l)" '/User time/ {u = $2} /System time/ {s = $2}
              /Maximum resident/ {m = $2} END {printf "%.4f %.2f %s\n", w, u + s, m}' "$WORK/time.txt" >> "$out"
}
# Appends a command's wall time to the file named first (the short queries: no time(1)).
clock() {
  local out=$1; shift
  local t0=$EPOCHREALTIME
  "$@" >/dev/null
  local t1=$EPOCHREALTIME
  echo "$t1 - $t0" | bc -l >> "$out"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$2" '{print $c}' "$1" | median; }
ratio() { echo "$1/$2" | bc -l; }
size_mb() { echo "$(stat -c %s "$1")/1048576" | bc -l; }

# SKIP_IMPORT=1: measure the queries on the databases of an earlier run.
if [ -z "${SKIP_IMPORT:-}" ]; then
rm -f "$WORK"/m-*
for rep in $(seq "$REPS"); do
  rm -rf "$WORK/home" "$WORK"/crm.db* "$WORK"/sq.db*
  echo "$PW" | "$CRM" init --password-stdin >/dev/null 2>&1
  echo "$PW" | "$CRM" login --user admin --password-stdin >/dev/null 2>&1
  sync
  measure "$WORK/m-ci" "$CRM" -q import customer "$CSV"
  sync
  sqlite3 "$WORK/sq.db" "CREATE TABLE customer ($(echo $COLS | sed 's/,/ TEXT, /g') TEXT)"
  measure "$WORK/m-si" sqlite3 "$WORK/sq.db" ".import --csv --skip 1 $CSV customer"
  echo "rep $rep (wall cpu rss_kib): import crm $(tail -1 "$WORK/m-ci") | sqlite3 $(tail -1 "$WORK/m-si")"
done
fi
rm -f "$WORK"/m-f-* "$WORK"/m-s-*
n=$(sqlite3 "$CRM_DB" 'SELECT COUNT(*) FROM customer')
m=$(sqlite3 "$WORK/sq.db" 'SELECT COUNT(*) FROM customer')
[ "$n" = "$m" ] || { echo "crm imported $n rows, sqlite3 $m" >&2; exit 1; }

# Sizes: the crm database with its index, and without it (less the index tables' pages,
# from dbstat: the sqlite3 CLI may be too old to open crm's FTS5 tables, contentless_delete
# is 3.43); the bare table's file for reference.
sqlite3 "$CRM_DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
page() { sqlite3 "$CRM_DB" "$1"; }
total=$(page 'SELECT page_count * page_size FROM pragma_page_count, pragma_page_size')
free=$(page 'SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size')
index=$(page "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE '%\_search%' ESCAPE '\\'")
with_mb=$(echo "($total - $free)/1048576" | bc -l)
without_mb=$(echo "($total - $free - $index)/1048576" | bc -l)
bare_mb=$(size_mb "$WORK/sq.db")

# The queries: rare terms picked from the file (a 3-character person name, an e-mail
# fragment, 7 digits from the middle of a mobile), the rarest 2-character Chinese word of
# the names (no such word of the generated file has fewer than 100 hits: 磊艳 has 158).
person=$(sqlite3 "$WORK/sq.db" "SELECT name FROM customer WHERE kind = 'person' AND length(name) = 3 AND rowid > 500000 LIMIT 1")
phone=$(sqlite3 "$WORK/sq.db" "SELECT substr(phone, 3, 7) FROM customer WHERE rowid = 654321")
like() {
  local w=() c
  for c in $SEARCH; do w+=("$c LIKE '%$1%'"); done
  local IFS='|'; echo "${w[*]}" | sed 's/|/ OR /g'
}
# name | crm arguments | sqlite3 scan (empty: no scan baseline, goal 30 ms)
QUERIES=(
  "person|$person --limit 20|SELECT * FROM customer WHERE $(like "$person") LIMIT 20"
  "email|user123456@ --limit 20|SELECT * FROM customer WHERE $(like user123456@) LIMIT 20"
  "phone|$phone --limit 20|SELECT * FROM customer WHERE $(like "$phone") LIMIT 20"
  "2-char|磊艳 --limit 20|SELECT * FROM customer WHERE $(like 磊艳) LIMIT 20"
  "count|科技 --count|SELECT COUNT(*) FROM customer WHERE $(like 科技)"
  "zw|zw --limit 20|"
  "zhangwei|zhangwei --limit 20|"
)
# One pass unmeasured, so both sides read warm files.
for q in "${QUERIES[@]}"; do
  IFS='|' read -r name args sql <<<"$q"
  # shellcheck disable=SC2086
  "$CRM" find customer $args >/dev/null
  [ -z "$sql" ] || sqlite3 "$WORK/sq.db" "$sql" >/dev/null
done
for rep in $(seq "$REPS"); do
  for q in "${QUERIES[@]}"; do
    IFS='|' read -r name args sql <<<"$q"
    # shellcheck disable=SC2086 # the arguments are split on purpose
    clock "$WORK/m-f-$name" "$CRM" find customer $args
    [ -z "$sql" ] || clock "$WORK/m-s-$name" sqlite3 "$WORK/sq.db" "$sql"
  done
done

ci=$(col "$WORK/m-ci" 1); si=$(col "$WORK/m-si" 1)
cic=$(col "$WORK/m-ci" 2); sic=$(col "$WORK/m-si" 2)
rss=$(awk '{print $3}' "$WORK/m-ci" | sort -g | tail -1)
printf 'import: crm %.2fs, sqlite3 .import %.2fs: %.2fx wall (goal <= 3x); cpu %.2fs vs %.2fs: %.2fx\n' \
  "$ci" "$si" "$(ratio "$ci" "$si")" "$cic" "$sic" "$(ratio "$cic" "$sic")"
printf 'import peak RSS: %.1f MiB (goal <= 128 MiB)\n' "$(echo "$rss/1024" | bc -l)"
printf 'size: crm %.1f MB with the index, %.1f MB without: %.2fx (goal <= 2x); bare sqlite3 table %.1f MB\n' \
  "$with_mb" "$without_mb" "$(ratio "$with_mb" "$without_mb")" "$bare_mb"
for q in "${QUERIES[@]}"; do
  IFS='|' read -r name args sql <<<"$q"
  hits=$("$CRM" find customer "${args%% *}" --count 2>/dev/null || echo '?')
  f=$(col "$WORK/m-f-$name" 1)
  if [ -z "$sql" ]; then
    printf 'find %-8s crm find customer %-22s %7.1f ms (goal <= 30 ms; %s hits)\n' "$name" "$args" "$(echo "$f*1000" | bc -l)" "$hits"
  else
    s=$(col "$WORK/m-s-$name" 1)
    goal=0.05; [ "$name" = count ] && goal=0.1
    printf 'find %-8s crm find customer %-22s %7.1f ms vs LIKE scan %7.1f ms: %.3fx (goal <= %sx; %s hits)\n' \
      "$name" "$args" "$(echo "$f*1000" | bc -l)" "$(echo "$s*1000" | bc -l)" "$(ratio "$f" "$s")" "$goal" "$hits"
  fi
done
printf 'load average while measuring: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
