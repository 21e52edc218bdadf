#!/usr/bin/env bash
# The fault suite (docs/RELIABILITY.md): webhooks with duplicates and bad signatures sent
# while the worker, the Temporal dev server and PostgreSQL are killed and restarted, then an
# exactly-once check on Temporal and PostgreSQL. It starts its own PostgreSQL cluster and dev
# server (temporary directory, free ports), so the shared ones are never touched.
#   scripts/test-faults.sh [--events=10000] [--duplicates=0.2] [--bad=0.01] [--faults=...] ...
#   scripts/test-faults.sh --mode=burst --events=800   (unpaced, 64 in flight, the API SIGKILLed too)
# Results: a table ending with a COUNTS line on stdout, test-artifacts/faults.json, logs in
# test-artifacts/faults-logs/ (burst mode: faults-burst.json, faults-burst-logs/).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
[ -x .tools/bin/temporal ] || scripts/setup.sh
# Build when dist/ is missing or older than any TypeScript source it is built from.
if [ ! -f dist/test/faults/run.js ] || [ -n "$(find api activities workflows workers lib db scripts test -name '*.ts' -newer dist/test/faults/run.js -print -quit)" ]; then
  echo "[faults] building dist/"
  npx tsc -p tsconfig.json
fi
exec node dist/test/faults/run.js "$@"
