#!/usr/bin/env bash
# Benchmark of `crm merge` (issue 12, "Speed"): a customer with RELATED related records
# (contacts and follow-up activities, half each) merged into another; goal < 1 s for 1,000.
# Not a test: run it by hand, on a release build.
#   examples/bench_merge.sh [RELATED] [REPS]      (defaults 1000, 5; CRM_BIN=PATH for a given build)
#   CRM_BENCH_PG=SUPERUSER_URL: the same on PostgreSQL (a fresh database per run).
# Each rep: a fresh database, two customers, the related records imported onto the second,
# then `crm merge customer KEEP DUP --yes` timed (whole process, wall); then `merge revert`
# timed too. Prints the medians.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000}
REPS=${2:-5}
[ -n "${CRM_BIN:-}" ] || (cd "$ROOT" && cargo build --release --quiet)
CRM=${CRM_BIN:-$ROOT/target/release/crm}
WORK=$(mktemp -d)
PGURL=${CRM_BENCH_PG:-}
cleanup() {
  if [ -n "$PGURL" ]; then
    for i in $(seq "$REPS"); do psql -X -q "$PGURL" -c "DROP DATABASE IF EXISTS crm_bench_merge_${$}_$i" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export HOME=$WORK XDG_STATE_HOME=$WORK/state XDG_DATA_HOME=$WORK/data
PW="bench password 1"
url_of() {
  local head=${PGURL%%\?*} query=""
  [[ "$PGURL" == *\?* ]] && query="?${PGURL#*\?}"
  echo "${head%/*}/$1$query"
}
{
  echo "customer,name,mobile"
  for i in $(seq $((N / 2))); do echo "C000002,联系人$i,139$(printf '%08d' "$i")"; done
} > "$WORK/contacts.csv"
{
  echo "customer,type,subject"
  for i in $(seq $((N - N / 2))); do echo "C000002,call,跟进第${i}次"; done
} > "$WORK/activities.csv"
ms() { echo "($2 - $1) * 1000" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for i in $(seq "$REPS"); do
  if [ -n "$PGURL" ]; then
    db="crm_bench_merge_${$}_$i"
    psql -X -q "$PGURL" -c "CREATE DATABASE $db" >/dev/null
    export CRM_DB
    CRM_DB=$(url_of "$db")
  else
    export CRM_DB=$WORK/merge-$i.db
  fi
  echo "$PW" | "$CRM" init --password-stdin -q
  echo "$PW" | "$CRM" login --user admin --password-stdin -q
  "$CRM" -q add customer --name "彩虹网络有限公司" --phone 13912345678 >/dev/null
  "$CRM" -q add customer --name "彩虹网络（有限公司）" --phone 139-1234-5678 >/dev/null
  "$CRM" -q import contact "$WORK/contacts.csv"
  "$CRM" -q import activity "$WORK/activities.csv"
  t0=$EPOCHREALTIME
  "$CRM" -q merge customer C000001 C000002 --yes
  t1=$EPOCHREALTIME
  "$CRM" -q merge revert 1
  t2=$EPOCHREALTIME
  ms "$t0" "$t1" >> "$WORK/merge.ms"
  ms "$t1" "$t2" >> "$WORK/revert.ms"
  [ "$("$CRM" find contact --where customer=C000002 --count)" = $((N / 2)) ] || { echo "revert lost contacts" >&2; exit 1; }
done
printf '%s related records, %s reps on %s: merge median %.0f ms (goal < 1000 ms), revert median %.0f ms\n' \
  "$N" "$REPS" "$([ -n "$PGURL" ] && echo PostgreSQL || echo SQLite)" "$(median < "$WORK/merge.ms")" "$(median < "$WORK/revert.ms")"
