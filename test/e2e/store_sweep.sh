#!/usr/bin/env bash
# store_sweep while a download runs, on a cluster of its own: a fetch from the test HTTP server
# (GEOETL_HTTP, whose /slow/ answers late) is writing its unfinished file when another session
# sweeps the store with older_than 0; the file stays and the download lands whole. Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-sweep-test-$$
PGC=$ROOT/scripts/pgcluster.sh
OUT=$GEOETL_PGDIR.out
. "$ROOT/test/e2e/lib/tap.sh"
trap 'kill $(jobs -p) 2>/dev/null; "$PGC" destroy >/dev/null 2>&1; rm -f "$OUT".*' EXIT
q() { "$PGC" psql -XAtqc "$1"; }
if [[ -z ${GEOETL_HTTP:-} ]]; then echo "1..0 # skip: no test HTTP server (GEOETL_HTTP; make check sets it)"; exit 0; fi

"$PGC" start >/dev/null || { echo "not ok 1 - cluster starts"; exit 1; }
q "SET client_min_messages = warning; CREATE EXTENSION geoetl CASCADE" >/dev/null
STAGING=$(q "SELECT current_setting('data_directory')")/geoetl_store/.staging
# the body comes after 6 s; meanwhile its unfinished file waits in the staging folder
"$PGC" psql -XAtq -c "SELECT bytes > 0 FROM geoetl._store_fetch('$GEOETL_HTTP/slow/6/lights.tif', 'sweep/lights.tif', 'tiff', false)" \
  >"$OUT.fetch" 2>&1 &
fetch=$!
part_exists() { compgen -G "$STAGING/*.part-*" >/dev/null; }
for _ in $(seq 50); do part_exists && break; sleep 0.1; done
check "a running download has its unfinished file in the store" part_exists
check "store_sweep('0 seconds') removes nothing while the download runs" \
  test "$(q "SELECT geoetl.store_sweep('0 seconds')")" = 0
check "... and its unfinished file is still there" part_exists
wait $fetch
check "the download lands whole" grep -qx t "$OUT.fetch"
check "... as an object of the store" test "$(q "SELECT count(*) FROM geoetl.store_list('sweep/')")" = 1
check "... and leaves nothing in the staging folder" not part_exists
[[ $failed -gt 0 ]] && cat "$OUT.fetch" >&2
finish
