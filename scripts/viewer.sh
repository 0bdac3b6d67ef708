#!/usr/bin/env bash
# The night-light map viewer: builds the page into build/viewer, exports its data from the
# database, and serves both with the store's tiles on 127.0.0.1.
#
#   scripts/viewer.sh [--port N] [--product VNP46A2] [--no-serve]
#
# Exports, by psql into the cluster of scripts/pgcluster.sh (the demo's, in .pgdata/, unless
# GEOETL_PGDIR says otherwise):
#   build/viewer/data/viewer.json         SELECT geoetl.viewer_manifest(product)
#   build/viewer/data/areas.geojson       SELECT geoetl.areas_geojson(product)
#   build/viewer/data/series/<id>.json    SELECT geoetl.nightlight_series(id, product), per area
# then serves build/viewer at / and the store folder (geoetl.store when it is a local folder,
# else the data directory's geoetl_store) at /store/ with viewer/serve.mjs, and prints its URL.
# --port 0 (the default) picks a free port; --no-serve stops after the export. Ctrl-C stops it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PORT=0
PRODUCT=VNP46A2
SERVE=1
die() { echo "viewer: $*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --port) [[ $# -ge 2 ]] || die "--port needs a value"; PORT=$2; shift 2 ;;
    --product) [[ $# -ge 2 ]] || die "--product needs a value"; PRODUCT=$2; shift 2 ;;
    --no-serve) SERVE=0; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (usage: $0 [--port N] [--product VNP46A2] [--no-serve])" ;;
  esac
done
[[ $PORT =~ ^[0-9]+$ ]] || die "--port must be a number"
[[ $PRODUCT =~ ^[A-Za-z0-9_]+$ ]] || die "--product must be a product name such as VNP46A2"

OUT=$ROOT/build/viewer
viewer/build.sh "$OUT"
cp viewer/legend.png "$OUT/legend.png"

scripts/pgcluster.sh start >/dev/null
PSQL=(scripts/pgcluster.sh psql -X -A -t -q -v ON_ERROR_STOP=1 -v "product=$PRODUCT")
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT
# The SQL on stdin (psql variables work there, not in -c); its errors and notices go to $ERR.
sql() { "${PSQL[@]}" -f - 2>"$ERR"; }
sql_failed() {
  echo "viewer: $1 failed:" >&2
  sed 's/^/  /' "$ERR" >&2
  echo "viewer: is the cluster up with geoetl and its data? (make demo; scripts/pgcluster.sh status)" >&2
  exit 1
}

# The store folder: geoetl.store when set to a local folder, else <data directory>/geoetl_store.
STORE=$(sql <<'SQL'
SELECT coalesce(nullif(current_setting('geoetl.store', true), ''),
                current_setting('data_directory') || '/geoetl_store');
SQL
) || sql_failed "reading geoetl.store"
[[ $STORE == /* ]] || die "the store is $STORE: the viewer serves tiles from a local folder only"
[[ -d $STORE ]] || die "no store folder $STORE (has the demo run? make demo)"

DATA=$OUT/data
rm -rf "$DATA.new"
mkdir -p "$DATA.new/series"
export_json() {  # FILE SQL: one JSON value, checked to parse
  local out
  out=$(sql <<<"$2") || sql_failed "$2"
  [[ -n $out ]] || die "$2 returned nothing (NULL)"
  printf '%s\n' "$out" >"$1"
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$1" 2>/dev/null \
    || die "$2 returned something that is not JSON (see $1)"
}
export_json "$DATA.new/viewer.json" "SELECT geoetl.viewer_manifest(:'product');"
export_json "$DATA.new/areas.geojson" "SELECT geoetl.areas_geojson(:'product');"
IDS=$(sql <<'SQL'
SELECT f->>'id' FROM json_array_elements(geoetl.areas_geojson(:'product')::json->'features') AS f;
SQL
) || sql_failed "listing the areas"
n=0
for id in $IDS; do
  [[ $id =~ ^[0-9]+$ ]] || die "area id $id is not a number"
  export_json "$DATA.new/series/$id.json" "SELECT geoetl.nightlight_series($id, :'product');"
  n=$((n + 1))
done
rm -rf "$DATA"
mv "$DATA.new" "$DATA"
months=$(node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).months
console.log(Array.isArray(m) ? m.length : 0)' "$DATA/viewer.json")
echo "viewer: exported $PRODUCT: $months month(s) of tiles, $n area(s), into $DATA"
echo "viewer: tiles from the store folder $STORE"
[[ $SERVE -eq 1 ]] || exit 0

echo "viewer: serving until Ctrl-C"
rm -f "$ERR"
exec node viewer/serve.mjs --root "$OUT" --store "$STORE" --port "$PORT"
