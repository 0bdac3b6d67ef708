#!/usr/bin/env bash
# `make demo` as a new user runs it, on a cluster of its own: the night-light job over a year of
# generated daily granules, run by pg_cron's worker through the job queue, run twice (the second
# run computes nothing), then again after a granule was damaged (only the months and areas that
# read it are recomputed, and the damaged file is reported); and the wind farm's window pipeline
# (ten days of 1-minute readings into 10-minute windows, a late correction); and a data package of
# one area from the demo raster and its villages table, published once and then left as it was;
# and the year's map tiles (rendered once, left alone the second time), looked at in the viewer
# page in Debian's Chromium (screenshots in build/viewer-demo-test/). Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-demo-test-$$
PGC=$ROOT/scripts/pgcluster.sh
LOG=$GEOETL_PGDIR.log
. "$ROOT/test/e2e/lib/tap.sh"
q() { "$PGC" psql -XAtc "$1"; }
is() { [[ $(q "$1") == "$2" ]] || { echo "  got: $(q "$1"), want: $2" >&2; return 1; }; }
is_json() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
demo() { "$ROOT/scripts/demo.sh" >"$LOG" 2>&1 || { tail -20 "$LOG" >&2; return 1; }; }
trap '"$PGC" destroy >/dev/null 2>&1; rm -f "$LOG"' EXIT

check "make demo runs to the end" demo
check "five sample areas" is "SELECT count(*) FROM geoetl.area" 5
check "a year of granules of four tiles registered" is \
  "SELECT count(*), count(DISTINCT (tile_h, tile_v)) FROM geoetl.raster WHERE product = 'VNP46A2'" "1464|4"
check "twelve months per area in nightlight_monthly" is \
  "SELECT string_agg(DISTINCT n::text, ',') FROM (SELECT count(*) AS n FROM geoetl.nightlight_monthly GROUP BY area_id) c" 12
check "every night of every month used" is \
  "SELECT count(*) FROM geoetl.nightlight_monthly WHERE days_with_data <> days_in_month" 0
check "every month has metrics and coverage" is \
  "SELECT count(*) FROM geoetl.nightlight_monthly WHERE sum_of_lights IS NULL OR NOT (coverage > 0 AND coverage <= 1)" 0
check "the area across the equator reads two tiles" is \
  "SELECT DISTINCT tiles_used FROM geoetl.nightlight_monthly JOIN geoetl.area USING (area_id) WHERE name = 'Busia corridor'" \
  "{h21v08,h21v09}"
check "electrification shows: every area's December is over twice as bright as its January" is \
  "SELECT count(*) FROM geoetl.nightlight_monthly j JOIN geoetl.nightlight_monthly d USING (area_id, product)
    WHERE j.month = '2024-01-01' AND d.month = '2024-12-01' AND NOT d.sum_of_lights > 2 * j.sum_of_lights" 0
check "pg_cron's worker ran the jobs (cron.job_run_details)" is \
  "SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'geoetl-worker' AND d.status = 'succeeded'" t
check "every night-light job of the demo completed, one per area and month" is \
  "SELECT count(*), count(DISTINCT (args->>'area_id', args->>'month')) FROM geoetl.job WHERE kind = 'nightlight_month' AND state = 'completed'" "60|60"
check "no job failed or is left running" is "SELECT count(*) FROM geoetl.job WHERE state NOT IN ('completed')" 0
check "the output shows progress month by month" test "$(grep -c '^night lights 2024-[01][0-9]: 5 area-months computed' "$LOG")" = 12
# the wind farm: three turbines, ten days of 1-minute readings, a one-hour outage of turbine 2
check "the wind farm pipeline wrote every complete window of ten days (turbine 2: 6 fewer)" is \
  "SELECT count(DISTINCT (\"timestamp\", turbine_id)), min(\"timestamp\"), max(\"timestamp\") FROM wind.data" \
  "4311|2025-01-01 00:00:00+00|2025-01-10 23:40:00+00"
check "its watermark stops one window short of the end (lateness 10 minutes)" is \
  "SELECT watermark, pending_late_windows FROM geoetl.window_pipeline_status WHERE name = 'wind_farm'" "2025-01-10 23:50:00+00|0"
check "the windows equal aggregate_window's" is \
  "SELECT count(*) FROM geoetl.aggregate_window('wind_reading', 'ts', '{wind_speed,power,ambient_temperature}', '10 minutes',
     '-infinity', '2025-01-10 23:50', group_by => 'turbine_id') a
   JOIN wind.signal s ON s.name = a.column_name || '_mean'
   LEFT JOIN wind.data d ON d.\"timestamp\" = a.window_start AND d.turbine_id = a.group_key::int AND d.signal_id = s.id
   WHERE d.value IS DISTINCT FROM a.mean AND NOT coalesce(abs(d.value - a.mean) <= 1e-12 * abs(a.mean), false)" 0
check "the output shows the first windows of turbine 1" grep -q '^ 2025-01-01 00:50:00+00 |' "$LOG"
check "the late correction re-opened one window" grep -q '^a late correction on 2025-01-03 12:34 (turbine 3): 1 late window, rewritten rows: [1-9]' "$LOG"
# the data package of Lake Kivu towns: the demo raster and the villages table clipped to it
PACKAGE=$(readlink -f "$GEOETL_PGDIR")/data/geoetl_store/packages/lake-kivu-towns
SCHEMA=$(cd "$ROOT/.." && pwd)/shared/data/datapackage/datapackage.json
latest_package="SELECT name, version, state, changed, resources_done FROM geoetl.package_status ORDER BY package_id DESC LIMIT 1"
check "a data package of Lake Kivu towns is published: 1.0.0, the raster and the villages" is "$latest_package" \
  "lake-kivu-towns|1.0.0|published|t|2"
check "... holding the area's two villages" is \
  "SELECT items FROM geoetl.package_resource WHERE source_name = 'villages' ORDER BY package_id DESC LIMIT 1" 2
check "the output shows the package's files and its datapackage.json" bash -c \
  "grep -q '^  villages/2024/villages-2024-lake-kivu-towns.gpkg  ([0-9]* bytes)' '$LOG' && grep -q '^    \"name\": \"lake-kivu-towns\",' '$LOG'"
check "its files have the bytes and hashes its datapackage.json says" /usr/bin/python3 "$ROOT/test/e2e/lib/datapackage.py" files "$PACKAGE"
if [[ -f $SCHEMA ]]; then
  check "its datapackage.json is valid against the Data Package v2.0 profile" \
    /usr/bin/python3 "$ROOT/test/e2e/lib/datapackage.py" schema "$SCHEMA" "$PACKAGE/datapackage.json"
else
  echo "# skipped (no ../shared): its datapackage.json is valid against the Data Package v2.0 profile"
fi

before=$(q "SELECT max(computed_at) FROM geoetl.nightlight_monthly")
check "make demo runs again" demo
check "the second run computes no month" test "$(grep -c '^night lights 2024-[01][0-9]: 0 area-months computed' "$LOG")" = 12
check "the second run changes no row" is "SELECT count(*) FROM geoetl.nightlight_monthly WHERE computed_at > '$before'" 0
check "the second run writes no wind farm row" grep -q '^run_window_pipeline wrote 0 rows' "$LOG"
check "... and the repeated correction changes nothing" grep -q '^a late correction on 2025-01-03 12:34 (turbine 3): 1 late window, rewritten rows: 0' "$LOG"
check "... and the package is published again unchanged (1.0.0, nothing written)" is "$latest_package" \
  "lake-kivu-towns|1.0.0|published|f|2"

# the map: the year's tiles, and the viewer page on them in a real browser
check "twelve months of map tiles rendered from 48 composites" is \
  "SELECT (SELECT count(*) FROM geoetl.tile_render WHERE format = 'xyz' AND area_id IS NULL), (SELECT count(*) FROM geoetl.composite)" "12|48"
check "the second run renders nothing (every month skipped)" test \
  "$(grep -c '^map 2024-[01][0-9]: 0 composites saved, 0 tiles written, .*(nothing changed since the last render)$' "$LOG")" = 12
check "December also as a PMTiles archive" is \
  "SELECT (geoetl._render_month('{\"month\": \"2024-12-01\", \"format\": \"pmtiles\"}')->>'written')::int > 0" t
STORE=$(readlink -f "$GEOETL_PGDIR")/data/geoetl_store
SHOTS=$ROOT/build/viewer-demo-test
rm -rf "$SHOTS" && mkdir -p "$SHOTS"
check "scripts/viewer.sh exports the page's data" bash -c "'$ROOT/scripts/viewer.sh' --no-serve > '$SHOTS/viewer.log' 2>&1"
check "... twelve months, December from its PMTiles archive" is_json "$ROOT/build/viewer/data/viewer.json" \
  "len(d['months']) == 12 and d['months'][11]['format'] == 'pmtiles' and d['months'][0]['format'] == 'xyz'"
# (viewer.sh's build installed the pmtiles package)
check_tap "December's archive read back by the pmtiles package: " \
  node "$ROOT/test/e2e/lib/pmtiles_readback.mjs" "$STORE/tiles/VNP46A2/2024-12.pmtiles" "$STORE/tiles/VNP46A2/2024-12"
# the brightest pixel of December's composite of h21v08 within the view (a town), and the
# village that got electricity in February (Kakuma's)
/usr/bin/python3 - "$STORE/composites/VNP46A2/2024-12/VNP46A2.2024-12.h21v08.tif" >"$SHOTS/checks.json" <<'PY'
import json, sys
import numpy as np
from osgeo import gdal
ds = gdal.Open(sys.argv[1])
a = ds.GetRasterBand(1).ReadAsArray()
x0, dx, _, y0, _, dy = ds.GetGeoTransform()
lon = x0 + (np.arange(a.shape[1]) + 0.5) * dx
lat = y0 + (np.arange(a.shape[0]) + 0.5) * dy
inside = np.outer((lat > 1.5) & (lat < 8.5), (lon > 30.5) & (lon < 39.5))
r, c = np.unravel_index(np.nanargmax(np.where(inside, a, -1)), a.shape)
json.dump({'lit': [[round(float(lon[c]), 4), round(float(lat[r]), 4)]],
           'dark': [[40.4, 5.0], [29.6, 5.0]], 'changed': [[34.86, 3.73]],
           'from_month': '2024-01', 'to_month': '2024-12', 'also_months': ['2024-06'],
           'click_area': 1, 'zoom': 7, 'center': [35.0, 5.0]}, sys.stdout)
PY
node "$ROOT/viewer/serve.mjs" --root "$ROOT/build/viewer" --store "$STORE" --port 0 >"$SHOTS/serve.out" 2>&1 &
SERVER=$!
for _ in $(seq 100); do URL=$(sed -n 's/^viewer: //p' "$SHOTS/serve.out"); [[ -n $URL ]] && break; sleep 0.1; done
check_tap "viewer page on the demo's data: " node "$ROOT/test/e2e/lib/viewer_check.mjs" "$URL" "$SHOTS" "$SHOTS/checks.json"
kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null

# a download cut short: one day of tile h21v08 (Kakuma, and the north of the Busia corridor)
DATA=$(readlink -f "$GEOETL_PGDIR")/demo/blackmarble
f=$(ls "$DATA"/VNP46A2.A2024075.h21v08.*.h5)
truncate -s 1000 "$f"
check "make demo runs after a granule was damaged" demo
check "only March of the two areas on that tile is recomputed" test \
  "$(grep '^night lights' "$LOG" | grep -v ': 0 area-months' | tr -s ' ' | cut -d' ' -f3,4 | tr '\n' ' ')" = "2024-03: 2 "
check "the damaged granule is in raster_invalid, not raster" is \
  "SELECT (SELECT count(*) FROM geoetl.raster_invalid WHERE uri = '$f'), (SELECT count(*) FROM geoetl.raster WHERE uri = '$f')" "1|0"
check "Kakuma's March has one night less and names the file" is \
  "SELECT days_with_data, files_invalid[1] LIKE '%A2024075.h21v08%' FROM geoetl.nightlight_monthly JOIN geoetl.area USING (area_id)
    WHERE name = 'Kakuma' AND month = '2024-03-01'" "30|t"
check "the area on two tiles still has every night of March from the other tile" is \
  "SELECT days_with_data, array_length(files_invalid, 1) FROM geoetl.nightlight_monthly JOIN geoetl.area USING (area_id)
    WHERE name = 'Busia corridor' AND month = '2024-03-01'" "31|1"

check "no backend crashed, and HDF5 files were closed before backends exited (no H5Tclose errors)" \
  test "$(grep -c -e 'terminated by signal' -e 'H5Tclose' "$GEOETL_PGDIR/server.log")" = 0

finish
