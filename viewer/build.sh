#!/usr/bin/env bash
# Builds the viewer page into OUT_DIR (e.g. build/viewer): installs viewer/'s npm packages from
# the lockfile (npm ci), then copies the page, the legend, Leaflet's dist (js, css, images) and
# pmtiles' plain-script browser bundle, so the folder works offline. OUT_DIR's data/ and store
# links are left alone (scripts/viewer.sh writes those).
#
#   viewer/build.sh OUT_DIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -eq 1 ]] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT=$1

command -v npm >/dev/null || { echo "viewer/build.sh: npm not found: run scripts/install-deps.sh" >&2; exit 1; }
# npm ci again only when the lockfile changed since the last install
STAMP=$HERE/node_modules/.geoetl-lock
if ! cmp -s "$HERE/package-lock.json" "$STAMP" 2>/dev/null; then
  LOG=$(mktemp)
  if ! (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >"$LOG" 2>&1); then
    cat "$LOG" >&2; rm -f "$LOG"
    echo "viewer/build.sh: npm ci failed" >&2; exit 1
  fi
  rm -f "$LOG"
  cp "$HERE/package-lock.json" "$STAMP"
fi

mkdir -p "$OUT/lib/leaflet/images" "$OUT/lib/pmtiles"
cp "$HERE/index.html" "$HERE/viewer.js" "$HERE/viewer.css" "$HERE/legend.png" "$OUT/"
LEAFLET=$HERE/node_modules/leaflet/dist
cp "$LEAFLET/leaflet.js" "$LEAFLET/leaflet.js.map" "$LEAFLET/leaflet.css" "$OUT/lib/leaflet/"
cp "$LEAFLET"/images/*.png "$OUT/lib/leaflet/images/"
cp "$HERE/node_modules/pmtiles/dist/pmtiles.js" "$OUT/lib/pmtiles/"
cp "$HERE/node_modules/leaflet/LICENSE" "$OUT/lib/leaflet/LICENSE"
cp "$HERE/node_modules/pmtiles/LICENSE" "$OUT/lib/pmtiles/LICENSE" 2>/dev/null || true
echo "viewer/build.sh: page built in $OUT"
