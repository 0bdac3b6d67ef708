#!/usr/bin/env bash
# The Green Button (ESPI) test server, test/fixtures/espi_server.py, on a port of its own: bearer
# tokens, published-min/max selecting IntervalBlocks (the reference implementation's rule), the
# server's clock, each fault, the request log; and, when ../shared is present, the sample files'
# reading counts from ../shared/data/espi/README.md. Needs no cluster. Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
exec python3 "$ROOT/test/fixtures/espi_server_test.py"
