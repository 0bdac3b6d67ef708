#!/usr/bin/env bash
# `make demo`: install dependencies, build and install geoetl, start the throwaway cluster
# in .pgdata/, load the sample areas, show them, and compute night-light statistics for them
# from a bundled (generated) raster. No network. Safe to run again: it updates in place.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
AREAS=scripts/demo/areas.geojson

scripts/install-deps.sh
make -j "$(nproc)"
make install >/dev/null
cmake --build build -j "$(nproc)" --target geoetl_fixtures >/dev/null
scripts/pgcluster.sh start
eval "$(scripts/pgcluster.sh env)"
# The demo raster lives in the cluster's folder, which the server can always read.
DATA=$(readlink -f "${GEOETL_PGDIR:-$ROOT/.pgdata}")/demo
mkdir -p "$DATA"
[[ -f $DATA/demo_lights.tif ]] || build/geoetl_fixtures --demo "$DATA"

psql -X -q -v ON_ERROR_STOP=1 -v areas="$(cat "$AREAS")" -v raster="$DATA/demo_lights.tif" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS geoetl CASCADE;
ALTER EXTENSION geoetl UPDATE;
CREATE EXTENSION IF NOT EXISTS pg_cron;

-- load the sample areas: new names are added, existing ones updated in place (ids stay)
BEGIN;
CREATE TEMP TABLE demo_feature ON COMMIT DROP AS
  SELECT f->'properties'->>'name' AS name, f AS feature
    FROM jsonb_array_elements((:'areas')::jsonb->'features') AS f;
SELECT count(geoetl.update_area(a.area_id, d.feature, d.feature->'properties')) AS updated
  FROM demo_feature d JOIN geoetl.area a USING (name) \gset
SELECT count(geoetl.add_area(d.name, d.feature)) AS added
  FROM demo_feature d WHERE NOT EXISTS (SELECT 1 FROM geoetl.area a WHERE a.name = d.name) \gset
COMMIT;

\echo
\echo 'geoetl sample areas:' :added 'added,' :updated 'updated'
SELECT area_id, name, properties->>'country' AS country, properties->>'kind' AS kind,
       round(area_km2::numeric, 1) AS area_km2
  FROM geoetl.area ORDER BY area_id;

\echo
\echo 'Night lights in each area (bundled demo raster, nW/cm2/sr; lit means >= 1):'
SELECT name, round(sum::numeric, 1) AS sum_of_lights, round(mean::numeric, 2) AS mean_radiance,
       round(quantiles[1]::numeric, 2) AS median, round((100 * lit_share)::numeric, 1) AS lit_pct,
       round(lit_area_km2::numeric, 1) AS lit_km2, round((100 * nodata_share)::numeric, 1) AS nodata_pct
  FROM geoetl.zonal_stats_areas(:'raster', threshold => 1.0)
 ORDER BY area_id;
SELECT geoetl.version() AS versions;
SQL

cat <<MSG

The demo cluster keeps running:
  scripts/pgcluster.sh psql            # psql into it
  $(scripts/pgcluster.sh url)   # for QGIS, Metabase, Grafana, ...
  scripts/pgcluster.sh stop            # stop it (data stays in .pgdata/)
MSG
