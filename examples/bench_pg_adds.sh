#!/usr/bin/env bash
# Concurrent adds on PostgreSQL vs SQLite (issue 10, section 3), the concurrency part of
# examples/bench_pg.sh alone (no 1M-row import first). Not a test: run by hand.
#   examples/bench_pg_adds.sh [PROCS] [ADDS]      (defaults 16 and 100; CRM_BIN=PATH for a given build)
# PostgreSQL: CRM_BENCH_PG or PGURL, a superuser URL (e.g.
# postgresql://postgres@/postgres?host=/tmp/devpg). Measured, on a fresh database of each
# engine: PROCS processes each running ADDS `crm add customer` one after another; failures,
# records after (nothing lost), wall. Goal: PostgreSQL's wall <= SQLite's.
# Also: one add alone on each engine (median of 20, serial).
#
# Measured 2026-12-01 06:11-06:15 UTC on the 2-core dev VM shared with other helpers' builds
# and tests (load average 10-16, so SQLite's own figure is 4x last session's), release
# builds, PostgreSQL 15 at /tmp/devpg (fsync off), alternating the previous build (main,
# CRM_BIN=/work/main/target/release/crm) and this one, each run against SQLite in the same run:
#   before: PostgreSQL 56.63 s vs SQLite 19.97 s = 2.84x; 53.61 s vs 17.56 s = 3.05x
#   after:  PostgreSQL 38.45 s vs SQLite 22.13 s = 1.74x; 37.31 s vs 19.19 s = 1.94x
#   at 06:35 (load average 3-9): before 28.73 s vs SQLite 4.38 s = 6.56x (last session's
#   5.67x); after 19.14 s vs SQLite 9.05 s (the load rose during it) = 2.12x, i.e. 4.4x
#   SQLite's quiet 4.38 s. One add alone: PostgreSQL 22-28 ms, SQLite 6 ms.
#   0 failures, 1601 records (1,600 + the probe), audit chain intact, in every run.
# Where the time went before: every writer queued on the audit chain's lock, taken at
# BEGIN and held through 6 client round trips and a new server process's first plans (the
# row triggers' INSERT alone 11-13 ms cold): 14 of 16 backends sat in Lock:relation, so the
# adds ran one at a time, ~26 ms each. Now adds run side by side (`crm.begin_add`, ids
# claimed with advisory locks, audit rows queued and chained at COMMIT: v2.sql) and no
# sample shows a lock wait; what is left is CPU: per add ~6 ms in crm (process start,
# SCRAM) and ~10 ms in a new PostgreSQL backend (fork, catalog caches, first plans of
# crm's functions and triggers), against ~6 ms for a whole add on SQLite: with one
# connection per command, PostgreSQL cannot reach SQLite's wall on 2 cores.
#
# 2026-12-02 (branch pgconn10), one `crm add customer` on PostgreSQL end to end (server log
# with log_min_duration_statement=0 on a database of its own, strace, perf):
#   before: 30 client round trips: connect + SCRAM 3; open 12 (to_regclass, schema state,
#   phone.region, custom fields, crm.me(), session: each prepared then executed); the add
#   15 (crm.next_record_id 3x and the code lookup 3x, once before BEGIN and twice inside,
#   INSERT, search row, COMMIT). Cold server costs in a new backend: crm.me() 3.3 ms,
#   first next_record_id 8.8 ms, INSERT with its triggers 8.1 ms, COMMIT (audit flush)
#   6.7 ms; server CPU about twice the client's (perf, whole system, 20 serial adds).
#   Client ~12 ms CPU: page zeroing of mimalloc's huge pages ~17%, dynamic linking ~12%,
#   the security fingerprint ~5%, SCRAM's 4096 PBKDF2 rounds ~7% (the server side of
#   SCRAM does no rounds: it compares stored keys).
#   after: 24 round trips (schema state with the "is it initialised" check, and crm.me()
#   with the session lookup, each one statement in one round trip, unprepared).
#   16 x 50 at load average 14-25 (shared VM, other helpers' builds and suites), same run:
#   before PostgreSQL 67.46 s vs SQLite 39.17 s = 1.72x; after 62.17 s vs 39.85 s = 1.56x.
set -euo pipefail
PROCS=${1:-16}
ADDS=${2:-100}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/crm-bench}
mkdir -p "$WORK"
cd "$ROOT"
# CRM_BIN: another build to measure (say, the last release's), as is.
if [ -n "${CRM_BIN:-}" ]; then CRM=$CRM_BIN; else cargo build --release --quiet; CRM="$ROOT/target/release/crm"; fi
PGURL=${CRM_BENCH_PG:-${PGURL:?set CRM_BENCH_PG to a PostgreSQL superuser URL}}
export HOME="$WORK/home" XDG_STATE_HOME="$WORK/home/state" XDG_DATA_HOME="$WORK/home/data"
PW="bench password 1"
url_of() {
  local head=${PGURL%%\?*} query=""
  [[ "$PGURL" == *\?* ]] && query="?${PGURL#*\?}"
  echo "${head%/*}/$1$query"
}
sql() { psql -X -q -v ON_ERROR_STOP=1 "$PGURL" "$@"; }
DB="crm_bench_adds_$$"
cleanup() {
  sql -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  sql -At -c "SELECT rolname FROM pg_roles WHERE rolname LIKE '%$DB%'" | while read -r r; do sql -c "DROP ROLE IF EXISTS \"$r\"" >/dev/null 2>&1 || true; done
  rm -rf "$WORK/home" "$WORK"/adds.* "$WORK"/conc.db*
}
trap cleanup EXIT

adds() {
  local fails=0 pids=() err=$1
  for p in $(seq "$PROCS"); do
    ( f=0; for i in $(seq "$ADDS"); do "$CRM" -q add customer --name "p$p-$i" >/dev/null 2>>"$err" || f=$((f + 1)); done; echo "$f" > "$WORK/adds.$p" ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  for p in $(seq "$PROCS"); do fails=$((fails + $(cat "$WORK/adds.$p"))); done
  echo "$fails"
}
# The median wall of 20 adds one after another, in ms.
one() {
  for i in $(seq 20); do
    local t0 t1
    t0=$(date +%s%N); "$CRM" -q add customer --name "solo$i" >/dev/null; t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
  done | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)] / 1000}'
}
cleanup
: > "$WORK/adds.sqlite.err"; : > "$WORK/adds.pg.err"
CRM_DB="$WORK/conc.db"
export CRM_DB
echo "$PW" | "$CRM" init --password-stdin >/dev/null 2>&1
echo "$PW" | "$CRM" login --user admin --password-stdin >/dev/null 2>&1
t0=$(date +%s.%N); sq_fail=$(adds "$WORK/adds.sqlite.err"); t1=$(date +%s.%N)
sq_wall=$(echo "$t1 - $t0" | bc -l)
sq_n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM customer").fetchone()[0])' "$WORK/conc.db")
sq_one=$(one)
rm -rf "$WORK/home"
sql -c "CREATE DATABASE $DB" >/dev/null
CRM_DB=$(url_of "$DB")
echo "$PW" | "$CRM" init --admin admin --password-stdin >/dev/null 2>&1
echo "$PW" | "$CRM" login --user admin --password-stdin >/dev/null 2>&1
# One add first: a build whose adds fail on PostgreSQL is not worth thousands of failures.
if ! "$CRM" -q add customer --name probe >/dev/null 2>"$WORK/probe.err"; then
  echo "crm add fails on PostgreSQL: $(head -c 300 "$WORK/probe.err")"
  exit 1
fi
t0=$(date +%s.%N); pg_fail=$(adds "$WORK/adds.pg.err"); t1=$(date +%s.%N)
pg_wall=$(echo "$t1 - $t0" | bc -l)
pg_n=$(psql -X -At "$CRM_DB" -c 'SELECT count(*) FROM crm.customer')
pg_one=$(one)
broken=$(psql -X -At "$CRM_DB" -c 'SELECT crm.audit_chain_break()')
printf '%s x %s adds: PostgreSQL %.2fs, %s failures, %s records; SQLite %.2fs, %s failures, %s records: %.2fx (goal <= 1x)\n' \
  "$PROCS" "$ADDS" "$pg_wall" "$pg_fail" "$pg_n" "$sq_wall" "$sq_fail" "$sq_n" "$(echo "$pg_wall/$sq_wall" | bc -l)"
printf 'one add alone (median of 20): PostgreSQL %s ms, SQLite %s ms\n' "$pg_one" "$sq_one"
printf 'audit chain on PostgreSQL: %s\n' "${broken:-intact}"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
for e in sqlite pg; do
  [ -s "$WORK/adds.$e.err" ] && { echo "$e errors (first 5):"; sort "$WORK/adds.$e.err" | uniq -c | sort -rn | head -5; }
done
true
