#!/usr/bin/env bash
# Every C++ file of the project (sources, headers, tests, fixtures, benchmarks), one per line:
# what scripts/check.sh formats, so that no folder can be left out of the format check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
find src test bench -type f \( -name '*.cpp' -o -name '*.h' \) -not -path '*/node_modules/*' | sort
