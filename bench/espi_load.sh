#!/usr/bin/env bash
# Green Button readings into PostgreSQL: geoetl parsing raw ESPI files and loading them into
# geoetl.energy_reading, against COPY ... FROM loading the same rows as CSV into the same table
# (the fastest way into PostgreSQL), measured in one run on one cluster.
#
#   bench/espi_load.sh [USAGE_POINTS=1000] [FILES=10]   (as root on Debian bookworm, like make check)
#
# Data: FILES feeds of USAGE_POINTS / FILES usage points each, a year of 15-minute readings per
# usage point in the Green Button samples' shape (build/bench_espi --write: cost and the samples'
# comment in every timePeriod), put in the store as espi/raw/bench<i>_up_0.xml. The issue's size,
# 1,000 usage points, is 35 M readings and about 7.8 GB of XML (mind the disk).
# geoetl: SELECT geoetl._espi_load(key, ...) once per file (a project of its own each), one
# transaction each, into the empty
# table: both parser passes, the batched INSERT ... ON CONFLICT, the primary key maintained.
# COPY: the loaded rows written to one CSV file (not timed), the table truncated, then
# COPY geoetl.energy_reading FROM that file, into the same table with the same primary key.
# Checks: the same number of rows and the same total after each. Timings never fail the script.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
UPS=${1:-1000}
FILES=${2:-10}
((UPS >= FILES && UPS % FILES == 0)) || { echo "USAGE_POINTS must be a multiple of FILES" >&2; exit 2; }
. bench/lib/setup.sh
bench_build bench_espi
bench_cluster
DATA=$(readlink -f "$GEOETL_PGDIR")/bench
STORE=$DATA/espi-store
mkdir -p "$STORE/espi/raw"
chmod -R a+rwX "$DATA"
export PGOPTIONS="-c geoetl.store=$STORE"
per_file=$((UPS / FILES))
for ((i = 0; i < FILES; i++)); do
  f=$STORE/espi/raw/bench${i}_up_0.xml  # kept for the next run of the same size
  [[ -f $f && $(cat "$f.ups" 2>/dev/null) == "$per_file" ]] || { build/bench_espi --usage-points="$per_file" --write "$f" && echo "$per_file" >"$f.ups"; }
done
bytes=$(du -cb "$STORE"/espi/raw/bench*_up_0.xml | tail -1 | cut -f1)
echo "data: $FILES files x $per_file usage points x 365 days of 15-minute readings, $((bytes / 1000000)) MB of XML"

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION IF NOT EXISTS geoetl CASCADE;
TRUNCATE geoetl.energy_reading;
CHECKPOINT;
SQL
now() { date +%s.%N; }
# the backend's private peak memory after loading a file (VmHWM less the shared buffers it mapped,
# RssShmem): the first timed file, and one of a single usage point
load() { psql -X -q -At -v ON_ERROR_STOP=1 -c "SELECT geoetl._espi_load('espi/raw/$1', NULL, '$2', 0, now()) IS NOT NULL" \
              -c "SELECT (regexp_match(s, 'VmHWM:\\s+(\\d+)'))[1]::int - (regexp_match(s, 'RssShmem:\\s+(\\d+)'))[1]::int
                  FROM pg_read_file('/proc/self/status') s" | tail -1; }
t0=$(now)
peak_big=$(load bench0_up_0.xml bench0)
for ((i = 1; i < FILES; i++)); do load "bench${i}_up_0.xml" "bench${i}" >/dev/null; done
t1=$(now)
[[ -f $STORE/espi/raw/small_up_0.xml ]] || build/bench_espi --usage-points=1 --write "$STORE/espi/raw/small_up_0.xml"
peak_small=$(load small_up_0.xml small)
psql -X -q -c "DELETE FROM geoetl.energy_reading WHERE project_id = 'small'"
read -r rows total < <(psql -X -At -F ' ' -c "SELECT count(*), sum(value) FROM geoetl.energy_reading")
CSV=$DATA/energy_reading.csv
psql -X -q -c "COPY geoetl.energy_reading TO '$CSV' (FORMAT csv)"
psql -X -q -c "TRUNCATE geoetl.energy_reading"
psql -X -q -c "CHECKPOINT"
t2=$(now)
psql -X -q -c "COPY geoetl.energy_reading FROM '$CSV' (FORMAT csv)"
t3=$(now)
read -r rows2 total2 < <(psql -X -At -F ' ' -c "SELECT count(*), sum(value) FROM geoetl.energy_reading")
rm -f "$CSV"
[[ $rows == "$rows2" && $total == "$total2" ]] || { echo "the two loads differ: $rows/$total vs $rows2/$total2" >&2; exit 1; }
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v n="$rows" 'BEGIN {
  g = t1 - t0; c = t3 - t2
  printf "rows: %d (the same rows and total both ways)\n", n
  printf "geoetl._espi_load (parse + load)   %8.1f s  %6.0f k rows/s\n", g, n / g / 1000
  printf "COPY ... FROM csv                  %8.1f s  %6.0f k rows/s\n", c, n / c / 1000
  printf "ratio geoetl / COPY: %.2f (goal: at most 1.5)\n", g / c
}'
echo "backend private peak memory (VmHWM - RssShmem) loading one file: $((peak_small / 1024)) MiB for 1 usage point, $((peak_big / 1024)) MiB for $per_file"
