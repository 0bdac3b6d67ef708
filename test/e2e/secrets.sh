#!/usr/bin/env bash
# Fetching Black Marble granules into an S3 store (s3rver on 127.0.0.1) from a local server laid
# out like LAADS DAAC that wants a bearer token, on a cluster of its own; then the S3 keys and
# the token must appear nowhere: not in job rows, not in error messages, not in the server log.
# Secrets are set with geoetl.set_secret: a reload after ALTER SYSTEM would log the values of
# changed settings. Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-secrets-test-$$
PGC=$ROOT/scripts/pgcluster.sh
WORK=$GEOETL_PGDIR.work
. "$ROOT/test/e2e/lib/tap.sh"
cleanup() {
  kill "${HTTP_PID:-}" "${S3_PID:-}" 2>/dev/null
  [[ -n ${KEEP:-} ]] && return
  "$PGC" destroy >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
q() { "$PGC" psql -XAtqc "$1"; }
# statements from stdin, each on its own, in a session that loaded geoetl (so that ALTER SYSTEM
# knows its settings: a failed statement would be logged with the secret in it)
script() { { echo "LOAD 'geoetl';"; cat; } | "$PGC" psql -XAtq -v ON_ERROR_STOP=1 >/dev/null; }
is() { local got; got=$(q "$1"); [[ $got == "$2" ]] || { echo "  got: $got, want: $2" >&2; return 1; }; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

TOKEN=e2e-bearer-$$-token
S3RVER=${GEOETL_S3RVER:-$ROOT/test/s3/node_modules/.bin/s3rver}
[[ -x $S3RVER ]] || { echo "ok 1 # skip no s3rver (make check installs it)"; echo "1..1"; exit 0; }

mkdir -p "$WORK/granules" "$WORK/served" "$WORK/s3"
"$ROOT/build/geoetl_blackmarble" "$WORK/granules" VNP46A2 2 h21v08 2024-02-01 2 60 5 >/dev/null 2>&1
python3 "$ROOT/test/fixtures/laads_layout.py" "$WORK/granules" "$WORK/served/laads"
GEOETL_TEST_BEARER=$TOKEN python3 "$ROOT/test/fixtures/http_server.py" "$WORK/served" "$WORK/http.port" &
HTTP_PID=$!
S3_PORT=$(free_port)
node "$S3RVER" -d "$WORK/s3" -a 127.0.0.1 -p "$S3_PORT" --configure-bucket geoetl-e2e --silent >/dev/null &
S3_PID=$!
for _ in $(seq 100); do [[ -f $WORK/http.port ]] && (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && break; sleep 0.1; done
HTTP=http://127.0.0.1:$(cat "$WORK/http.port")

"$PGC" start >/dev/null || { echo "not ok 1 - cluster starts"; exit 1; }
q "SET client_min_messages = warning; CREATE EXTENSION geoetl CASCADE" >/dev/null
script <<SQL
ALTER SYSTEM SET geoetl.store = 's3://geoetl-e2e/store';
ALTER SYSTEM SET geoetl.s3_endpoint = '127.0.0.1:$S3_PORT';
ALTER SYSTEM SET geoetl.s3_https = off;
ALTER SYSTEM SET geoetl.laads_url = '$HTTP/bearer/laads';
SELECT pg_reload_conf();
SELECT geoetl.set_secret('s3_access_key', 'S3RVER');
SELECT geoetl.set_secret('s3_secret_key', 'S3RVER');
SELECT geoetl.set_secret('laads_token', '$TOKEN');
SQL
area=$(q "SELECT geoetl.add_area('s3', '{\"type\":\"Polygon\",\"coordinates\":[[[31,1],[33,1],[33,3],[31,3],[31,1]]]}')")

check "fetch_blackmarble enqueues 2 days x 1 tile" is "SELECT geoetl.fetch_blackmarble('VNP46A2', $area, '2024-02-01', '2024-02-02')" 2
q "CALL geoetl.run_jobs()" >/dev/null 2>&1
check "both granules are fetched into the S3 store" is \
  "SELECT count(*), bool_and(uri LIKE 's3://geoetl-e2e/store/blackmarble/VNP46A2/2024/03_/%') FROM geoetl.granule_fetch WHERE state = 'fetched'" "2|t"
check "the store lists them with the sizes recorded" is \
  "SELECT count(*) FROM geoetl.store_list('blackmarble/') s JOIN geoetl.granule_fetch g ON g.uri = s.uri AND g.bytes = s.size" 2
check "s3rver holds them" test "$(find "$WORK/s3" -name '*.h5*' | wc -l)" -ge 2
check "they are registered from the local copies kept for GDAL (HDF5 needs a local file)" is \
  "SELECT count(*), bool_and(r.uri LIKE '%/geoetl_store/.cache/blackmarble/VNP46A2/2024/%') FROM geoetl.raster r JOIN geoetl.granule_fetch g ON g.local_path = r.uri" "2|t"
check "so the month's metrics read them" is \
  "SELECT days_with_data FROM geoetl.nightlight_metrics($area::bigint, '2024-02-01')" 2

# failures with the secrets in play: wrong S3 keys (s3rver checks the key id, not v4
# signatures), a wrong token
script <<SQL
SELECT geoetl.set_secret('s3_access_key', 'wrong-access-$$');
SELECT geoetl.set_secret('s3_secret_key', 'wrong-secret-$$');
SQL
sleep 0.5
check "a store that refuses the keys is a clear error" bash -c "'$PGC' psql -XAtqc \"SELECT * FROM geoetl.store_list('blackmarble/')\" 2>&1 | grep -q -i 'error'"
q "SELECT geoetl.enqueue('fetch_blackmarble', '{\"product\": \"VNP46A2\", \"date\": \"2024-02-03\", \"tile\": \"h21v08\"}', max_attempts => 1)" >/dev/null
script <<SQL
SELECT geoetl.set_secret('s3_access_key', 'S3RVER');
SELECT geoetl.set_secret('s3_secret_key', 'S3RVER');
SELECT geoetl.set_secret('laads_token', 'not-the-$$-token');
SQL
sleep 0.5
q "SELECT geoetl.enqueue('fetch_blackmarble', '{\"product\": \"VNP46A2\", \"date\": \"2024-02-04\", \"tile\": \"h21v08\"}', max_attempts => 1)" >/dev/null
q "CALL geoetl.run_jobs()" >/dev/null 2>&1
check "the jobs run with the refused token failed, saying so" is \
  "SELECT count(*) FROM geoetl.job WHERE state = 'failed' AND errors->0->>'message' LIKE 'LAADS DAAC answered 401%'" 2

check "a misspelt name is refused (and the statement with the value is not logged)" bash -c \
  "'$PGC' psql -XAtqc \"SELECT geoetl.set_secret('laads_tokn', 'misspelt-$$-token')\" 2>&1 | grep -q 'unknown secret \"laads_tokn\"'"

secrets=("$TOKEN" "not-the-$$-token" "wrong-access-$$" "wrong-secret-$$" "S3RVER" "misspelt-$$-token")
check "no secret in any job row" is \
  "SELECT count(*) FROM geoetl.job WHERE (args || coalesce(result, '{}') || errors)::text ~ '$(IFS='|'; echo "${secrets[*]}")'" 0
check "no secret in geoetl.granule_fetch" is \
  "SELECT count(*) FROM geoetl.granule_fetch WHERE (uri || coalesce(detail, ''))::text ~ '$(IFS='|'; echo "${secrets[*]}")'" 0
"$PGC" stop >/dev/null
check "the server log has errors in it (the test looked at something)" grep -q "ERROR" "$GEOETL_PGDIR/server.log"
for s in "${secrets[@]}"; do
  check "the server log never shows ${s:0:8}..." not grep -q -- "$s" "$GEOETL_PGDIR/server.log"
done


# The retired settings, last (a reload writes a setting's new value to the server log, which is
# why credentials are no settings): the right token kept as a setting in postgresql.conf.
# geoetl preloaded (the cluster's default): PostgreSQL itself refuses the name under geoetl's
# reserved prefix at the reload (logging the name, not the value), geoetl warns about it in the
# server log when the server starts, and never sends it. Not preloaded: it is a placeholder any
# role can SHOW in a session without geoetl; loading geoetl warns, removes it from the session.
"$PGC" start >/dev/null
LOG=$(readlink -f "$GEOETL_PGDIR")/server.log
q "SELECT geoetl.set_secret('laads_token', NULL)" >/dev/null
echo "geoetl.laads_token = '$TOKEN'" >>"$(readlink -f "$GEOETL_PGDIR")/data/postgresql.conf"
q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
shown=$("$PGC" psql -XAtq -c "SHOW geoetl.laads_token" 2>&1)
check "preloaded: SHOW does not know a credential kept as a setting" grep -q 'unrecognized configuration parameter "geoetl.laads_token"' <<<"$shown"
check "preloaded: the reload refused it by name in the server log" grep -q 'invalid configuration parameter name "geoetl.laads_token"' "$LOG"
q "SELECT geoetl.enqueue('fetch_blackmarble', '{\"product\": \"VNP46A2\", \"date\": \"2024-02-05\", \"tile\": \"h21v08\"}', max_attempts => 1)" >/dev/null 2>&1
q "CALL geoetl.run_jobs()" >/dev/null 2>&1
check "a fetch never sends a token kept as a setting (401)" is \
  "SELECT count(*) FROM geoetl.job WHERE state = 'failed' AND args->>'date' = '2024-02-05' AND errors->0->>'message' LIKE 'LAADS DAAC answered 401%'" 1
"$PGC" stop >/dev/null && "$PGC" start >/dev/null
check "preloaded: geoetl warns about it in the server log when the server starts" \
  grep -q 'geoetl.laads_token is set as a setting, which every role can read: geoetl ignores it' "$LOG"
check "... and the server log never shows its value" not grep -q -- "$TOKEN" "$LOG"
q "ALTER SYSTEM SET shared_preload_libraries = pg_cron" >/dev/null
"$PGC" stop >/dev/null && "$PGC" start >/dev/null
warned=$("$PGC" psql -XAtq -c "LOAD 'geoetl'" -c "SHOW geoetl.laads_token" 2>&1)
check "not preloaded: loading geoetl warns about a credential kept as a setting" grep -q 'geoetl.laads_token is set as a setting, which every role can read: geoetl ignores it' <<<"$warned"
check "... and removes it: SHOW no longer knows it" grep -q 'unrecognized configuration parameter "geoetl.laads_token"' <<<"$warned"
check "... and its value is not printed" not grep -q -- "$TOKEN" <<<"$warned"
check "ALTER SYSTEM refuses the retired names" bash -c "'$PGC' psql -XAtq -c \"LOAD 'geoetl'\" -c \"ALTER SYSTEM SET geoetl.s3_secret_key = 'x'\" 2>&1 | grep -q 'unrecognized configuration parameter'"

finish
