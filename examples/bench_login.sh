#!/usr/bin/env bash
# Measures `crm login` (argon2id verify + session write) against `crm whoami` (process start,
# open, session check) and `sqlite3` opening the same file, in one run: medians and ratios.
# Usage: [CRM_BENCH_PG=SUPERUSER_URL] [CRM_BIN=PATH] examples/bench_login.sh [RUNS]   (builds the
# release binary first unless CRM_BIN names one; with CRM_BENCH_PG, PostgreSQL too)
# Measured 2026-12-01 (end of issue 9; CRM_BENCH_PG on a local PostgreSQL 15), 21 runs,
# medians: SQLite login 23.5 ms, whoami 4.5 ms, sqlite3 3.2 ms; PostgreSQL login 18.7 ms,
# whoami 12.4 ms, psql 31.0 ms.
# 2026-12-02 (branch pgconn10), 11 runs at load average 18-25 on the shared VM: PostgreSQL
# login 151.7 ms before, 137.2 ms after (whoami 124.5 -> 107.5 ms; psql 245-292 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
# CRM_BIN: another build to measure (say, the previous one), as is.
if [ -n "${CRM_BIN:-}" ]; then crm=$CRM_BIN; else cargo build --release --quiet; crm=$PWD/target/release/crm; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work XDG_DATA_HOME=$work/data XDG_STATE_HOME=$work/state CRM_DB=$work/crm.db
echo 'bench-password' | "$crm" init --password-stdin -q
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
time_ms() { # runs "$@" $runs times, prints the median wall time in ms
  for _ in $(seq "$runs"); do
    s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | median | awk '{printf "%.1f", $1/1000}'
}
login() { echo 'bench-password' | "$crm" login --user admin --password-stdin -q; }
login
l=$(time_ms login)
w=$(time_ms "$crm" whoami)
q=$(time_ms sqlite3 "$CRM_DB" 'select count(*) from users')
echo "runs: $runs"
echo "crm login   median ${l} ms   (goal <= 150 ms)"
echo "crm whoami  median ${w} ms"
echo "sqlite3     median ${q} ms"
awk -v l="$l" -v w="$w" -v q="$q" 'BEGIN {printf "login/whoami %.2fx   login/sqlite3 %.2fx\n", l/w, l/q}'

# PostgreSQL, when CRM_BENCH_PG names a cluster (a superuser URL, say
# postgresql://postgres@/postgres?host=/tmp/dir): the same login and whoami against a fresh
# database there, beside psql connecting and reading the same table.
if [ -n "${CRM_BENCH_PG:-}" ]; then
  db=crm_bench_login_$$
  psql "$CRM_BENCH_PG" -qc "CREATE DATABASE $db" >/dev/null
  url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit((p.scheme,p.netloc,"/"+sys.argv[2],p.query,"")))' "$CRM_BENCH_PG" "$db")
  cleanup_pg() {
    psql "$CRM_BENCH_PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    for r in "admin@$db" "crm_${db}_admin" "crm_${db}_manager" "crm_${db}_sales" "crm_${db}_service" "crm_${db}_viewer"; do
      psql "$CRM_BENCH_PG" -qc "DROP ROLE IF EXISTS \"$r\"" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
  }
  trap cleanup_pg EXIT
  echo 'bench-password' | "$crm" --db "$url" init --password-stdin -q
  export CRM_DB=$url
  login
  pl=$(time_ms login)
  pw=$(time_ms "$crm" whoami)
  pq=$(time_ms psql "$url" -Atc 'select count(*) from crm.users')
  echo "PostgreSQL:"
  echo "crm login   median ${pl} ms   (goal <= 150 ms)"
  echo "crm whoami  median ${pw} ms"
  echo "psql        median ${pq} ms"
  awk -v l="$pl" -v w="$pw" -v q="$pq" 'BEGIN {printf "login/whoami %.2fx   login/psql %.2fx\n", l/w, l/q}'
fi
