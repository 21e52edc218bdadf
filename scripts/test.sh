#!/usr/bin/env bash
# README command 2: set up (idempotent), lint, then every test suite against a real Temporal dev
# server (started by jest on a free port, or TEMPORAL_TEST_ADDRESS) and a real PostgreSQL test
# database (TEST_DATABASE_URL, default switchyard_test, created when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/switchyard_test}"
DATABASE_URL="$TEST_DATABASE_URL" scripts/setup.sh --database-only
# ESLint (type-aware: about a minute of CPU) runs beside jest at low priority, in the time jest's
# suites spend waiting on timers and servers; its verdict and any findings come after jest's.
echo "[test] eslint, beside jest at nice 10"
lint_log=$(mktemp)
nice -n 10 npx eslint . > "$lint_log" 2>&1 &
lint=$!
echo "[test] jest"
status=0
# --forceExit: a worker that cannot shut down after a failed suite must not keep the run waiting.
npx jest --forceExit "$@" || status=$?
if wait "$lint"; then
  echo "[test] eslint: clean"
else
  echo "[test] eslint failed:"
  cat "$lint_log"
  status=1
fi
rm -f "$lint_log"
exit "$status"
