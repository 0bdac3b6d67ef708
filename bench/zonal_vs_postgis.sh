#!/usr/bin/env bash
# geoetl.zonal_stats against PostGIS raster, measured in the same run on the same machine.
#
#   bench/zonal_vs_postgis.sh                (as root on Debian bookworm, like make check)
#   bench/zonal_vs_postgis.sh --new-backend  (only the new-backend section, bench/lib/new_backend.sh)
#
# Raster: 4800x4800 Float32, 256x256 tiles, DEFLATE (test/fixtures --bench), read by geoetl from
# the compressed file; loaded into PostGIS with raster2pgsql in 256x256 tiles with a spatial
# index, in-database (PostGIS's fastest setup) and out-of-database (-R).
# Polygons: 1,000 village-sized 32-gons and one country-sized 200-gon (about 3.7 M cells).
# Every figure is the best of 3 warm runs. "cold" means GDAL's block cache is kept to 1 MB, so
# geoetl decompresses every block it reads on every run; "warm" allows it 256 MB.
# Then: the kernel benchmark (build/bench_zonal) against the time GDAL needs only to read the
# same blocks, and the peak memory of one backend summarising the whole world at 15".
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. bench/lib/setup.sh
bench_build bench_zonal geoetl_fixtures
bench_cluster
DATA=$GEOETL_PGDIR/bench
mkdir -p "$DATA"
[[ -f $DATA/bench_lights.tif && -f $DATA/bench_global.tif ]] || build/geoetl_fixtures --bench "$DATA"
RASTER=$DATA/bench_lights.tif

psql -X -q -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS geoetl CASCADE;
CREATE EXTENSION IF NOT EXISTS postgis_raster;
CREATE SCHEMA IF NOT EXISTS bench;
SQL
if [[ $(psql -XAtc "SELECT to_regclass('bench.lights_in') IS NULL") == t ]]; then
  echo "loading the raster into PostGIS (in-database and out-of-database) ..."
  raster2pgsql -s 4326 -t 256x256 -I -N -9999 "$RASTER" bench.lights_in 2>/dev/null | psql -X -q >/dev/null
  raster2pgsql -s 4326 -t 256x256 -I -N -9999 -R "$RASTER" bench.lights_out 2>/dev/null | psql -X -q >/dev/null
  psql -X -q -c "VACUUM ANALYZE bench.lights_in" -c "VACUUM ANALYZE bench.lights_out"
fi

psql -X -q -v ON_ERROR_STOP=1 -v raster="$RASTER" <<'SQL'
\i bench/lib/polygons.sql
CREATE OR REPLACE FUNCTION bench.best_ms(q text, runs int DEFAULT 3) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best float8 := 'infinity'; r record;
BEGIN
  FOR i IN 1..runs + 1 LOOP  -- the first run warms the caches and is not counted
    t0 := clock_timestamp();
    EXECUTE 'SELECT count(*), sum(hashtext(x::text)) FROM (' || q || ') x' INTO r;
    IF i > 1 THEN best := least(best, extract(epoch FROM clock_timestamp() - t0) * 1000); END IF;
  END LOOP;
  RETURN best;
END $$;
SQL

. bench/lib/new_backend.sh
if [[ ${1:-} == --new-backend ]]; then  # only the new-backend section (NB_RUNS=n: runs per figure)
  new_backend_section "$RASTER"
  exit
fi

time_ms() {  # label, cache MB (or -), query
  local settings="SET postgis.enable_outdb_rasters = on; SET postgis.gdal_enabled_drivers = 'GTiff';"
  [[ $2 != - ]] && settings+=" SET geoetl.gdal_cache_mb = $2;"
  printf '%s\n' "$settings" "SELECT round(bench.best_ms(:'q')::numeric, 1);" |
    psql -X -q -At -v ON_ERROR_STOP=1 -v q="$3" | tail -n1
}
V="(SELECT array_agg(id ORDER BY id) FROM bench.villages), (SELECT array_agg(geom ORDER BY id) FROM bench.villages)"
declare -A T
T[pg_in_villages]=$(time_ms x - "SELECT v.id, ST_SummaryStatsAgg(ST_Clip(r.rast, v.geom, true), 1, true, 1) FROM bench.villages v JOIN bench.lights_in r ON ST_Intersects(r.rast, v.geom) GROUP BY v.id")
T[pg_out_villages]=$(time_ms x - "SELECT v.id, ST_SummaryStatsAgg(ST_Clip(r.rast, v.geom, true), 1, true, 1) FROM bench.villages v JOIN bench.lights_out r ON ST_Intersects(r.rast, v.geom) GROUP BY v.id")
T[pg_in_country]=$(time_ms x - "SELECT ST_SummaryStatsAgg(ST_Clip(r.rast, c.geom, true), 1, true, 1) FROM bench.country c JOIN bench.lights_in r ON ST_Intersects(r.rast, c.geom)")
T[pg_out_country]=$(time_ms x - "SELECT ST_SummaryStatsAgg(ST_Clip(r.rast, c.geom, true), 1, true, 1) FROM bench.country c JOIN bench.lights_out r ON ST_Intersects(r.rast, c.geom)")
for cache in 256 1; do
  for mode in center exact; do
    T[rows_${mode}_$cache]=$(time_ms x $cache "SELECT v.id, s.* FROM bench.villages v, LATERAL geoetl.zonal_stats('$RASTER', v.geom, coverage => '$mode', quantiles => '{}') s")
    T[many_${mode}_$cache]=$(time_ms x $cache "SELECT * FROM geoetl.zonal_stats_many('$RASTER', $V, coverage => '$mode', quantiles => '{}')")
    T[country_${mode}_$cache]=$(time_ms x $cache "SELECT s.* FROM bench.country c, LATERAL geoetl.zonal_stats('$RASTER', c.geom, coverage => '$mode', quantiles => '{}') s")
  done
  T[country_q_$cache]=$(time_ms x $cache "SELECT s.* FROM bench.country c, LATERAL geoetl.zonal_stats('$RASTER', c.geom, quantiles => '{0.5,0.9}') s")
done
cells=$(psql -XAtc "SELECT round(count) FROM bench.country c, geoetl.zonal_stats('$RASTER', c.geom, coverage => 'center', quantiles => '{}') s")
same=$(psql -XAtc "SET postgis.gdal_enabled_drivers = 'GTiff'" -c "SELECT sum(g.count) = sum(p.count) FROM bench.villages v, LATERAL geoetl.zonal_stats('$RASTER', v.geom, coverage => 'center', quantiles => '{}') g, LATERAL (SELECT (ST_SummaryStatsAgg(ST_Clip(r.rast, v.geom, true), 1, true, 1)).count FROM bench.lights_in r WHERE ST_Intersects(r.rast, v.geom)) p" | tail -n1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
row() {  # label, geoetl key, PostGIS in-db key, PostGIS out-db key
  printf '  %-42s %8.1f ms   %6s vs in-db   %6s vs out-db\n' "$1" "${T[$2]}" \
    "$(ratio "${T[$3]}" "${T[$2]}")" "$(ratio "${T[$4]}" "${T[$2]}")"
}
echo
echo "== geoetl.zonal_stats vs PostGIS raster ($(nproc) cores; country polygon: $cells cells; same village counts as PostGIS: $same)"
printf '  %-42s %8.1f ms\n' "PostGIS in-db, 1,000 villages" "${T[pg_in_villages]}" \
  "PostGIS out-db, 1,000 villages" "${T[pg_out_villages]}" \
  "PostGIS in-db, country" "${T[pg_in_country]}" "PostGIS out-db, country" "${T[pg_out_country]}"
for cache in 256 1; do
  label=$([[ $cache == 1 ]] && echo "cold block cache" || echo "warm block cache")
  for mode in center exact; do
    row "villages, row by row, $mode, $label" "rows_${mode}_$cache" pg_in_villages pg_out_villages
    row "villages, zonal_stats_many, $mode, $label" "many_${mode}_$cache" pg_in_villages pg_out_villages
    row "country, $mode, $label" "country_${mode}_$cache" pg_in_country pg_out_country
  done
  row "country, exact + median + p90, $label" "country_q_$cache" pg_in_country pg_out_country
done
echo "  (ratios: PostGIS time / geoetl time; above 1 means geoetl is faster)"

echo
echo "== the zonal engine against the time GDAL needs only to read the same blocks"
build/bench_zonal "$RASTER" --benchmark_color=false 2>/dev/null | sed -n '/^Benchmark/,$p'

echo
echo "== peak memory of one backend summarising the whole world at 15 arc-seconds (86400 x 43200)"
psql -X -q -At -v g="$DATA/bench_global.tif" <<'SQL'
CREATE TEMP TABLE m(phase text, kb bigint, shmem_kb bigint);
CREATE FUNCTION pg_temp.status(field text) RETURNS bigint LANGUAGE sql AS $$
  SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status') FROM field || ':\s+(\d+) kB')::bigint $$;
CREATE FUNCTION pg_temp.hwm() RETURNS bigint LANGUAGE sql AS $$ SELECT pg_temp.status('VmHWM') $$;
SELECT count FROM geoetl.zonal_stats(:'g', ST_MakeEnvelope(0, 0, 0.01, 0.01, 4326), quantiles => '{}') \g /dev/null
INSERT INTO m VALUES ('idle', pg_temp.hwm(), pg_temp.status('RssShmem'));
\timing on
SELECT 'cells: ' || count FROM geoetl.zonal_stats(:'g', ST_MakeEnvelope(-180, -90, 180, 90, 4326), quantiles => '{}');
\timing off
INSERT INTO m VALUES ('after', pg_temp.hwm(), pg_temp.status('RssShmem'));
-- VmHWM counts the pages of shared memory a backend touched (the shared block cache's slots):
-- shown apart, as their growth (RssShmem), which is no memory of this backend's own
SELECT 'peak above idle: ' || round((a.kb - i.kb) / 1024.0, 1) || ' MB, of which shared memory pages: '
       || round((a.shmem_kb - i.shmem_kb) / 1024.0, 1) || ' MB'
  FROM m a, m i WHERE a.phase = 'after' AND i.phase = 'idle';
SQL

new_backend_section "$RASTER"
