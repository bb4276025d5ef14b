#!/usr/bin/env bash
# Stress of `crm backup` under write load (RELIABILITY: "nothing lost"): two shell loops
# add customers while N backups are taken; every backup must succeed and the database must
# pass `PRAGMA integrity_check` at the end. Not a test: run by hand on a release build.
#   [CRM_BIN=target/release/crm] [N=60] [TMPBASE=/dev/shm] examples/stress_backup.sh
# Found 2026-12-02: a peek at the open file's header closed a descriptor of it, which
# dropped the process's POSIX locks; 14 of 60 backups failed and the source was corrupt
# ("wrong # of entries in index audit_customer_status"). Since db/peek.rs: 0 of 60, ok.
set -u
BIN=${CRM_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/crm}
T=$(mktemp -d "${TMPBASE:-/tmp}/crm-stress.XXXX")
export HOME=$T CRM_DB=$T/crm.db
echo stress-password-1 | "$BIN" init --password-stdin >/dev/null 2>&1
CRM_TOKEN=$(echo stress-password-1 | "$BIN" login --user admin --password-stdin --print-token)
export CRM_TOKEN
for w in 1 2; do
  ( n=0
    while [ ! -e "$T/stop" ]; do
      "$BIN" add customer --name "w$w $n" -q >/dev/null 2>>"$T/writers.err" || echo "add failed" >>"$T/writers.err"
      n=$((n + 1))
    done ) &
done
fails=0
for i in $(seq 1 "${N:-60}"); do
  "$BIN" backup "$T/b$i.db" >/dev/null 2>>"$T/backups.err" || fails=$((fails + 1))
  rm -f "$T/b$i.db"
done
touch "$T/stop"; wait
echo "backups failed: $fails of ${N:-60}"
echo "writers failed: $(cat "$T/writers.err" 2>/dev/null | grep -c 'add failed'); customers added: $("$BIN" find customer --count)"
grep -h "^error" "$T/backups.err" "$T/writers.err" 2>/dev/null | sort | uniq -c | head -5
echo "integrity: $(sqlite3 -cmd '.timeout 5000' "$CRM_DB" 'PRAGMA integrity_check' | head -3)"
rm -rf "$T"
