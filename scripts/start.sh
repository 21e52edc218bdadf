#!/usr/bin/env bash
# README command 1: set up (idempotent), then run the Temporal dev server (unless one already
# answers at TEMPORAL_ADDRESS), the worker and the API until Ctrl-C / SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec node dist/scripts/run-system.js
