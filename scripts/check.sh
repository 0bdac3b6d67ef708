#!/usr/bin/env bash
# `make check`: install dependencies, build, run every test suite against a throwaway cluster
# of its own (.pgdata-check/, so a running demo cluster is left alone), stop it, and end with
# one line "N passed, N failed". Exits non-zero on any failure.
#
# Suites: unit (GoogleTest via ctest), regress (pg_regress: sql/ + expected/),
#         pgtap (pg_prove: test/pgtap/*.sql), e2e (test/e2e/*.sh, each printing TAP).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export GEOETL_PGDIR=${GEOETL_CHECK_PGDIR:-$ROOT/.pgdata-check}
LOGS=$ROOT/build/test-logs
TAP_DB=geoetl_tap
total_passed=0
total_failed=0
summary=()

record() {  # suite passed failed
  total_passed=$((total_passed + $2)); total_failed=$((total_failed + $3))
  summary+=("$(printf '  %-8s %4d passed, %d failed' "$1" "$2" "$3")")
}
HTTP_PID=
STAC_PID=
S3_PID=
ESPI_PID=
stop_servers() {
  for pid in $HTTP_PID $STAC_PID $S3_PID $ESPI_PID; do kill "$pid" 2>/dev/null; done
  true
}
finish() {
  trap - EXIT
  stop_servers
  scripts/pgcluster.sh stop >/dev/null 2>&1 || true
  echo
  echo "== summary"
  printf '%s\n' "${summary[@]}"
  echo "$total_passed passed, $total_failed failed"
  [[ $total_failed -eq 0 ]]
  exit
}
step() { echo; echo "== $*"; }
count() { local n; n=$(grep -cE "$1" "$2" 2>/dev/null); echo "${n:-0}"; }  # matching lines

step "dependencies"
scripts/install-deps.sh || { record deps 0 1; finish; }

step "format (clang-format, .clang-format)"
mapfile -t cpp_files < <(scripts/cpp-files.sh)
echo "${#cpp_files[@]} files (scripts/cpp-files.sh: every .cpp and .h under src, test and bench)"
if clang-format --dry-run -Werror "${cpp_files[@]}"; then
  record format 1 0
else
  echo "run: scripts/cpp-files.sh | xargs clang-format -i"
  record format 0 1
fi

step "build"
make -j "$(nproc)" || { record build 0 1; finish; }
mkdir -p "$LOGS"

# s3rver (an S3-compatible server, from the npm registry, pinned by a lockfile): unit tests of the
# store start their own; the SQL tests share one started below.
(cd test/s3 && npm ci --no-audit --no-fund --silent >"$LOGS/npm.log" 2>&1) || { cat "$LOGS/npm.log"; record s3-server 0 1; finish; }
export GEOETL_S3RVER=$ROOT/test/s3/node_modules/.bin/s3rver

step "unit tests (ctest)"
cmake --build build -j "$(nproc)" >"$LOGS/unit-build.log" 2>&1 \
  || { cat "$LOGS/unit-build.log"; record unit 0 1; finish; }
(cd build && ctest --output-on-failure -j "$(nproc)") | tee "$LOGS/unit.log"
unit_line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$LOGS/unit.log" | tail -n1)
if [[ $unit_line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
  record unit $((BASH_REMATCH[2] - BASH_REMATCH[1])) "${BASH_REMATCH[1]}"
else
  record unit 0 1
fi

step "install"
make install >"$LOGS/install.log" 2>&1 || { cat "$LOGS/install.log"; record install 0 1; finish; }

step "throwaway cluster"
scripts/pgcluster.sh start || { record cluster 0 1; finish; }
trap 'stop_servers; scripts/pgcluster.sh stop' EXIT
eval "$(scripts/pgcluster.sh env)"

step "test data"
# Fixtures live in the cluster's folder, which the server's user can always read.
# (its real path: .pgdata-check may be a symlink to /var/tmp when postgres cannot enter the clone)
export GEOETL_FIXTURES=$(readlink -f "$GEOETL_PGDIR")/fixtures
rm -rf "$GEOETL_FIXTURES" && mkdir -p "$GEOETL_FIXTURES"
chmod 1777 "$GEOETL_FIXTURES"  # the server writes test files here too
build/geoetl_fixtures "$GEOETL_FIXTURES" || { record fixtures 0 1; finish; }
raster2pgsql -s 4326 -N -9999 "$GEOETL_FIXTURES/lights.tif" public.lights_pg >"$GEOETL_FIXTURES/lights_pg.sql" 2>/dev/null \
  || { record fixtures 0 1; finish; }
# Black Marble granules: two tiles, three days across the leap day, 60 pixels a side
mkdir -p "$GEOETL_FIXTURES/blackmarble" && chmod 1777 "$GEOETL_FIXTURES/blackmarble"
build/geoetl_blackmarble "$GEOETL_FIXTURES/blackmarble" VNP46A2 2 h21v08,h22v08 2024-02-28 3 60 1 \
  || { record fixtures 0 1; finish; }
# a whole month (February 2024, 29 nights) of two tiles, and one monthly file, for the metrics
mkdir -p "$GEOETL_FIXTURES/nightlights" && chmod 1777 "$GEOETL_FIXTURES/nightlights"
build/geoetl_blackmarble "$GEOETL_FIXTURES/nightlights" VNP46A2 2 h21v08,h22v08 2024-02-01 29 60 1 \
  && build/geoetl_blackmarble "$GEOETL_FIXTURES/nightlights" VNP46A3 2 h21v08,h22v08 2024-02-01 1 60 1 \
  || { record fixtures 0 1; finish; }
# the same February laid out as LAADS DAAC serves it (day listings), h22v08 missing on Feb 1
python3 test/fixtures/laads_layout.py "$GEOETL_FIXTURES/nightlights" "$GEOETL_FIXTURES/laads" 5200 h22v08 \
  || { record fixtures 0 1; finish; }
chmod -R a+rwX "$GEOETL_FIXTURES/laads"  # the SQL tests add broken files to it
mkdir -p "$GEOETL_FIXTURES/store/espi/raw" && chmod 1777 "$GEOETL_FIXTURES/store" "$GEOETL_FIXTURES/store/espi" "$GEOETL_FIXTURES/store/espi/raw"  # geoetl.store for the SQL tests
mkdir -p "$GEOETL_FIXTURES/readonly-store" && chmod 0555 "$GEOETL_FIXTURES/readonly-store"  # as a full disk
extra_regress=
SHARED=$(cd "$ROOT/.." && pwd)/shared
if [[ -f $SHARED/data/rasterstats/slope.tif ]]; then
  mkdir -p "$GEOETL_FIXTURES/rasterstats"
  cp "$SHARED"/data/rasterstats/*.tif "$GEOETL_FIXTURES/rasterstats/"
  for shp in polygons multipolygons; do
    shp2pgsql -s 0 "$SHARED/data/rasterstats/$shp.shp" "public.rs_$shp" \
      >"$GEOETL_FIXTURES/rasterstats/$shp.sql" 2>/dev/null || { record fixtures 0 1; finish; }
  done
  extra_regress="shared_rasterstats"
else
  echo "skipped: shared_rasterstats (../shared/data/rasterstats is absent)"
  summary+=("  skipped: shared_rasterstats (no ../shared)")
fi
# test/e2e/package.sh validates every datapackage.json against ../shared's Data Package profile
if [[ ! -f $SHARED/data/datapackage/datapackage.json ]]; then
  summary+=("  skipped: datapackage.json against the Data Package v2.0 profile in test/e2e/package.sh (no ../shared)")
fi

# A real HTTP server on 127.0.0.1 serving the fixtures, with range requests and faults.
rm -f "$GEOETL_FIXTURES/http.port"
python3 test/fixtures/http_server.py "$GEOETL_FIXTURES" "$GEOETL_FIXTURES/http.port" \
  "$GEOETL_FIXTURES/http_stats.json" &
HTTP_PID=$!
for _ in $(seq 50); do [[ -f $GEOETL_FIXTURES/http.port ]] && break; sleep 0.1; done
[[ -f $GEOETL_FIXTURES/http.port ]] || { record http-server 0 1; finish; }
export GEOETL_HTTP=http://127.0.0.1:$(cat "$GEOETL_FIXTURES/http.port")

# A STAC API on 127.0.0.1 (items shaped like EarthSearch's, paged with next links); every item's
# red, nir and scl assets are served from cloud-optimized copies of lights.tif.
for band in red nir scl; do
  gdal_translate -q -of COG -co COMPRESS=DEFLATE "$GEOETL_FIXTURES/lights.tif" "$GEOETL_FIXTURES/$band.tif" \
    || { record fixtures 0 1; finish; }
done
rm -f "$GEOETL_FIXTURES/stac.port"
python3 test/fixtures/stac_server.py "$GEOETL_FIXTURES/stac.port" "$GEOETL_FIXTURES" &
STAC_PID=$!
for _ in $(seq 50); do [[ -f $GEOETL_FIXTURES/stac.port ]] && break; sleep 0.1; done
[[ -f $GEOETL_FIXTURES/stac.port ]] || { record stac-server 0 1; finish; }
export GEOETL_STAC=http://127.0.0.1:$(cat "$GEOETL_FIXTURES/stac.port")

# A Green Button Connect (ESPI) API on 127.0.0.1 (test/fixtures/espi_server.py: tokens, the
# published-min/max filter, a clock the tests move, faults, a request log; its header says how):
#   .../espi/1_1/resource/Batch/Subscription/1/UsagePoint/N  the samples of ../shared/data/espi,
#       N = 1 hourlyForMonthMar, 2 hourlyForMonthNov, 3 15minLP_15Days,
#       4 1hrLP_32DaysFiveUsagePoints_M, 5 Gas, 6 Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012
#       (absent without ../shared: tests that need them skip);
#   .../Subscription/2/UsagePoint/ID  $GEOETL_FIXTURES/espi/ID.xml, files the tests write.
# Bearer tokens: $GEOETL_ESPI_TOKEN (valid), $GEOETL_ESPI_EXPIRED_TOKEN (401, expired). The
# server is shared: a test that moves its clock, arms faults or changes its mode resets it after
# (POST $GEOETL_ESPI/control/reset).
mkdir -p "$GEOETL_FIXTURES/espi" && chmod 1777 "$GEOETL_FIXTURES/espi"
export GEOETL_ESPI_TOKEN=espi-test-token GEOETL_ESPI_EXPIRED_TOKEN=espi-expired-token
export GEOETL_ESPI_LOG=$GEOETL_FIXTURES/espi_requests.jsonl
espi_feeds=()
if [[ -f $SHARED/data/espi/hourlyForMonthMar.xml ]]; then
  n=0
  for f in hourlyForMonthMar hourlyForMonthNov 15minLP_15Days 1hrLP_32DaysFiveUsagePoints_M Gas \
           Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012; do
    n=$((n + 1)); espi_feeds+=(--feed "1/$n=$SHARED/data/espi/$f.xml")
  done
else
  echo "ESPI test server: generated feeds only (../shared/data/espi is absent)"
fi
rm -f "$GEOETL_FIXTURES/espi.port"
python3 test/fixtures/espi_server.py "$GEOETL_FIXTURES/espi.port" --log "$GEOETL_ESPI_LOG" \
  --token "$GEOETL_ESPI_TOKEN" --expired-token "$GEOETL_ESPI_EXPIRED_TOKEN" \
  "${espi_feeds[@]}" --dir "2=$GEOETL_FIXTURES/espi" &
ESPI_PID=$!
for _ in $(seq 100); do [[ -f $GEOETL_FIXTURES/espi.port ]] && break; sleep 0.1; done
[[ -f $GEOETL_FIXTURES/espi.port ]] || { record espi-server 0 1; finish; }
export GEOETL_ESPI=http://127.0.0.1:$(cat "$GEOETL_FIXTURES/espi.port")

# An S3-compatible server on 127.0.0.1 (s3rver, from the npm registry, pinned by a lockfile).
S3_BUCKET=geoetl-test
S3_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$GEOETL_FIXTURES/s3"
node test/s3/node_modules/.bin/s3rver -d "$GEOETL_FIXTURES/s3" -a 127.0.0.1 -p "$S3_PORT" \
  --configure-bucket "$S3_BUCKET" --silent &
S3_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && break; sleep 0.1; done
AWS_S3_ENDPOINT=127.0.0.1:$S3_PORT AWS_HTTPS=NO AWS_VIRTUAL_HOSTING=FALSE \
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER CPL_VSIL_USE_TEMP_FILE_FOR_RANDOM_WRITE=YES \
  gdal_translate -q -co TILED=YES -co COMPRESS=DEFLATE "$GEOETL_FIXTURES/lights.tif" \
  "/vsis3/$S3_BUCKET/lights.tif" || { record s3-server 0 1; finish; }
export GEOETL_S3_ENDPOINT=127.0.0.1:$S3_PORT GEOETL_S3_BUCKET=$S3_BUCKET

step "SQL regression tests (pg_regress)"
rm -rf results regression.diffs regression.out
make installcheck EXTRA_REGRESS="$extra_regress" 2>&1 | tee "$LOGS/regress.log"
regress_rc=${PIPESTATUS[0]}
ok=$(count '^(ok|test) .* \.\.\. ok' "$LOGS/regress.log")
bad=$(count '\.\.\. FAILED|failed \(ignored\)' "$LOGS/regress.log")
[[ $regress_rc -ne 0 && $bad -eq 0 ]] && bad=1
[[ -f regression.diffs ]] && { echo "-- regression.diffs:"; head -n 200 regression.diffs; }
record regress "$ok" "$bad"

step "pgTAP tests (pg_prove)"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $TAP_DB" -c "CREATE DATABASE $TAP_DB" \
  && psql -X -q -d "$TAP_DB" -c "SET client_min_messages = warning" \
       -c "CREATE EXTENSION geoetl CASCADE" -c "CREATE EXTENSION pgtap" \
  && pg_prove -v -d "$TAP_DB" test/pgtap/*.sql 2>&1 | tee "$LOGS/pgtap.log"
tap_rc=$?
ok=$(count '^\s*ok [0-9]+' "$LOGS/pgtap.log")
bad=$(count '^\s*not ok [0-9]+' "$LOGS/pgtap.log")
[[ $tap_rc -ne 0 && $bad -eq 0 ]] && bad=1
record pgtap "$ok" "$bad"

step "end-to-end tests (test/e2e)"
ok=0; bad=0
for t in test/e2e/*.sh; do
  echo "-- $t"
  "$t" 2>&1 | tee "$LOGS/e2e-$(basename "$t" .sh).log"
  rc=${PIPESTATUS[0]}
  o=$(count '^ok [0-9]+' "$LOGS/e2e-$(basename "$t" .sh).log")
  b=$(count '^not ok [0-9]+' "$LOGS/e2e-$(basename "$t" .sh).log")
  [[ $rc -ne 0 && $b -eq 0 ]] && b=1
  ok=$((ok + o)); bad=$((bad + b))
done
record e2e "$ok" "$bad"

finish
