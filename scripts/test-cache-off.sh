#!/usr/bin/env bash
# Determinism check (CI's second step): integration suites of the durable paths (webhooks,
# operator retries, bookings with failover, a probe's re-run, retention) again with
# the worker's sticky cache off, so every workflow task replays its history from the start. Run
# after `npm test` (it uses what the set-up made). test/replay/burst.test.ts, in `npm test`, covers
# every workflow type so; this step runs the suites' own assertions so too. Not every suite: with no
# cache the SDK evicts runs while local activities are in flight (they are dropped and run again,
# and core reports its own bug on such an eviction), which makes some suites minutes slower and
# their time limits meaningless: batches (update-with-start), subscribers (a replayed delivery
# once took over 30 s), and monitoring, whose exact counts (one probe row per probe, one SMS per
# critical alert) a re-run local activity or activity retry breaks (seen in a clean-clone CI run).
# Every workflow type runs with no cache in the burst test instead, whose histories must all replay.
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/switchyard_test}"
export WORKER_MAX_CACHED_WORKFLOWS=0
echo "[test:cache-off] integration suites with WORKER_MAX_CACHED_WORKFLOWS=0"
npx jest "$@" \
  test/integration/stripe-webhook.test.ts \
  test/integration/webhook-operator.test.ts \
  test/integration/payment-failover.test.ts \
  test/integration/probe-rerun.test.ts \
  test/integration/retention.test.ts
