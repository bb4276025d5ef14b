#!/usr/bin/env bash
# Measures `crm login` (argon2id verify + session write) against `crm whoami` (process start,
# open, session check) and `sqlite3` opening the same file, in one run: medians and ratios.
# Usage: examples/bench_login.sh [RUNS]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
cargo build --release --quiet
crm=$PWD/target/release/crm
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
