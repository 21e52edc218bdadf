#!/usr/bin/env bash
# README command 2: set up (idempotent), lint, then every test suite against a real Temporal dev
# server (started by jest on a free port, or TEMPORAL_TEST_ADDRESS) and a real PostgreSQL test
# database (TEST_DATABASE_URL, default switchyard_test, created when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/switchyard_test}"
DATABASE_URL="$TEST_DATABASE_URL" scripts/setup.sh --database-only
echo "[test] eslint"
npx eslint .
echo "[test] jest"
# --forceExit: a worker that cannot shut down after a failed suite must not keep the run waiting.
npx jest --forceExit "$@"
