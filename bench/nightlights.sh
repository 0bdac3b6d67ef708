#!/usr/bin/env bash
# One month of night lights at NASA's resolution, measured in one run on this machine.
#
#   bench/nightlights.sh [DAYS=30] [SIZE=2400]   (as root on Debian bookworm, like make check)
#
# Data: DAYS daily VNP46A2 granules of tile h21v08, SIZE pixels a side (NASA's: 2400), written
# by build/geoetl_blackmarble (chunked 240x240, DEFLATE; about 40 MB a file at 2400).
# Area: the whole tile, in exact coverage mode.
# 1. build/bench_nightlights: the composite and metrics (mean, median) against the time GDAL
#    needs only to read and decompress the four layers of every night (goal: mean <= 1.5x).
# 2. geoetl.nightlight_metrics in a backend of a cluster of its own: time, and peak memory above
#    the idle backend (VmHWM - VmRSS before; goal < 300 MB).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DAYS=${1:-30}
SIZE=${2:-2400}
. bench/lib/setup.sh
bench_build bench_nightlights geoetl_blackmarble
bench_cluster
DATA=$(readlink -f "$GEOETL_PGDIR")/nightlights-$DAYS-$SIZE
if [[ ! -f $DATA/.complete ]]; then
  echo "writing $DAYS daily granules of $SIZE x $SIZE pixels into $DATA ..."
  rm -rf "$DATA" && mkdir -p "$DATA"
  build/geoetl_blackmarble "$DATA" VNP46A2 2 h21v08 2024-01-01 "$DAYS" "$SIZE" 3
  touch "$DATA/.complete"
fi

echo "== kernel: composite + metrics vs reading the layers (build/bench_nightlights)"
build/bench_nightlights "$DATA" 2>"$DATA/bench.stderr"  # GDAL 3.6's HDF5 driver prints HDF5-DIAG noise

echo
echo "== in PostgreSQL: geoetl.nightlight_metrics, whole tile, January 2024"
psql -X -q -A -t -v ON_ERROR_STOP=1 -v dir="$DATA" <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS geoetl CASCADE;  -- this cluster's own: the installed version, fresh
CREATE EXTENSION geoetl CASCADE;
SELECT 'registered ' || geoetl.register_rasters('VNP46A2', :'dir') || ' granules';
SQL
for composite in mean median; do
  psql -X -q -v ON_ERROR_STOP=1 -v composite="$composite" <<'SQL'
SELECT pg_backend_pid() AS pid \gset
\set idle `grep VmRSS /proc/:pid/status | tr -dc 0-9`
SELECT clock_timestamp() AS t0 \gset
SELECT days_with_data, round(coverage::numeric, 4) AS coverage, round(sum_of_lights::numeric, 1) AS sum_of_lights
  FROM geoetl.nightlight_metrics(ST_MakeEnvelope(30, 0, 40, 10, 4326), '2024-01-01',
                                 options => jsonb_build_object('composite', :'composite')) \gset
\set hwm `grep VmHWM /proc/:pid/status | tr -dc 0-9`
SELECT format('%-6s %s nights, coverage %s, sum of lights %s: %s s, peak %s MB above the idle backend (goal < 300)',
              :'composite', :days_with_data, :coverage, :sum_of_lights,
              round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 2), (:hwm - :idle) / 1024) AS result;
SQL
done
