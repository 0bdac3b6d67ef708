#!/usr/bin/env bash
# What test/pgtap/roles.sql cannot run inside its transaction: the procedure run_jobs (it
# commits) and the pg_cron wrappers (pg_cron lives in the cluster's own database), on a cluster
# of its own, as a login role of each geoetl role and of none, never as superuser. Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-roles-test-$$
PGC=$ROOT/scripts/pgcluster.sh
. "$ROOT/test/e2e/lib/tap.sh"
trap '"$PGC" destroy >/dev/null 2>&1' EXIT
q() { "$PGC" psql -XAtqc "$1"; }
as() { "$PGC" psql -XAtq -v ON_ERROR_STOP=1 -c "SET ROLE geoetl_e2e_$1" -c "$2"; }  # role, statement
refused() { local out; out=$(as "$1" "$2" 2>&1); [[ $out == *"permission denied"* ]]; }

"$PGC" start >/dev/null || { echo "not ok 1 - cluster starts"; exit 1; }
q "SET client_min_messages = warning; CREATE EXTENSION pg_cron; CREATE EXTENSION geoetl CASCADE" >/dev/null
q "CREATE ROLE geoetl_e2e_nobody LOGIN; CREATE ROLE geoetl_e2e_reader LOGIN IN ROLE geoetl_reader;
   CREATE ROLE geoetl_e2e_writer LOGIN IN ROLE geoetl_writer; CREATE ROLE geoetl_e2e_admin LOGIN IN ROLE geoetl_admin" >/dev/null

calls=("CALL geoetl.run_jobs(max_jobs => 1, max_seconds => 0)"
       "SELECT geoetl.schedule_worker('roles-worker') > 0"
       "SELECT geoetl.unschedule_worker('roles-worker')"
       "SELECT geoetl.schedule_pruning() > 0")
for stmt in "${calls[@]}"; do
  check "an admin: $stmt" as admin "$stmt"
  for r in writer reader nobody; do
    check "refused to a $r: $stmt" refused "$r" "$stmt"
  done
done
check "the admin's worker came and went, its pruning stayed" \
  test "$(q "SELECT string_agg(jobname, ',' ORDER BY jobname) FROM cron.job")" = geoetl-prune
finish
