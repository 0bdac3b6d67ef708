#!/usr/bin/env bash
# geoetl.zonal_stats over HTTP: geoetl's own checked reads (/vsigeoetl/, what every http(s)://
# source uses) against GDAL's /vsicurl/ (a superuser naming '/vsicurl/http://...'), measured in
# the same run against the same server (test/fixtures/http_server.py on 127.0.0.1).
#
#   make install && bench/zonal_remote.sh [CALLS]     (CALLS: 20 by default)
#
# Raster: the test fixture lights.tif (300x200 Float32, 64x64 tiles, DEFLATE, 203 KB); polygon:
# the whole raster (every tile is fetched). Each figure is the mean of CALLS calls:
#   new backend   one psql connection per call (backend start and extension load included,
#                 the same for both paths)
#   warm backend  CALLS calls in one session, each on a URL of its own (?i=N), so nothing
#                 is cached: every call opens the file and fetches every tile
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CALLS=${1:-20}
. bench/lib/setup.sh
cmake --build build --target geoetl_fixtures >/dev/null
bench_cluster
DATA=$(readlink -f "$GEOETL_PGDIR")/remote
mkdir -p "$DATA"
[[ -f $DATA/lights.tif ]] || build/geoetl_fixtures "$DATA"
rm -f "$DATA/http.port"
python3 test/fixtures/http_server.py "$DATA" "$DATA/http.port" &
HTTP_PID=$!
trap 'kill $HTTP_PID; scripts/pgcluster.sh stop >/dev/null' EXIT
for _ in $(seq 50); do [[ -f $DATA/http.port ]] && break; sleep 0.1; done
URL=http://127.0.0.1:$(cat "$DATA/http.port")/lights.tif
psql -X -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS geoetl CASCADE"
AREA="ST_MakeEnvelope(30, 0, 33, 2, 4326)"
same=$(psql -X -At -c "SELECT a.count = b.count AND a.sum = b.sum FROM geoetl.zonal_stats('$URL?check', $AREA) a, geoetl.zonal_stats('/vsicurl/$URL?check', $AREA) b")
[[ $same == t ]] || { echo "the two paths disagree" >&2; exit 1; }

ms_now() { date +%s%3N; }
for path in geoetl vsicurl; do
  prefix=; [[ $path == vsicurl ]] && prefix=/vsicurl/
  start=$(ms_now)
  for i in $(seq "$CALLS"); do
    psql -X -q -At -c "SELECT count FROM geoetl.zonal_stats('$prefix$URL?new=$i', $AREA)" >/dev/null
  done
  new=$(( ($(ms_now) - start) * 1000 / CALLS ))
  warm=$(psql -X -q -At 2>&1 <<SQL | sed -n 's/.*NOTICE: *//p'

SELECT count FROM geoetl.zonal_stats('$prefix$URL?warmup', $AREA) \g /dev/null
DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  FOR i IN 1..$CALLS LOOP
    PERFORM count FROM geoetl.zonal_stats('$prefix$URL?warm=' || i, $AREA);
  END LOOP;
  RAISE NOTICE '%', round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / $CALLS);
END \$\$;
SQL
  )
  printf '%-8s new backend %6.1f ms/call   warm backend %6.1f ms/call\n' "$path" \
    "$(echo "$new / 1000" | bc -l)" "$(echo "$warm / 1000" | bc -l)"
done
