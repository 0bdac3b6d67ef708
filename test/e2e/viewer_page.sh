#!/usr/bin/env bash
# The viewer page on fabricated data, no database: builds the page (viewer/build.sh), makes the
# fixture (viewer/fixture/fixture.sh: XYZ months and a .pmtiles month, two areas, their series),
# serves it with viewer/serve.mjs on 127.0.0.1 and runs the browser check
# (test/e2e/lib/viewer_check.mjs, Debian's chromium), then the same page with no data/ (it must
# say so), then the server's own tests (node --test viewer/test/). Screenshots in build/viewer-page-test/shots/. TAP on stdout; exits non-zero on failure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
WORK=$ROOT/build/viewer-page-test
rm -rf "$WORK"
mkdir -p "$WORK"
SERVER=
stop_server() {
  if [[ -n $SERVER ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  SERVER=
}
trap stop_server EXIT
serve() {  # ROOT [STORE]: starts the server, sets URL
  : >"$WORK/serve.out"
  node viewer/serve.mjs --root "$1" ${2:+--store "$2"} --port 0 >"$WORK/serve.out" 2>&1 &
  SERVER=$!
  local i
  for ((i = 0; i < 100; i++)); do
    URL=$(sed -n 's/^viewer: //p' "$WORK/serve.out")
    [[ -n $URL ]] && return 0
    sleep 0.1
  done
  cat "$WORK/serve.out" >&2
  echo "viewer_page: the server did not start" >&2
  exit 1
}

viewer/build.sh "$WORK/page" >&2
viewer/fixture/fixture.sh "$WORK/fixture" >&2
cp -r "$WORK/fixture/data" "$WORK/page/data"
serve "$WORK/page" "$WORK/fixture/store"
# The two runs' TAP as one stream: numbered on, one plan at the end.
n=0
status=0
check_page() {  # SHOTS CHECKS.json
  local out rc=0
  out=$(node test/e2e/lib/viewer_check.mjs "$URL" "$1" "$2") || rc=1
  [[ $rc -eq 0 ]] || status=1
  while IFS= read -r line; do
    if [[ $line =~ ^(not\ )?ok\ [0-9]+\ (.*)$ ]]; then
      n=$((n + 1)); echo "${BASH_REMATCH[1]}ok $n ${BASH_REMATCH[2]}"
    elif [[ ! $line =~ ^1\.\.[0-9]+$ ]]; then
      echo "$line"
    fi
  done <<<"$out"
}
check_page "$WORK/shots" "$WORK/fixture/checks.json"
stop_server

rm -rf "$WORK/page/data"
echo '{"expect_message": true}' >"$WORK/no-data.json"
serve "$WORK/page"
check_page "$WORK/shots-no-data" "$WORK/no-data.json"
stop_server

# the server alone: ranges, 416, path traversal, symlinks leaving the root (viewer/test/)
n=$((n + 1))
if node --test viewer/test/ >"$WORK/server-tests.log" 2>&1; then
  echo "ok $n - the viewer's server passes its tests (node --test viewer/test/)"
else
  echo "not ok $n - the viewer's server passes its tests (node --test viewer/test/)"
  sed 's/^/# /' "$WORK/server-tests.log"
  status=1
fi
echo "1..$n"
exit $status
