#!/usr/bin/env bash
# Determinism check (CI's second step): the whole integration suite again with the worker's sticky
# cache off (WORKER_MAX_CACHED_WORKFLOWS=0), so every activation replays its run's history from the
# start and every query replays it too. Run after `npm test` (it uses what the set-up made).
#
# The suite's Temporal dev server gets 2 s workflow tasks (TEST_WORKFLOW_TASK_TIMEOUT, read by
# test/support/global-setup.ts). With no cache, the SDK (1.24) evicts a run after every activation,
# also while one of its local activities is in flight: that task's completion is lost (core logs
# "Tried to complete untracked local activity") and the server retries the task after its timeout.
# At the default 10 s, each such loss costs 10 s and a workflow can take a minute, beyond the
# suites' waits; at 2 s the same runs finish within them. Short tasks also make the SDK complete a
# task that waits on a local activity at its heartbeat (1.6 s), splitting tasks as production load
# can. test/replay/burst.test.ts, in `npm test`, replays every history of every workflow type so.
# The harness's waits and jest's test timeout are three times longer here (waitScale in
# test/support/harness.ts): slower, never different.
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/switchyard_test}"
export WORKER_MAX_CACHED_WORKFLOWS=0
export TEST_WORKFLOW_TASK_TIMEOUT="${TEST_WORKFLOW_TASK_TIMEOUT:-2s}"
# Suites that start no worker (adapters against the fakes, documents, configuration) would run
# exactly as in `npm test`; they are left out. A suite that starts one is in, whatever its name, but
# for the few whose subject is the HTTP or command-line surface (input fuzzing, prototype names,
# the role table, signature schemes, hardening, outbound address policy, metric names, the CLI):
# the workflows they start are the webhook and provider-call workflows the durable-path suites run
# here anyway, and they made a quarter of this step's time.
surface=(cli fuzz prototype-keys access webhook-schemes webhook-hardening ssrf ops-metric-names)
left_out=("${surface[@]}")
for suite in test/integration/*.test.ts; do
  grep -q "startStack\|startWorker\|createWorker\|Worker.create" "$suite" || left_out+=("$(basename "$suite" .test.ts)")
done
ignore="/($(IFS='|'; echo "${left_out[*]}"))\\.test\\.ts\$"
echo "[test:cache-off] the integration suite with WORKER_MAX_CACHED_WORKFLOWS=0 and ${TEST_WORKFLOW_TASK_TIMEOUT} workflow tasks, but for the $(( ${#left_out[@]} - ${#surface[@]} )) suites that start no worker and the ${#surface[@]} surface suites (${surface[*]})"
# --forceExit: a suite whose worker cannot shut down (a failed suite's afterAll timing out) must not
# keep jest, and CI, waiting after the results are in; one CI run hung so until its time limit.
mkdir -p test-artifacts
report=test-artifacts/cache-off.json
# Two suites at a time, as in npm test. This step mostly waits (task timeouts, the longer waits),
# and three at a time left the machine 40-70 % idle and once took 324 s; but in a clean-clone
# rehearsal, under the extra load, google-sheets' batch enqueues answered 503 (update-with-start
# not acknowledged: api/start-failure.ts) and the suite hung to its timeout, which cost more than
# it saved.
# The ignore pattern last: jest's array options take every argument after them.
if npx jest --forceExit --json "--outputFile=$report" "$@" test/integration "--testPathIgnorePatterns=$ignore"; then
  exit 0
fi
# A suite that failed runs once more, on its own; CI fails if it fails again. With no cache, the
# SDK's lost local-activity completions (above) cost a task timeout each, and on a loaded 2-core
# machine a few such losses can add up past one of a suite's waits. The log names every rerun suite
# (and test-artifacts/cache-off.json keeps the first run's failures), so a flake stays visible.
mapfile -t failed < <(node -e '
  const report = require(require("path").resolve(process.argv[1]));
  for (const r of report.testResults) if (r.status !== "passed") console.log(r.name);
' "$report")
if [ "${#failed[@]}" -eq 0 ] || [ "${#failed[@]}" -gt 3 ]; then
  echo "[test:cache-off] ${#failed[@]} suites failed; not rerun (a rerun is for at most 3)"
  exit 1
fi
echo "[test:cache-off] rerunning once, on their own: ${failed[*]}"
npx jest --forceExit "$@" --runTestsByPath "${failed[@]}"
