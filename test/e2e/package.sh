#!/usr/bin/env bash
# Data packages end to end, on a cluster of its own, as the roles the README names: an admin
# registers three sources (a GeoTIFF, a GeoJSON file written here, a pg: table), a writer creates
# a package of an area, two concurrent workers build it, a reader follows geoetl.package_status.
# Every datapackage.json is validated against the Data Package v2.0 profile of
# ../shared/data/datapackage (skipped, and said so, without ../shared) and every resource's path,
# bytes and hash are checked against the files. An unchanged rebuild writes nothing; a changed
# area gives 1.1.0 while a reader polls the folder (the publisher is held between putting the
# files in place and writing the descriptor) and never sees a descriptor naming a missing or
# different file; a read-only store fails the next build with a clear error and leaves 1.1.0
# intact, retry_job completes it; last, a package built into an S3 store (s3rver on
# 127.0.0.1), its descriptor fetched from there. Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-package-test-$$
PGC=$ROOT/scripts/pgcluster.sh
WORK=$GEOETL_PGDIR.work
OUT=$WORK/out/run
DATA=$WORK/data
STORE=$WORK/store
PY=/usr/bin/python3  # Debian's, with python3-jsonschema (another python3 may come first in PATH)
DP=$ROOT/test/e2e/lib/datapackage.py
SCHEMA=$(cd "$ROOT/.." && pwd)/shared/data/datapackage/datapackage.json
. "$ROOT/test/e2e/lib/tap.sh"
exec 3>&2  # what went wrong, past check's silence
cleanup() {
  kill $(jobs -p) 2>/dev/null
  chmod -R u+w "$WORK" 2>/dev/null
  [[ -n ${KEEP:-} ]] && return
  "$PGC" destroy >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
q() { "$PGC" psql -XAtqc "$1"; }
as() { "$PGC" psql -XAtq -v ON_ERROR_STOP=1 -U "pkg_$1" -c "$2"; }  # role (admin, writer, reader), statement
is() { local got; got=$(q "$1"); [[ $got == "$2" ]] || { echo "  got: $got, want: $2" >&3; return 1; }; }
is_as() { local got; got=$(as "$1" "$2" 2>&1); [[ $got == "$3" ]] || { echo "  got: $got, want: $3" >&3; return 1; }; }
same() { [[ $1 == "$2" ]] || { echo "  got: $1, want: $2" >&3; return 1; }; }
refused() { local out; out=$(as "$1" "$2" 2>&1); [[ $out == *"permission denied"* ]] || { echo "  got: $out" >&3; return 1; }; }
until_true() {  # seconds, query: polls until the query returns t
  local i
  for ((i = 0; i < $1 * 10; i++)); do [[ $(q "$2") == t ]] && return 0; sleep 0.1; done
  return 1
}
# Two workers, as pg_cron's would be: one as the admin (a member of the writer, as the README asks
# of a worker's role), one as the superuser; each a CALL geoetl.run_jobs() of its own.
start_workers() {
  "$PGC" psql -XAtq -U pkg_admin -c "CALL geoetl.run_jobs(max_seconds => 120)" >"$OUT.w1" 2>&1 &
  W1=$!
  "$PGC" psql -XAtq -c "CALL geoetl.run_jobs(max_seconds => 120)" >"$OUT.w2" 2>&1 &
  W2=$!
}
wait_workers() { wait "$W1" "$W2"; [[ -z $(cat "$OUT.w1" "$OUT.w2") ]] || { cat "$OUT.w1" "$OUT.w2" >&3; return 1; }; }
workers() { start_workers; wait_workers; }
jobs_of() {  # package_id kind: "state:attempts,..." sorted
  q "SELECT string_agg(state || ':' || attempt, ',' ORDER BY state || ':' || attempt) FROM geoetl.job WHERE kind = '$2' AND args->>'package_id' = '$1'"
}
status() { as reader "SELECT state, version, resources, resources_done, resources_failed, changed FROM geoetl.package_status WHERE package_id = $1"; }
check_schema() {  # description, descriptor: valid against the profile, or said to be skipped
  if [[ -f $SCHEMA ]]; then check "$1" schema_valid "$2"; else echo "# skipped (no ../shared): $1"; fi
}
schema_valid() { "$PY" "$DP" schema "$SCHEMA" "$1" >&3; }
files_match() { "$PY" "$DP" files "$1" >&3; }  # a folder or URL: paths, bytes and hashes

same_json() { "$PY" -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.loads(sys.argv[2]))' "$1" "$2"; }
# every file of the package folder: path, size, modification time, SHA-256
snapshot() { (cd "$1" && find . -type f -printf '%P %s %T@ ' -exec sha256sum {} \; | sort); }
unchanged_since() { cmp -s <(snapshot "$PKG") "$1"; }  # an earlier snapshot of the package folder
field() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }  # file key
names_in() { ogr2ogr -f CSV /vsistdout/ "$1" -sql "SELECT name FROM \"$2\" ORDER BY name" 2>/dev/null | tail -n +2 | tr '\n' ' '; }  # file layer
staged_files() { find "$PKG/_staging" -type f 2>/dev/null | wc -l; }
geojson() { echo "{\"type\": \"Polygon\", \"coordinates\": [[$1]]}"; }

mkdir -p "$DATA" "$STORE" "$WORK/out"
if [[ -f $SCHEMA ]]; then
  "$PY" -c 'import jsonschema' 2>/dev/null || { echo "not ok 1 - Debian's python3-jsonschema is installed (scripts/install-deps.sh)"; exit 1; }
else
  echo "# skipped: validating datapackage.json against the Data Package v2.0 profile ($SCHEMA is absent: no ../shared); the other checks run"
fi

# the sources: lights.tif (the checks' fixture; built here when run alone), villages written here
# as GeoJSON, and a table of roads
if [[ -f ${GEOETL_FIXTURES:-}/lights.tif ]]; then
  cp "$GEOETL_FIXTURES/lights.tif" "$DATA/"
else
  mkdir -p "$WORK/fixtures" && "$ROOT/build/geoetl_fixtures" "$WORK/fixtures" >/dev/null && cp "$WORK/fixtures/lights.tif" "$DATA/" \
    || { echo "not ok 1 - the lights.tif fixture is built (build/geoetl_fixtures)"; exit 1; }
fi
cat >"$DATA/villages.geojson" <<'JSON'
{"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "Alpha", "population": 1200}, "geometry": {"type": "Point", "coordinates": [30.2, 1.2]}},
  {"type": "Feature", "properties": {"name": "Beta", "population": 750}, "geometry": {"type": "Point", "coordinates": [30.6, 1.5]}},
  {"type": "Feature", "properties": {"name": "Delta", "population": 310}, "geometry": {"type": "Point", "coordinates": [30.9, 1.75]}},
  {"type": "Feature", "properties": {"name": "Epsilon", "population": 95}, "geometry": {"type": "Point", "coordinates": [31.1, 0.95]}},
  {"type": "Feature", "properties": {"name": "Gamma", "population": 40}, "geometry": {"type": "Point", "coordinates": [32.5, 0.5]}}]}
JSON
chmod -R a+rX "$WORK"
chown postgres "$STORE" 2>/dev/null || chmod 1777 "$STORE"  # the server writes the store

"$PGC" start >/dev/null || { echo "not ok 1 - cluster starts"; exit 1; }
{ echo "LOAD 'geoetl';"; cat <<SQL; } | "$PGC" psql -XAtq -v ON_ERROR_STOP=1 >/dev/null || { echo "not ok 1 - the cluster is set up"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION geoetl CASCADE;
ALTER SYSTEM SET geoetl.store = '$STORE';
ALTER SYSTEM SET geoetl.allowed_sources = '$DATA/';
SELECT pg_reload_conf();
CREATE ROLE pkg_admin LOGIN IN ROLE geoetl_admin;
CREATE ROLE pkg_writer LOGIN IN ROLE geoetl_writer;
CREATE ROLE pkg_reader LOGIN IN ROLE geoetl_reader;
GRANT pkg_writer TO pkg_admin;  -- the admin's worker runs the writer's jobs
CREATE TABLE public.roads (road_id int PRIMARY KEY, name text NOT NULL, geom geometry(LineString, 4326) NOT NULL);
INSERT INTO public.roads VALUES (1, 'A1', 'SRID=4326;LINESTRING(30.1 1.1, 31.5 1.9)'),
                                (2, 'B2', 'SRID=4326;LINESTRING(31.5 0.2, 32.8 1.9)'),
                                (3, 'C3', 'SRID=4326;LINESTRING(30.3 1.2, 30.4 1.6)');
GRANT SELECT ON public.roads TO pkg_admin, pkg_writer;
SQL
until_true 10 "SELECT current_setting('geoetl.store', true) = '$STORE'" || { echo "not ok 1 - the store setting is loaded"; exit 1; }

# the roles: an admin registers, a writer creates, a reader reads
check "an admin registers a raster, a vector file and a table as sources" as admin "
  SELECT geoetl.add_source('lights', 'v1', '$DATA/lights.tif',
    '{\"title\": \"Night lights\", \"licenses\": [{\"name\": \"CC-BY-4.0\"}], \"sources\": [{\"title\": \"geoetl test fixture\"}]}');
  SELECT geoetl.add_source('villages', '2024', '$DATA/villages.geojson', '{\"title\": \"Villages\", \"licenses\": [{\"name\": \"ODbL-1.0\"}]}');
  SELECT geoetl.add_source('roads', '2024', 'pg:public.roads', '{\"title\": \"Roads\"}')"
check "... which are a raster, a vector and a table" is \
  "SELECT string_agg(name || '@' || version || ':' || kind, ',' ORDER BY name) FROM geoetl.source" \
  "lights@v1:raster,roads@2024:table,villages@2024:vector"
check "a writer may not register sources" refused writer "SELECT geoetl.add_source('x', '1', 'pg:public.roads')"
V1=$(geojson "[30.05, 1.05], [30.8, 1.05], [30.8, 1.45], [30.5, 1.7], [30.05, 1.7], [30.05, 1.05]")
AREA=$(as writer "SELECT geoetl.add_area('Lake Shore', '$V1')")
PKG=$STORE/packages/lake-shore
OPTIONS='{"description": "Everything geoetl knows about the lake shore", "keywords": ["e2e"]}'
create() { as writer "SELECT geoetl.create_package($AREA, NULL, '$OPTIONS')"; }
check "a reader may not create packages" refused reader "SELECT geoetl.create_package(${AREA:-0})"

# 1.0.0, built by two workers
P1=$(create)
check "a writer creates a package of the area" test -n "$P1"
check "the reader sees it running, 3 resources, none done" is_as reader \
  "SELECT state, resources, resources_done FROM geoetl.package_status WHERE package_id = ${P1:-0}" "running|3|0"
check "two concurrent workers (an admin, a superuser) build it without error" workers
check "each of its 3 package_resource jobs ran once and completed" same "$(jobs_of "$P1" package_resource)" \
  "completed:1,completed:1,completed:1"
check "... then its package_publish job" same "$(jobs_of "$P1" package_publish)" "completed:1"
check "... all enqueued by the writer, so run as the writer" is \
  "SELECT string_agg(DISTINCT enqueued_by::text, ',') FROM geoetl.job WHERE args->>'package_id' = '$P1'" pkg_writer
check "the reader sees it published: 1.0.0, 3 of 3 resources, written" same "$(status "$P1")" "published|1.0.0|3|3|0|t"
check "... at packages/lake-shore/datapackage.json in the store" is \
  "SELECT uri FROM geoetl.package WHERE package_id = $P1" "$PKG/datapackage.json"
check "the folder holds the descriptor and one file per source, as <source>/<version>/<source>-<version>-<area>.<ext>" \
  same "$(cd "$PKG" && find . -type f | sort | tr '\n' ' ')" \
  "./datapackage.json ./lights/v1/lights-v1-lake-shore.tif ./roads/2024/roads-2024-lake-shore.gpkg ./villages/2024/villages-2024-lake-shore.gpkg "
check_schema "datapackage.json is valid against the Data Package v2.0 profile" "$PKG/datapackage.json"
check "every resource's path exists and its bytes and sha256 hash match the file" files_match "$PKG"
check "the descriptor in the store is the one geoetl.package holds" same_json "$PKG/datapackage.json" \
  "$(q "SELECT descriptor FROM geoetl.package WHERE package_id = $P1")"
check "the raster is a cloud-optimized GeoTIFF" bash -c "gdalinfo '$PKG/lights/v1/lights-v1-lake-shore.tif' | grep -q 'LAYOUT=COG'"
check "the villages file holds the two villages inside the area" same \
  "$(names_in "$PKG/villages/2024/villages-2024-lake-shore.gpkg" villages)" "Alpha Beta "
check "the roads file holds the two roads that cross it" is \
  "SELECT items FROM geoetl.package_resource WHERE package_id = $P1 AND source_name = 'roads'" 2
check "... in a layer named after the table" same \
  "$(ogrinfo -ro -q "$PKG/roads/2024/roads-2024-lake-shore.gpkg" 2>/dev/null)" "1: roads (Line String)"

# an unchanged rebuild writes nothing, though the table was reloaded: the same rows, stored in
# another order
snapshot "$PKG" >"$OUT.before"
sleep 1  # a rewritten file would have another modification time
q "BEGIN; CREATE TEMP TABLE r AS SELECT * FROM public.roads; TRUNCATE public.roads;
   INSERT INTO public.roads SELECT * FROM r ORDER BY road_id DESC; COMMIT" >/dev/null
P2=$(create)
check "create_package again, nothing changed (the roads reloaded, same rows): a new build" test -n "$P2" -a "$P2" != "$P1"
check "... built by two workers without error" workers
check "... the reader sees it published, unchanged: still 1.0.0" same "$(status "$P2")" "published|1.0.0|3|3|0|f"
check "... every resource reused the published file" is "SELECT bool_and(reused) FROM geoetl.package_resource WHERE package_id = $P2" t
check "... every file (descriptor too) has the same size, modification time and hash" unchanged_since "$OUT.before"

# the area changes: 1.1.0, while a reader polls the folder
V2=$(geojson "[30.05, 1.05], [31.0, 1.05], [31.0, 1.8], [30.05, 1.8], [30.05, 1.05]")
as writer "SELECT geoetl.update_area($AREA, '$V2')" >/dev/null
P3=$(create)
# A session of the superuser holds the publisher where a reader could be hurt: after it took the
# old descriptor away and put the new files in place, before it writes the new descriptor (at
# its UPDATE of the package's resource rows). It takes the lock that orders a package's
# publishers, waits for the publisher to queue behind it, locks the resource rows, lets the
# publisher go and, once the publisher waits for those rows, keeps it waiting 3 seconds.
PGAPPNAME=package-e2e-hold "$PGC" psql -XAtq -v ON_ERROR_STOP=1 >"$OUT.hold" 2>&1 <<SQL &
BEGIN;
SELECT pg_advisory_lock(hashtextextended('geoetl.package:lake-shore', 0));
DO \$\$ BEGIN
  FOR i IN 1 .. 600 LOOP
    EXIT WHEN EXISTS (SELECT FROM pg_locks w JOIN pg_locks h USING (locktype, database, classid, objid, objsubid)
                       WHERE w.locktype = 'advisory' AND NOT w.granted AND h.granted AND h.pid = pg_backend_pid());
    PERFORM pg_sleep(0.1);
  END LOOP;
END \$\$;
SELECT count(*) FROM (SELECT FROM geoetl.package_resource WHERE package_id = $P3 FOR UPDATE) r;
SELECT pg_advisory_unlock(hashtextextended('geoetl.package:lake-shore', 0));
DO \$\$ BEGIN
  FOR i IN 1 .. 300 LOOP
    EXIT WHEN EXISTS (SELECT FROM pg_locks w JOIN pg_locks h ON h.locktype = 'transactionid' AND h.transactionid = w.transactionid
                       WHERE w.locktype = 'transactionid' AND NOT w.granted AND h.pid = pg_backend_pid());
    PERFORM pg_sleep(0.1);
  END LOOP;
END \$\$;
SELECT pg_sleep(3);
COMMIT;
SQL
HOLD=$!
until_true 30 "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE a.application_name = 'package-e2e-hold' AND l.locktype = 'advisory' AND l.granted)" \
  || echo "  the holding session did not take its lock" >&3
# the reader: a shell loop, each look a new process reading the folder as a downloader would
rm -f "$OUT.stop"
(while [[ ! -e $OUT.stop ]]; do "$PY" "$DP" poll "$PKG"; done) >"$OUT.polls" 2>&1 &
READER=$!
for _ in $(seq 100); do [[ -s $OUT.polls ]] && break; sleep 0.1; done  # it saw 1.0.0 at least once
start_workers
held() {  # the publishing job's backend waits for the holding session's transaction
  until_true 60 "SELECT EXISTS (SELECT FROM pg_locks w JOIN pg_locks h ON h.locktype = 'transactionid' AND h.transactionid = w.transactionid
                  JOIN pg_stat_activity a ON a.pid = h.pid
                 WHERE w.locktype = 'transactionid' AND NOT w.granted AND a.application_name = 'package-e2e-hold'
                   AND w.pid = (SELECT worker FROM geoetl.job WHERE kind = 'package_publish' AND args->>'package_id' = '$P3'))"
}
new_bytes_in_place() {  # every file at its key is already the new one: the package's row says so
  local src key sha
  while IFS='|' read -r src key sha; do
    [[ $(sha256sum "$STORE/$key" | cut -d' ' -f1) == "$sha" ]] || { echo "  $src: not the new file yet" >&3; return 1; }
  done < <(q "SELECT source_name, key, sha256 FROM geoetl.package_resource WHERE package_id = $P3")
}
check "while 1.1.0 is published, the publisher is held between putting files in place and writing the descriptor" held
check "... at that moment the files in place are already the new ones" new_bytes_in_place
check "... and there is no datapackage.json (the old one was taken away before its files were replaced)" test ! -e "$PKG/datapackage.json"
check "... two workers build 1.1.0 without error" wait_workers
wait "$HOLD"
for _ in $(seq 100); do grep -q '^ok 1.1.0$' "$OUT.polls" && break; sleep 0.1; done  # one look at 1.1.0
touch "$OUT.stop"
wait "$READER"
polls=$(wc -l <"$OUT.polls")
violations=$(grep -c '^violation' "$OUT.polls")
echo "# reader: $polls polls: $(grep -c '^ok 1.0.0$' "$OUT.polls") saw 1.0.0, $(grep -c '^absent$' "$OUT.polls") no descriptor," \
  "$(grep -c '^ok 1.1.0$' "$OUT.polls") saw 1.1.0, $(grep -c '^torn$' "$OUT.polls") read across a change (inconclusive), $violations violations"
check "the reader polled the folder all along ($polls polls)" test "$polls" -ge 10
check "... and never saw a datapackage.json naming a missing file or one of other size or hash" test "$violations" = 0
check "... it saw 1.0.0, then no descriptor, then 1.1.0" same \
  "$(grep -v '^torn$' "$OUT.polls" | uniq | tr '\n' ',')" "ok 1.0.0,absent,ok 1.1.0,"
grep -m 1 '^violation' "$OUT.polls" | cut -c1-400 >&3
check "the reader sees 1.1.0 published, changed" same "$(status "$P3")" "published|1.1.0|3|3|0|t"
check "every resource was clipped again (the area changed)" is \
  "SELECT count(*) FILTER (WHERE NOT reused) FROM geoetl.package_resource WHERE package_id = $P3" 3
check_schema "1.1.0's datapackage.json is valid against the profile" "$PKG/datapackage.json"
check "... its paths, bytes and hashes match the files" files_match "$PKG"
check "... it keeps the package's id (UUID) and names the new version" same \
  "$(field "$PKG/datapackage.json" id) $(field "$PKG/datapackage.json" version)" "$(q "SELECT descriptor->>'id' FROM geoetl.package WHERE package_id = $P1") 1.1.0"
check "... and the villages file now holds the three villages inside the larger area" same \
  "$(names_in "$PKG/villages/2024/villages-2024-lake-shore.gpkg" villages)" "Alpha Beta Delta "
check "nothing is left staged" same "$(staged_files)" 0
cp "$PKG/datapackage.json" "$OUT.v110.json"

# a fault: the store read-only while the resource jobs run
V3=$(geojson "[30.05, 0.9], [31.2, 0.9], [31.2, 1.8], [30.05, 1.8], [30.05, 0.9]")
as writer "SELECT geoetl.update_area($AREA, '$V3')" >/dev/null
P4=$(create)
q "CALL geoetl.run_jobs(max_jobs => 1)" >/dev/null 2>&1  # one resource clipped and staged
check "one resource of the next build is clipped and staged" same "$(staged_files)" 1
snapshot "$PKG" >"$OUT.before"
chmod -R a-w "$STORE"
workers
# the queue waits 30 s, then 60 s, before a failed job's next attempt: the test does not
for _ in 2 3; do
  q "UPDATE geoetl.job SET run_after = now() WHERE state = 'pending' AND args->>'package_id' = '$P4'" >/dev/null
  workers
done
check "with the store read-only, the two other resource jobs failed after their 3 attempts" \
  same "$(jobs_of "$P4" package_resource)" "completed:1,failed:3,failed:3"
check "... each with SQLSTATE 58030" is "SELECT string_agg(DISTINCT errors->-1->>'sqlstate', ',') FROM geoetl.job
   WHERE kind = 'package_resource' AND args->>'package_id' = '$P4' AND state = 'failed'" 58030
check "the reader sees the package failed: 1 of 3 resources done, 2 failed, nothing published" \
  same "$(status "$P4")" "failed||3|1|2|"
check "... with a last_error that names the file the store could not take" is_as reader \
  "SELECT last_error ~ '^cannot (create|write the clip of .* to) $STORE/\.staging/packages_lake-shore__staging_${P4}_' FROM geoetl.package_status WHERE package_id = $P4" t
check "the published folder did not change (1.1.0)" unchanged_since "$OUT.before"
check_schema "... and 1.1.0 is still valid against the profile" "$PKG/datapackage.json"
check "... its paths, bytes and hashes still match the files" files_match "$PKG"
check "... and it is the descriptor 1.1.0 published" cmp -s "$PKG/datapackage.json" "$OUT.v110.json"
check "no unfinished file is left in the store" test -z "$(find "$STORE" -type f \( -name '*.part-*' -o -path '*/.staging/*' \))"
chmod -R u+w "$STORE"
check "with the store writable again, the writer retries the failed jobs" as writer \
  "SELECT geoetl.retry_job(job_id) FROM geoetl.job WHERE kind = 'package_resource' AND args->>'package_id' = '$P4' AND state = 'failed'"
check "... two workers complete them without error" workers
check "... and the package is published: 1.2.0" same "$(status "$P4")" "published|1.2.0|3|3|0|t"
check_schema "1.2.0's datapackage.json is valid against the profile" "$PKG/datapackage.json"
check "... its paths, bytes and hashes match the files" files_match "$PKG"
check "... the villages file holds the four villages of the area" same \
  "$(names_in "$PKG/villages/2024/villages-2024-lake-shore.gpkg" villages)" "Alpha Beta Delta Epsilon "
check "... and nothing is left staged" same "$(staged_files)" 0

# the same build into an S3 store
S3RVER=${GEOETL_S3RVER:-$ROOT/test/s3/node_modules/.bin/s3rver}
if [[ ! -x $S3RVER ]]; then
  echo "# skipped: the S3 store (no s3rver; make check installs it)"
  finish
fi
S3_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/s3"
node "$S3RVER" -d "$WORK/s3" -a 127.0.0.1 -p "$S3_PORT" --configure-bucket geoetl-pkg --silent >/dev/null 2>&1 &
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && break; sleep 0.1; done
{ echo "LOAD 'geoetl';"; cat <<SQL; } | "$PGC" psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
ALTER SYSTEM SET geoetl.store = 's3://geoetl-pkg/store';
ALTER SYSTEM SET geoetl.s3_endpoint = '127.0.0.1:$S3_PORT';
ALTER SYSTEM SET geoetl.s3_https = off;
SELECT pg_reload_conf();
SELECT geoetl.set_secret('s3_access_key', 'S3RVER');
SELECT geoetl.set_secret('s3_secret_key', 'S3RVER');
SQL
until_true 10 "SELECT current_setting('geoetl.store', true) = 's3://geoetl-pkg/store'"
HILL=$(as writer "SELECT geoetl.add_area('Hill Town', '$(geojson "[31.4, 0.2], [32.6, 0.2], [32.6, 1.0], [31.4, 1.0], [31.4, 0.2]")')")
P5=$(as writer "SELECT geoetl.create_package(${HILL:-0})")
check "a package of another area, into the S3 store, built by two workers without error" workers
check "... published as 1.0.0" same "$(status "${P5:-0}")" "published|1.0.0|3|3|0|t"
check "... at packages/hill-town/datapackage.json in the bucket" is \
  "SELECT uri FROM geoetl.package WHERE package_id = ${P5:-0}" "s3://geoetl-pkg/store/packages/hill-town/datapackage.json"
check "the store lists the descriptor and its 3 files" is \
  "SELECT string_agg(key, ' ' ORDER BY key) FROM geoetl.store_list('packages/hill-town/')" \
  "packages/hill-town/datapackage.json packages/hill-town/lights/v1/lights-v1-hill-town.tif packages/hill-town/roads/2024/roads-2024-hill-town.gpkg packages/hill-town/villages/2024/villages-2024-hill-town.gpkg"
S3_PKG=http://127.0.0.1:$S3_PORT/geoetl-pkg/store/packages/hill-town
"$PY" -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1]).read())' \
  "$S3_PKG/datapackage.json" "$OUT.s3.json" 2>/dev/null
check_schema "the descriptor fetched from S3 is valid against the profile" "$OUT.s3.json"
check "... and its paths, bytes and hashes match the objects fetched from S3" files_match "$S3_PKG"
check "nothing of it went to the local folder" test ! -e "$STORE/packages/hill-town"

finish
