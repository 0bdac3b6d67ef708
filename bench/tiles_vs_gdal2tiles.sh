#!/usr/bin/env bash
# A month's night-light map tiles, zooms 0-8, against gdal2tiles, measured in one run on this
# machine (issue 17).
#
#   bench/tiles_vs_gdal2tiles.sh [SIZE=2400] [REPEAT=50] [RUNS=3]   (as root on Debian bookworm, like make check)
#   GEOETL_BENCH_DESTDIR=/var/tmp/geoetl-bench-pg bench/tiles_vs_gdal2tiles.sh
#       the same without touching the system's installed extension (bench/lib/setup.sh)
#
# Data: the monthly VNP46A3 granules (one file per tile-month) of the four Black Marble tiles
# h21v08,h22v08,h21v09,h22v09 (30..50 E, 10 S..10 N) for January 2024, SIZE pixels a side
# (NASA's: 2400), written by build/geoetl_blackmarble. In a cluster of its own:
# 1. the granules registered and each tile's composite saved (timed on its own);
# 2. geoetl._render_month (the render_tiles job's work) of zooms 0-8 as XYZ files into the store,
#    then as one PMTiles archive: the composites are saved beforehand, so the timed calls only
#    render (the tile_render row and the earlier tiles are removed first: an unchanged month
#    writes nothing);
# 3. the peer: the four saved composite COGs mosaicked (gdalbuildvrt), coloured with the same ramp
#    (gdaldem color-relief -alpha, src/core/tiles/ramp.cpp's colours at radiance v = 101^t - 1 for
#    t in steps of 0.01, since gdaldem interpolates linearly in v) into an RGBA GeoTIFF (not
#    timed), then `gdal2tiles.py --xyz -z 0-8 --processes=2 -r average -w none` on it (timed).
#    Goal: geoetl XYZ at least 3x faster. Steps 2 and 3 run RUNS times, interleaved, and the best
#    time of each counts (the machine may be busy with other work);
# 4. geoetl.tile() of the zoom-8 tile with the most light, REPEAT times in one warm backend after
#    one call to warm it: mean and p95 (goal < 20 ms), and whether its bytes equal the job's file.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SIZE=${1:-2400}
REPEAT=${2:-50}
RUNS=${3:-3}
TILES=h21v08,h22v08,h21v09,h22v09
. bench/lib/setup.sh
bench_build geoetl_blackmarble
bench_cluster
DATA=$(readlink -f "$GEOETL_PGDIR")/tiles-$SIZE
if [[ ! -f $DATA/granules/.complete ]]; then
  echo "writing the VNP46A3 granules of $TILES, $SIZE x $SIZE pixels, into $DATA/granules ..."
  rm -rf "$DATA/granules" && mkdir -p "$DATA/granules"
  build/geoetl_blackmarble "$DATA/granules" VNP46A3 2 "$TILES" 2024-01-01 1 "$SIZE" 3
  touch "$DATA/granules/.complete"
fi
chmod -R a+rX "$DATA"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

echo "== composites: register the granules, save each tile's composite (not part of the render)"
t0=$(now)
q -v dir="$DATA/granules" -v tiles="{$TILES}" <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS geoetl CASCADE;  -- this cluster's own: the installed version, fresh
CREATE EXTENSION geoetl CASCADE;
SELECT 'registered ' || geoetl.register_rasters('VNP46A3', :'dir') || ' granules';
SELECT count(geoetl.save_composite('VNP46A3', '2024-01-01', t)) || ' composites saved'
  FROM unnest(:'tiles'::text[]) t;
SQL
echo "composites: $(secs "$t0" "$(now)") s"
STORE=$(q -c "SELECT current_setting('data_directory') || '/geoetl_store'")
XYZ=$STORE/tiles/VNP46A3/2024-01

render() {  # render FORMAT: prints seconds and the job's result
  local format=$1
  q -v format="$format" <<'SQL'
SET client_min_messages = warning;
DELETE FROM geoetl.tile_render WHERE product = 'VNP46A3' AND month = '2024-01-01' AND format = :'format';
SELECT clock_timestamp() AS t0 \gset
SELECT geoetl._render_month(jsonb_build_object('product', 'VNP46A3', 'month', '2024-01-01',
                                               'format', :'format')) AS r \gset
SELECT format('%s %s', round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 2), :'r');
SQL
}

echo
echo "== gdal2tiles's input: the same composites coloured by the same ramp (not timed)"
PEER=$DATA/peer
rm -rf "$PEER" && mkdir -p "$PEER"
q -c "SELECT uri FROM geoetl.composite WHERE product = 'VNP46A3' AND month = '2024-01-01' ORDER BY tile" \
  >"$PEER/composites.txt"
gdalbuildvrt -q -input_file_list "$PEER/composites.txt" "$PEER/mosaic.vrt"
# the ramp of src/core/tiles/ramp.cpp at v = 101^t - 1, t = 0, 0.01, ..., 1; no light and no data
# transparent
python3 - >"$PEER/colours.txt" <<'PY'
stops = [(0.0, (20, 10, 40)), (0.25, (90, 20, 110)), (0.5, (200, 40, 50)),
         (0.7, (250, 140, 30)), (0.85, (255, 220, 80)), (1.0, (255, 255, 255))]
def rnd(x):  # std::lround: half away from zero
    return int(x + 0.5)
print("nv 0 0 0 0")
print("0 0 0 0 0")
for k in range(101):
    t = k / 100
    i = 1
    while i + 1 < len(stops) and stops[i][0] < t:
        i += 1
    (t0, c0), (t1, c1) = stops[i - 1], stops[i]
    f = min(1.0, max(0.0, (t - t0) / (t1 - t0)))
    rgb = [rnd(a + (b - a) * f) for a, b in zip(c0, c1)]
    alpha = rnd(255 * min(1.0, 0.3 + 7 * t))
    v = 101 ** t - 1 if k > 0 else 1e-6
    print("%.9g %d %d %d %d" % (v, *rgb, alpha))
PY
gdaldem color-relief -q -alpha -co TILED=YES -co COMPRESS=DEFLATE "$PEER/mosaic.vrt" \
  "$PEER/colours.txt" "$PEER/relief.tif"

# The timed runs, interleaved so that both sides see the same machine; the best of each counts.
echo
echo "== zooms 0-8, $RUNS rounds: geoetl (_render_month, XYZ then PMTiles), then gdal2tiles"
best() { printf '%s\n' "$@" | sort -g | awk 'NR == 1'; }
xyz_times=() pmtiles_times=() peer_times=()
for ((round = 1; round <= RUNS; round++)); do
  rm -rf "$XYZ"
  read -r t xyz_result < <(render xyz)
  xyz_times+=("$t")
  read -r t pmtiles_result < <(render pmtiles)
  pmtiles_times+=("$t")
  rm -rf "$PEER/xyz"
  t0=$(now)
  gdal2tiles.py --xyz -z 0-8 --processes=2 -r average -w none -q "$PEER/relief.tif" "$PEER/xyz"
  peer_times+=("$(secs "$t0" "$(now)")")
  echo "round $round: geoetl xyz ${xyz_times[-1]} s, pmtiles ${pmtiles_times[-1]} s; gdal2tiles ${peer_times[-1]} s"
done
geoetl_xyz=$(best "${xyz_times[@]}") geoetl_pmtiles=$(best "${pmtiles_times[@]}") peer=$(best "${peer_times[@]}")
xyz_files=$(find "$XYZ" -name '*.png' | wc -l)
peer_files=$(find "$PEER/xyz" -name '*.png' | wc -l)
echo "geoetl xyz:     $xyz_files files ($xyz_result)"
echo "geoetl pmtiles: $pmtiles_result"
echo "gdal2tiles:     $peer_files files (it writes transparent tiles too; geoetl does not)"

echo
echo "== geoetl.tile(), zoom 8, $REPEAT calls in one warm backend"
# the zoom-8 tile with the most light: the largest file the job wrote
brightest=$(find "$XYZ/8" -name '*.png' -printf '%s %P\n' | sort -rn | awk 'NR == 1 { print $2 }')
x=${brightest%%/*} y=${brightest#*/} y=${y%.png}
stats=$(q -v x="$x" -v y="$y" -v n="$REPEAT" <<'SQL'
SET client_min_messages = warning;
CREATE TEMP TABLE tile_times (ms float8);
SET bench.n = :n;
SET bench.x = :x;
SET bench.y = :y;
SELECT md5(geoetl.tile('VNP46A3', '2024-01-01', 8, :x, :y)) AS first \gset
DO $$
DECLARE
  t0 timestamptz;
BEGIN
  FOR i IN 1 .. current_setting('bench.n')::int LOOP
    t0 := clock_timestamp();
    PERFORM geoetl.tile('VNP46A3', '2024-01-01', 8, current_setting('bench.x')::int,
                        current_setting('bench.y')::int);
    INSERT INTO tile_times VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END
$$;
SELECT format('%s %s %s', round(avg(ms)::numeric, 2),
              round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2), :'first')
  FROM tile_times;
SQL
)
read -r mean p95 tile_md5 <<<"$stats"
same=$([[ $tile_md5 == $(md5sum <"$XYZ/8/$brightest" | cut -d' ' -f1) ]] && echo same || echo DIFFERENT)
echo "tile 8/$x/$y: mean $mean ms, p95 $p95 ms (goal < 20); bytes $same as the job's file"

echo
echo "== summary (SIZE $SIZE, best of $RUNS)"
awk -v g="$geoetl_xyz" -v p="$geoetl_pmtiles" -v d="$peer" -v gf="$xyz_files" -v df="$peer_files" 'BEGIN {
  printf "geoetl xyz %.2f s (%d files), pmtiles %.2f s; gdal2tiles %.2f s (%d files)\n", g, gf, p, d, df
  printf "ratio gdal2tiles / geoetl: xyz %.2fx, pmtiles %.2fx (goal >= 3)\n", d / g, d / p
}'
echo "tile(): mean $mean ms, p95 $p95 ms (goal < 20)"
