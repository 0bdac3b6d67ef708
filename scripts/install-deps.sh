#!/usr/bin/env bash
# Install everything geoetl needs to build, run and test, from Debian bookworm's archive only.
# Idempotent: packages already present are left alone; safe to run on every `make demo/check`.
set -euo pipefail

PACKAGES=(
  # build
  build-essential g++ make cmake pkg-config git clang-format
  # PostgreSQL 15 server, headers, PostGIS (+ raster, scripts, raster2pgsql), pg_cron, pgTAP
  postgresql-15 postgresql-client-15 postgresql-server-dev-15
  postgresql-15-postgis-3 postgresql-15-postgis-3-scripts postgis
  postgresql-15-cron postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
  # core libraries
  libgdal-dev gdal-bin libproj-dev libcurl4-openssl-dev libssl-dev openssl libhdf5-dev libxml2-dev
  libdeflate-dev
  # core tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # scripts and test servers (HTTP: python3; S3-compatible: s3rver on node, from npm)
  util-linux procps iproute2 python3 nodejs
  # validating datapackage.json against the Data Package JSON Schema (test/e2e/package.sh)
  python3-jsonschema
  # browser test of the viewer page (test/e2e/lib/viewer_check.mjs: puppeteer-core drives it)
  chromium python3-gdal python3-numpy
)

# npm ships inside some nodejs builds and separately in Debian's
need_npm() { ! command -v npm >/dev/null 2>&1; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

need_npm && [[ " ${missing[*]} " != *" nodejs "* ]] && missing+=(npm)

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0)" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
if need_npm; then apt-get install -y -q --no-install-recommends npm; fi
echo "install-deps: done"
