#!/usr/bin/env bash
# `make demo`: install dependencies, build and install geoetl, start the throwaway cluster
# in .pgdata/, load the sample areas, show them, compute night-light statistics for them from a
# bundled (generated) raster, then run the night-light job: a year of generated daily Black
# Marble granules (VNP46A2) registered, then one job per area and month in geoetl's queue, run
# by the worker pg_cron calls every minute, composited and kept in geoetl.nightlight_monthly.
# No network. Safe to run again: it updates in place, and months whose granules did not change
# are skipped. Then a wind farm's 1-minute readings (ten days, three turbines, generated) are rolled
# into 10-minute windows by a window pipeline (scripts/demo/wind_farm.sql). The year's monthly
# composites are kept in the store and rendered as map tiles (render_tiles jobs) for the viewer
# page (scripts/viewer.sh). Last, a data package of one area (the demo raster and a table of the
# villages, clipped to it) is built by jobs and published in the store with its datapackage.json
# (scripts/demo/package.sql).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
AREAS=scripts/demo/areas.geojson

scripts/install-deps.sh
make -j "$(nproc)"
make install >/dev/null
cmake --build build -j "$(nproc)" --target geoetl_fixtures geoetl_blackmarble >/dev/null
scripts/pgcluster.sh start
eval "$(scripts/pgcluster.sh env)"
# The demo raster lives in the cluster's folder, which the server can always read.
DATA=$(readlink -f "${GEOETL_PGDIR:-$ROOT/.pgdata}")/demo
mkdir -p "$DATA"
[[ -f $DATA/demo_lights.tif ]] || build/geoetl_fixtures --demo "$DATA"
# A year of daily granules for the tiles under the sample areas, 120 pixels per tile side (NASA's
# are 2400: the same 10-degree tiles, coarser), written once. A village inside each area gets
# electricity during the year (Kakuma from February, Busia from April, Kisumu June, Kano August,
# the two Lake Kivu towns October and December).
YEAR=2024
GRANULES=$DATA/blackmarble
TILES=h18v07,h20v09,h21v08,h21v09
PLACES='34.86,3.73;34.15,0.3;34.76,-0.08;8.6,12.06;29.21,-1.67;28.86,-2.5'
ARGS=(VNP46A2 2 "$TILES" "$YEAR-01-01" 366 120 11 "$PLACES")
MARKER=$GRANULES/.complete-$(echo "${ARGS[*]}" | md5sum | cut -c1-12)
if [[ ! -f $MARKER ]]; then
  echo "demo: writing $YEAR's daily VNP46A2 granules for tiles $TILES into $GRANULES ..."
  rm -rf "$GRANULES" && mkdir -p "$GRANULES"
  build/geoetl_blackmarble "$GRANULES" "${ARGS[@]}"
  touch "$MARKER"
fi

# Before 1.0 there are no upgrade scripts: a demo cluster whose extension was created from
# another build of the same version gets it created afresh (the demo reloads everything).
# The script compared is the one `make install` wrote: PG_CONFIG's, as the Makefile reads it.
BUILD=$(md5sum "$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --sharedir)/extension/geoetl--$(sed -n 's/^EXTVERSION *= *//p' Makefile).sql" | cut -c1-32)
psql -X -q -v ON_ERROR_STOP=1 -v areas="$(cat "$AREAS")" -v raster="$DATA/demo_lights.tif" -v build="$BUILD" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE TABLE IF NOT EXISTS public.demo_build (build text);
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'geoetl')
       AND NOT EXISTS (SELECT 1 FROM public.demo_build WHERE build = :'build') AS stale \gset
\if :stale
\echo 'demo: this cluster has geoetl from another build: creating it afresh'
DROP EXTENSION geoetl CASCADE;
\endif
CREATE EXTENSION IF NOT EXISTS geoetl CASCADE;
TRUNCATE public.demo_build;
INSERT INTO public.demo_build VALUES (:'build');

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
SQL

echo
psql -X -q -A -t -v ON_ERROR_STOP=1 -v dir="$GRANULES" <<'SQL'
SELECT 'registered ' || geoetl.register_rasters('VNP46A2', :'dir') || ' new or changed granules';
SELECT count(*) || ' VNP46A2 granules in the catalog, ' || count(DISTINCT (tile_h, tile_v)) || ' tiles, '
       || min(date) || ' to ' || max(date) FROM geoetl.raster WHERE product = 'VNP46A2';
SQL
# The night-light job through the queue, run by pg_cron: one job per area and month (a month
# already pending is not enqueued twice), and the worker that pg_cron calls every minute.
ids=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -v year="$YEAR" <<'SQL'
SELECT geoetl.schedule_worker() \g /dev/null
SELECT string_agg(id::text, ',') FROM geoetl.area a,
       geoetl.enqueue_nightlights(a.area_id, make_date(:year, 1, 1), make_date(:year, 12, 1)) id;
SQL
)
total=$(tr ',' '\n' <<<"$ids" | wc -l)
echo "enqueued $total nightlight_month jobs; pg_cron's geoetl-worker runs them (it starts every minute)"
start=$(date +%s)
while :; do
  read -r finished failed < <(psql -X -q -A -t -F ' ' -c "SELECT count(*) FILTER (WHERE state IN ('completed', 'failed', 'cancelled')),
      count(*) FILTER (WHERE state <> 'completed' AND state IN ('failed', 'cancelled'))
      FROM geoetl.job WHERE job_id = ANY ('{$ids}'::bigint[])")
  [[ $finished == "$total" ]] && break
  if (( $(date +%s) - start > 300 )); then
    echo "demo: pg_cron's worker did not finish the jobs within 5 minutes; its last runs:" >&2
    psql -X -q -c "SELECT start_time, status, return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 5" >&2
    exit 1
  fi
  if [[ $finished != "${shown:-}" ]] || (( $(date +%s) - ${shown_at:-0} >= 15 )); then
    echo "  $(date +%T) $finished of $total jobs done$(psql -X -q -A -t -c "SELECT ', running: ' || string_agg(progress, '; ') FROM geoetl.running_jobs")"
    shown=$finished shown_at=$(date +%s)
  fi
  sleep 1
done
echo "all $total jobs finished in $(($(date +%s) - start)) s of waiting for and running pg_cron's worker"
psql -X -q -A -t -v ON_ERROR_STOP=1 <<SQL
SELECT format('night lights %s: %s area-months computed, the rest unchanged (jobs ran %s s)',
              to_char((args->>'month')::date, 'YYYY-MM'), sum((result->>'rows_changed')::int),
              round(extract(epoch FROM sum(finished_at - started_at))::numeric, 1))
  FROM geoetl.job WHERE job_id = ANY ('{$ids}'::bigint[]) AND state = 'completed'
 GROUP BY args->>'month' ORDER BY args->>'month';
SELECT format('failed: job %s (%s): %s', job_id, args, errors->-1->>'message')
  FROM geoetl.job WHERE job_id = ANY ('{$ids}'::bigint[]) AND state <> 'completed';
SELECT format('pg_cron ran the worker %s times (%s succeeded)', count(*), count(*) FILTER (WHERE status = 'succeeded'))
  FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'geoetl-worker';
SQL
[[ $failed == 0 ]] || { echo "demo: $failed night-light jobs failed" >&2; exit 1; }
psql -X -q -v ON_ERROR_STOP=1 -v year="$YEAR" <<'SQL'
\echo
\echo 'Night lights per area over the year (geoetl.nightlight_monthly; generated granules):'
\echo 'sum of lights (nW/cm2/sr x pixel share) in January, April, July, October, December; lit: radiance >= 0.5'
SELECT name, count(*) AS months, round(avg(coverage)::numeric, 2) AS avg_coverage,
       string_agg(round(sum_of_lights::numeric, 1)::text, ' -> ' ORDER BY month)
         FILTER (WHERE extract(month FROM month) IN (1, 4, 7, 10, 12)) AS sum_of_lights,
       round((100 * min(lit_share))::numeric, 1) AS min_lit_pct, round((100 * max(lit_share))::numeric, 1) AS max_lit_pct,
       (array_agg(array_to_string(n.tiles_used, '+') ORDER BY month DESC))[1] AS tiles
  FROM geoetl.nightlight_monthly n JOIN geoetl.area USING (area_id)
 WHERE extract(year FROM month) = :year
 GROUP BY name ORDER BY name;
\echo 'One area month by month (geoetl.nightlight_trend): across the equator, so two tiles; power from April:'
SELECT to_char(month, 'YYYY-MM') AS month, days_with_data AS nights, round(coverage::numeric, 2) AS coverage,
       round(sum_of_lights::numeric, 1) AS sum_of_lights,
       round((100 * sum_of_lights_mom_pct)::numeric, 1) AS change_pct, round((100 * lit_share)::numeric, 1) AS lit_pct
  FROM geoetl.nightlight_trend WHERE name = 'Busia corridor' AND extract(year FROM month) = :year ORDER BY month;
SQL
# Time-series windows: a wind farm's 1-minute readings into 10-minute windows (window pipeline).
psql -X -q -v ON_ERROR_STOP=1 -f scripts/demo/wind_farm.sql

# Runs due jobs here (pg_cron's worker may take some of them too) until the query says t; gives up
# after SECONDS with MESSAGE.
run_jobs_until() {  # SECONDS MESSAGE QUERY
  local start
  start=$(date +%s)
  until [[ $(psql -X -q -A -t -c "$3") == t ]]; do
    if (( $(date +%s) - start > $1 )); then
      echo "demo: $2 within $1 s" >&2
      exit 1
    fi
    psql -X -q -c "CALL geoetl.run_jobs(max_seconds => 30)"
    sleep 0.2
  done
}

# The map: each month's composites kept in the store and rendered as map tiles (zooms 0-8), one
# render_tiles job per month, run here (pg_cron's worker may take some of them too).
renders=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -v year="$YEAR" <<'SQL'
SELECT string_agg(geoetl.render_tiles('VNP46A2', make_date(:year, m, 1))::text, ',' ORDER BY m)
  FROM generate_series(1, 12) m;
SQL
)
run_jobs_until 600 "the map tiles were not rendered" \
  "SELECT count(*) = 0 FROM geoetl.job WHERE job_id = ANY ('{$renders}'::bigint[])
      AND state NOT IN ('completed', 'failed', 'cancelled')"
psql -X -q -A -t -v ON_ERROR_STOP=1 <<SQL
SELECT format('map %s: %s composites saved, %s tiles written, %s left as they were, %s without light%s',
              to_char((args->>'month')::date, 'YYYY-MM'), result->>'composites_written', result->>'written',
              result->>'unchanged', result->>'empty',
              CASE WHEN (result->>'skipped')::boolean THEN ' (nothing changed since the last render)' ELSE '' END)
  FROM geoetl.job WHERE job_id = ANY ('{$renders}'::bigint[]) AND state = 'completed' ORDER BY args->>'month';
SELECT format('failed: job %s (%s): %s', job_id, args, errors->-1->>'message')
  FROM geoetl.job WHERE job_id = ANY ('{$renders}'::bigint[]) AND state <> 'completed';
SQL
[[ $(psql -X -q -A -t -c "SELECT count(*) FROM geoetl.job WHERE job_id = ANY ('{$renders}'::bigint[]) AND state <> 'completed'") == 0 ]] \
  || { echo "demo: rendering the map failed" >&2; exit 1; }

# A data package: the demo raster and the villages table clipped to one area, one job per
# source and one that publishes, run here (pg_cron's worker may take some of them too).
PACKAGE_AREA='Lake Kivu towns'
psql -X -q -v ON_ERROR_STOP=1 -v raster="$DATA/demo_lights.tif" -v places="$PLACES" -v year="$YEAR" \
  -v area="$PACKAGE_AREA" -f scripts/demo/package.sql
package=$(psql -X -q -A -t -c "SELECT max(package_id) FROM geoetl.package JOIN geoetl.area USING (area_id) WHERE area.name = '$PACKAGE_AREA'")
run_jobs_until 120 "package $package was not published" \
  "SELECT state <> 'running' FROM geoetl.package_status WHERE package_id = $package"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
\echo 'The package (geoetl.package_status; when nothing changed since the version before, changed is false and no file is written):'
SELECT package_id, name, version, state, changed, resources, resources_done, bytes, last_error
  FROM geoetl.package_status WHERE package_id = $package;
SQL
uri=$(psql -X -q -A -t -c "SELECT uri FROM geoetl.package WHERE package_id = $package AND state = 'published'")
[[ -n $uri ]] || { echo "demo: package $package failed" >&2; exit 1; }
PACKAGE_DIR=$(dirname "$uri")
echo "Its files in the store ($PACKAGE_DIR):"
(cd "$PACKAGE_DIR" && find . -type f -printf '  %P  (%s bytes)\n' | sort)
echo "$PACKAGE_DIR/datapackage.json:"
cat "$PACKAGE_DIR/datapackage.json"
psql -X -q -c "SELECT geoetl.version() AS versions"

cat <<MSG

The demo cluster keeps running, and pg_cron keeps calling its job worker every minute:
  scripts/pgcluster.sh psql            # psql into it (SELECT * FROM geoetl.job_summary;)
  $(scripts/pgcluster.sh url)   # for QGIS, Metabase, Grafana, ...
  scripts/pgcluster.sh stop            # stop it (data stays in .pgdata/)
The data package of $PACKAGE_AREA: $PACKAGE_DIR
The night-light map of $YEAR (tiles in the store, areas and their trends from the database):
  scripts/viewer.sh                    # serves the page on 127.0.0.1 and prints its URL
MSG
