#!/usr/bin/env bash
# The shared block cache on a cluster of its own: first without geoetl preloaded (no cache, the
# reference statistics, no warning about geoetl.shared_cache_mb), then preloaded with a cache of
# 2 MB (32 slots) for a raster of 64 blocks of 256 kB: four sessions at once get the reference
# statistics while the cache evicts under them; a backend killed by kill -9 in the middle of
# reads (PostgreSQL restarts every backend and makes shared memory anew): nobody hangs, the new
# cache starts empty and serves the same statistics. Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-blockcache-test-$$
PGC=$ROOT/scripts/pgcluster.sh
. "$ROOT/test/e2e/lib/tap.sh"
trap 'kill $(jobs -p) 2>/dev/null; "$PGC" destroy >/dev/null 2>&1' EXIT
q() { "$PGC" psql -XAtqc "$1"; }
is() { local got; got=$(q "$1"); [[ $got == "$2" ]] || { echo "  got: $got, want: $2" >&2; return 1; }; }
server_up() { local i; for ((i = 0; i < 150; i++)); do q "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
restart() { "$PGC" stop >/dev/null && "$PGC" start >/dev/null; }

"$PGC" start >/dev/null || { echo "not ok 1 - cluster starts"; exit 1; }
RASTER=$(readlink -f "$GEOETL_PGDIR")/blocks.tif
# 2048 x 2048 Float32 in 256 x 256 DEFLATE tiles (64 blocks of 256 kB decoded), over 30..32 E
/usr/bin/python3 - "$RASTER" <<'PY' || { echo "not ok 1 - the test raster is written"; exit 1; }
import sys
import numpy as np
from osgeo import gdal, osr
d = gdal.GetDriverByName("GTiff").Create(sys.argv[1], 2048, 2048, 1, gdal.GDT_Float32,
                                         ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE"])
d.SetGeoTransform((30, 2 / 2048, 0, 1, 0, -2 / 2048))
s = osr.SpatialReference(); s.ImportFromEPSG(4326); d.SetProjection(s.ExportToWkt())
rng = np.random.default_rng(2026)
d.GetRasterBand(1).WriteArray((rng.random((2048, 2048)) * 100).astype(np.float32))
d.GetRasterBand(1).SetNoDataValue(-9999)
d = None
PY
chmod a+r "$RASTER"
q "SET client_min_messages = warning; CREATE EXTENSION geoetl CASCADE" >/dev/null
# 300 village-sized polygons (seeded) over the raster
q "SELECT setseed(0.5); CREATE TABLE village AS SELECT i AS id,
     ST_Buffer(ST_Point(30.02 + random() * 1.96, -0.98 + random() * 1.96, 4326), 0.005 + random() * 0.03, 8) AS geom
   FROM generate_series(1, 300) i" >/dev/null
STATS="SELECT v.id, round(s.count::numeric, 6) AS count, round(s.sum::numeric, 3) AS sum, s.min, s.max
         FROM village v, LATERAL geoetl.zonal_stats('$RASTER', v.geom, quantiles => '{}') s"

# 1. not preloaded: no cache, and a geoetl.shared_cache_mb in the server's settings is no warning
q "ALTER SYSTEM SET shared_preload_libraries = 'pg_cron'" >/dev/null
q "ALTER SYSTEM SET geoetl.shared_cache_mb = 2" >/dev/null
restart
out=$("$PGC" psql -XAtc "SELECT enabled FROM geoetl.shared_cache_stats()" 2>&1)
check "not preloaded: the cache is off" test "$out" = f
check "not preloaded: no warning about geoetl.shared_cache_mb" test "$(grep -c WARNING <<<"$out")" = 0
q "CREATE TABLE reference AS $STATS" >/dev/null
check "the reference statistics (GDAL's own reads): 300 villages" is "SELECT count(*) FROM reference WHERE count > 0" 300

# 2. preloaded with 32 slots: four sessions at once, each pass through every village
q "ALTER SYSTEM SET shared_preload_libraries = pg_cron, geoetl" >/dev/null
restart
check "preloaded: the cache is on, 2 MB in 32 slots" is "SELECT enabled, size_mb, slots FROM geoetl.shared_cache_stats()" "t|2|32"
for s in 1 2 3 4; do
  q "CREATE TABLE run_$s AS $STATS ORDER BY random()" >/dev/null &
done
wait
for s in 1 2 3 4; do
  check "session $s of 4 at once: the reference statistics" \
    is "SELECT count(*) FROM run_$s r JOIN reference f USING (id) WHERE (r.count, r.sum, r.min, r.max) = (f.count, f.sum, f.min, f.max)" 300
done
check "the cache evicted under them and nothing stays pinned" \
  is "SELECT evictions > 0 AND hits > 0 AND pinned = 0 AND used <= 32 FROM geoetl.shared_cache_stats()" t

# 3. kill -9 of a backend in the middle of reads: the server restarts, the cache is new and works
q "SET application_name = 'blockcache_victim'; SELECT count(*) FROM generate_series(1, 100000) g,
     LATERAL geoetl.zonal_stats('$RASTER', (SELECT geom FROM village WHERE id = g % 300 + 1), quantiles => '{}') s" \
  >/dev/null 2>&1 &
victim=""
for ((i = 0; i < 100; i++)); do
  victim=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'blockcache_victim' AND state = 'active'")
  [[ -n $victim ]] && break
  sleep 0.1
done
sleep 1
check "a backend reading through the cache was found" test -n "$victim"
kill -9 "$victim" 2>/dev/null
wait
check "the server answers again after the kill" server_up
check "the cache was made anew: empty, nothing pinned" \
  is "SELECT enabled, used, pinned, hits FROM geoetl.shared_cache_stats()" "t|0|0|0"
q "CREATE TABLE after_kill AS $STATS" >/dev/null
check "after the restart: the reference statistics" \
  is "SELECT count(*) FROM after_kill r JOIN reference f USING (id) WHERE (r.count, r.sum, r.min, r.max) = (f.count, f.sum, f.min, f.max)" 300
check "the server log tells of the killed backend" grep -q "terminated by signal 9" "$GEOETL_PGDIR/server.log"
finish
