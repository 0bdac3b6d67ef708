#!/usr/bin/env bash
# scripts/pgcluster.sh as a user meets it: start/stop/status, idempotence, recovery from a run
# that was killed, and no process left behind. Prints TAP ("ok N - ...", "not ok N - ...").
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-pgcluster-test-$$
PGC=$ROOT/scripts/pgcluster.sh
. "$ROOT/test/e2e/lib/tap.sh"
postmaster_pid() { head -n1 "$GEOETL_PGDIR/data/postmaster.pid"; }
processes_of_cluster() { pgrep -f -- "$GEOETL_PGDIR/data" || true; }
trap '"$PGC" destroy >/dev/null 2>&1' EXIT

check "status of a cluster never started says not running" not "$PGC" status
check "start creates and starts a cluster" "$PGC" start
check "status says running" "$PGC" status
check "the database answers on its socket" "$PGC" psql -XAtc 'SELECT 1'
check "pg_cron and geoetl are preloaded" test "$("$PGC" psql -XAtc 'SHOW shared_preload_libraries')" = pg_cron,geoetl
check "cron.database_name is the cluster database" test "$("$PGC" psql -XAtc 'SHOW cron.database_name')" = geoetl
check "the url connects over TCP on 127.0.0.1" psql "$("$PGC" url)" -XAtc 'SELECT 1'
check "start again is a no-op" "$PGC" start
pid=$(postmaster_pid)
check "start again kept the same server" test "$(postmaster_pid)" = "$pid"
check "pg_cron accepts a job" "$PGC" psql -XAtc "CREATE EXTENSION pg_cron; SELECT cron.schedule('t', '* * * * *', 'CREATE TABLE IF NOT EXISTS cron_ran()')"
cron_ran() {  # pg_cron has minute resolution: wait up to 75 s for the first run
  local i
  for ((i = 0; i < 75; i++)); do
    [[ $("$PGC" psql -XAtc "SELECT to_regclass('cron_ran') IS NOT NULL") == t ]] && return 0
    sleep 1
  done
  "$PGC" psql -XAtc "SELECT status, return_message FROM cron.job_run_details" >&2
  return 1
}
check "pg_cron runs the job through its libpq connection" cron_ran

kill -9 "$pid"; sleep 1
check "after the server was killed, status says not running" not "$PGC" status
check "start recovers the killed cluster" "$PGC" start
check "the data survived the crash" test "$("$PGC" psql -XAtc "SELECT count(*) FROM cron.job")" = 1

pid=$(postmaster_pid); kill -9 "$pid"; sleep 1
echo 1 >"$GEOETL_PGDIR/data/postmaster.pid"  # a stale pid file naming a live, unrelated process
check "start recovers when a stale pid file names another process" "$PGC" start

check "stop stops it" "$PGC" stop
check "stop leaves no process of the cluster behind" test -z "$(processes_of_cluster)"
check "stop when stopped is a no-op" "$PGC" stop
check "psql on a stopped cluster fails clearly" not "$PGC" psql -XAtc 'SELECT 1'
check "destroy removes the folder" "$PGC" destroy
check "nothing is left on disk" test ! -e "$GEOETL_PGDIR"

finish
