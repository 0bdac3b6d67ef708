#!/usr/bin/env bash
# A data package for each of 1,000 village-sized areas, built end to end in PostgreSQL, against
# gdalwarp run once per area, measured in one run on one cluster.
#
#   bench/packages.sh [AREAS=1000]   (as root on Debian bookworm, like make check)
#
# Raster: the 4800x4800 Float32 DEFLATE raster (geoetl_fixtures --bench), registered by an admin
# with geoetl.add_source. Areas: the first AREAS villages of bench/lib/polygons.sql, added to
# geoetl.area with geoetl.add_area by a writer.
# geoetl: the writer calls geoetl.create_package(area, '{lights@v1}') once per area (one
# transaction each), then CALL geoetl.run_jobs(max_jobs => 100000, max_seconds => 3600) in 2
# sessions at once (then, from scratch, in 1) until every package is published: the time from the
# first create_package to the return of the last worker, after which every package must be
# published (geoetl.package_status). Then every package again with nothing changed (its file
# reused, nothing written): what a package costs besides the clip.
# gdalwarp: the command people run today, once per area over the same areas (each written to a
# GeoJSON file first, not timed), one after the other and 2 at a time (xargs -P 2):
#   gdalwarp -cutline AREA.geojson -crop_to_cutline -of COG -co COMPRESS=DEFLATE RASTER OUT.tif
# Check: every package's COG against gdalwarp's file of the same area, cell by cell in the
# raster's grid (read with PostGIS raster): cells valid in both and their values, cells valid in
# one only (both apply the centre rule: a cell is in when its centre is inside the area).
# Prints the figures and ratios; timings never fail the script.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
AREAS=${1:-1000}
((AREAS >= 1 && AREAS <= 1000)) || { echo "AREAS must be 1..1000 (the villages of bench/lib/polygons.sql)" >&2; exit 2; }
. bench/lib/setup.sh
bench_build geoetl_fixtures
bench_cluster
DATA=$(readlink -f "$GEOETL_PGDIR")/bench
mkdir -p "$DATA"
[[ -f $DATA/bench_lights.tif && -f $DATA/bench_global.tif ]] || build/geoetl_fixtures --bench "$DATA"
RASTER=$DATA/bench_lights.tif
STORE=$DATA/package-store   # geoetl.store of every session below; the server's user writes it
CUT=$DATA/package-cutlines
WARP=$DATA/package-gdalwarp
export PGOPTIONS="-c geoetl.store=$STORE"

psql -X -q -v ON_ERROR_STOP=1 -v raster="$RASTER" -v data="$DATA/" -v areas="$AREAS" <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS geoetl CASCADE;  -- this cluster's own: the installed version, fresh
CREATE EXTENSION geoetl CASCADE;
CREATE SCHEMA IF NOT EXISTS bench;
\i bench/lib/polygons.sql
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_pkg_admin') THEN
    CREATE ROLE bench_pkg_admin IN ROLE geoetl_admin;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_pkg_writer') THEN
    CREATE ROLE bench_pkg_writer IN ROLE geoetl_writer;
  END IF;
END $$;
GRANT USAGE ON SCHEMA bench TO bench_pkg_writer;
GRANT SELECT ON bench.villages TO bench_pkg_writer;
SET geoetl.allowed_sources = :'data';
SET ROLE bench_pkg_admin;
SELECT geoetl.add_source('lights', 'v1', :'raster', '{"title": "Night lights (bench)"}') \g /dev/null
SET ROLE bench_pkg_writer;
SELECT count(geoetl.add_area(format('Village %s', id), ST_AsGeoJSON(geom, 15)::jsonb)) AS areas
  FROM bench.villages WHERE id <= :areas \g /dev/null
SQL

now_ms() { date +%s%3N; }
seconds() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
# create_package once per area as the writer (one transaction each), then $1 sessions of
# run_jobs until they return; sets create_ms and jobs_ms
build_packages() {
  local start w
  start=$(now_ms)
  psql -X -q -At -v ON_ERROR_STOP=1 -f <(
    echo "SET ROLE bench_pkg_writer;"
    psql -X -At -c "SELECT format('SELECT geoetl.create_package(%s, ''{lights@v1}'');', area_id)
                      FROM geoetl.area ORDER BY area_id") >/dev/null
  create_ms=$(($(now_ms) - start))
  start=$(now_ms)
  for ((w = 0; w < $1; w++)); do
    psql -X -q -v ON_ERROR_STOP=1 -c "CALL geoetl.run_jobs(max_jobs => 100000, max_seconds => 3600)" &
  done
  wait
  jobs_ms=$(($(now_ms) - start))
  local unpublished
  unpublished=$(psql -X -At -c "SELECT count(*) FILTER (WHERE state <> 'published') FROM geoetl.package_status")
  if [[ $unpublished != 0 ]]; then
    echo "$unpublished packages are not published:" >&2
    psql -X -c "SELECT state, last_error, count(*) FROM geoetl.package_status GROUP BY 1, 2" >&2
    exit 1
  fi
}
job_times() {  # the mean time a job of each kind ran
  psql -X -At -c "SELECT string_agg(format('%s %s ms', kind, ms), ', ' ORDER BY kind) FROM (
                    SELECT kind, round(avg(extract(epoch FROM finished_at - started_at)) * 1000, 1) AS ms
                      FROM geoetl.job GROUP BY kind) k"
}
fresh() {  # no package, no job, no file
  psql -X -q -c "TRUNCATE geoetl.job, geoetl.package_resource, geoetl.package"
  rm -rf "$STORE"
  mkdir -p "$STORE"
  chown --reference="$(readlink -f "$GEOETL_PGDIR")/data" "$STORE"
}

echo "== $AREAS packages of one raster: geoetl (create_package per area, then run_jobs) against gdalwarp once per area ($(nproc) cores)"
declare -A T
for workers in 2 1; do
  fresh
  build_packages "$workers"
  T[geoetl_$workers]=$((create_ms + jobs_ms))
  printf '  geoetl, %d worker session(s): %8s s (create_package %s s, jobs %s s; mean job: %s)\n' "$workers" \
    "$(seconds "${T[geoetl_$workers]}")" "$(seconds "$create_ms")" "$(seconds "$jobs_ms")" "$(job_times)"
done
cells=$(psql -X -At -c "SELECT sum(items) || ' cells, ' || pg_size_pretty(sum(bytes)) FROM geoetl.package_resource")
psql -X -q -c "DELETE FROM geoetl.job"
build_packages 1
reused=$(psql -X -At -c "SELECT count(*) FILTER (WHERE reused) FROM geoetl.package_resource r JOIN geoetl.package p USING (package_id) WHERE p.changed = false")
printf '  geoetl, again with nothing changed, 1 worker session: %s s (create_package %s s, jobs %s s; mean job: %s; %s files reused)\n' \
  "$(seconds $((create_ms + jobs_ms)))" "$(seconds "$create_ms")" "$(seconds "$jobs_ms")" "$(job_times)" "$reused"

status_ms=$(psql -X -q -At <<'SQL' | paste -sd/
SELECT clock_timestamp() AS t0 \gset
SELECT count(last_error), count(*) FILTER (WHERE state = 'published') FROM geoetl.package_status \g /dev/null
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1);
SELECT clock_timestamp() AS t0 \gset
SELECT count(last_error), count(*) FILTER (WHERE state = 'published') FROM geoetl.package_status \g /dev/null
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1);
SQL
)
printf '  geoetl.package_status, every one of its %s rows: %s ms (first read after the builds / again)\n' \
  "$(psql -X -At -c "SELECT count(*) FROM geoetl.package")" "$status_ms"

rm -rf "$CUT" "$WARP"
mkdir -p "$CUT" "$WARP"
psql -X -At -F $'\t' -c "SELECT p.name, ST_AsGeoJSON(p.area_geom, 15) FROM geoetl.package p WHERE p.changed" |
  while IFS=$'\t' read -r name geometry; do
    printf '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": %s}]}\n' \
      "$geometry" >"$CUT/$name.geojson"
  done
warp() {  # area name
  gdalwarp -q -overwrite -cutline "$CUT/$1.geojson" -crop_to_cutline -of COG -co COMPRESS=DEFLATE "$RASTER" "$WARP/$1.tif"
}
export -f warp
export CUT WARP RASTER
start=$(now_ms)
for f in "$CUT"/*.geojson; do warp "$(basename "$f" .geojson)"; done
T[gdalwarp_1]=$(($(now_ms) - start))
start=$(now_ms)
ls "$CUT" | sed 's/\.geojson$//' | xargs -P 2 -I{} bash -c 'warp "$1"' _ {}
T[gdalwarp_2]=$(($(now_ms) - start))
printf '  gdalwarp, one after the other: %8s s\n' "$(seconds "${T[gdalwarp_1]}")"
printf '  gdalwarp, 2 at a time:         %8s s\n' "$(seconds "${T[gdalwarp_2]}")"
echo "  packages hold $cells"
printf '  ratio, 1 worker session against gdalwarp one after the other: %s faster (goal: at least 5x)\n' \
  "$(ratio "${T[gdalwarp_1]}" "${T[geoetl_1]}")"
printf '  ratio, 2 worker sessions against gdalwarp 2 at a time:        %s faster (goal: at least 5x)\n' \
  "$(ratio "${T[gdalwarp_2]}" "${T[geoetl_2]}")"

echo
echo "== every package's COG against gdalwarp's file of the same area, cell by cell"
psql -X -q -v ON_ERROR_STOP=1 -v store="$STORE/" -v warp="$WARP/" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgis_raster;
SET postgis.gdal_enabled_drivers = 'GTiff';
CREATE TEMP TABLE files AS
  SELECT f.name, f.tool, ST_FromGDALRaster(pg_read_binary_file(f.path)) AS rast
    FROM (SELECT p.name, 'geoetl' AS tool, :'store' || r.key AS path
            FROM geoetl.package p JOIN geoetl.package_resource r USING (package_id) WHERE p.changed
          UNION ALL
          SELECT p.name, 'gdalwarp', :'warp' || p.name || '.tif' FROM geoetl.package p WHERE p.changed) f;
-- each file's valid cells by their place in the raster's grid (col, row)
CREATE TEMP TABLE cells AS
  SELECT f.name, f.tool, round((ST_X(c.geom) - 30) * 240 - 0.5)::int AS col,
         round((10 - ST_Y(c.geom)) * 240 - 0.5)::int AS row, c.val
    FROM files f, ST_PixelAsCentroids(f.rast, 1, true) c;
-- the cells gdalwarp's file spans
CREATE TEMP TABLE warp_extent AS
  SELECT name, col0, col0 + ST_Width(rast) - 1 AS col1, row0, row0 + ST_Height(rast) - 1 AS row1
    FROM (SELECT name, rast, round((ST_UpperLeftX(rast) - 30) * 240)::int AS col0,
                 round((10 - ST_UpperLeftY(rast)) * 240)::int AS row0
            FROM files WHERE tool = 'gdalwarp') x;
SELECT (SELECT count(*) FROM files WHERE tool = 'geoetl') AS areas,
       (SELECT count(*) FROM files f WHERE f.tool = 'geoetl' AND NOT EXISTS (SELECT FROM cells c WHERE c.name = f.name))
         AS areas_all_nodata_in_both,
       count(*) FILTER (WHERE g.val IS NOT NULL AND w.val IS NOT NULL) AS valid_in_both,
       count(*) FILTER (WHERE g.val <> w.val) AS values_differ,
       count(*) FILTER (WHERE w.val IS NULL AND col BETWEEN e.col0 AND e.col1 AND row BETWEEN e.row0 AND e.row1)
         AS only_geoetl_in_gdalwarp_extent,
       count(*) FILTER (WHERE w.val IS NULL AND NOT (col BETWEEN e.col0 AND e.col1 AND row BETWEEN e.row0 AND e.row1))
         AS only_geoetl_outside_it,
       count(*) FILTER (WHERE g.val IS NULL) AS only_gdalwarp
  FROM (SELECT * FROM cells WHERE tool = 'geoetl') g
  FULL JOIN (SELECT * FROM cells WHERE tool = 'gdalwarp') w USING (name, col, row)
  JOIN warp_extent e USING (name);
SQL
