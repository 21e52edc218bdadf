#!/usr/bin/env bash
# Idempotent set-up, used by `npm start`, `npm test` and .ci/run. Each step is skipped when done:
#   1. npm dependencies (npm ci)            3. TypeScript build (dist/), console build (dist/console)
#   2. pinned Temporal CLI in .tools/bin    4. PostgreSQL migrations (database created if missing) and,
#   (promtool, amtool, chromium: see below)    when a Temporal server answers, search attributes
# Arguments are passed to step 4 (--database-only skips the search attributes).
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_CLI_VERSION=v1.5.1
TOOLS_BIN="$PWD/.tools/bin"
say() { echo "[setup] $*"; }

if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
else
  say "npm dependencies up to date"
fi

if [ -x "$TOOLS_BIN/temporal" ] && [ "$(cat "$TOOLS_BIN/temporal.version" 2>/dev/null)" = "$TEMPORAL_CLI_VERSION" ]; then
  say "Temporal CLI $TEMPORAL_CLI_VERSION already in .tools/bin"
else
  command -v go >/dev/null || { say "Go is needed to build the Temporal CLI (go install); install Go 1.23+ and retry"; exit 1; }
  say "building Temporal CLI $TEMPORAL_CLI_VERSION with go install; the first build takes several minutes..."
  mkdir -p "$TOOLS_BIN"
  started=$(date +%s)
  ( while sleep 30; do say "  still building the Temporal CLI ($(( $(date +%s) - started ))s)"; done ) &
  ticker=$!
  trap 'kill $ticker 2>/dev/null || true' EXIT
  GOBIN="$TOOLS_BIN" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  kill $ticker 2>/dev/null || true
  trap - EXIT
  echo "$TEMPORAL_CLI_VERSION" > "$TOOLS_BIN/temporal.version"
  say "Temporal CLI built in $(( $(date +%s) - started ))s"
fi

# A Debian tool some tests use, installed only when missing and apt-get can run (as root; one
# retry after apt-get update). Without it those tests are skipped with a message; nothing else
# depends on it.  ensure_debian_tool <command> <package> <version command> <what is skipped>
ensure_debian_tool() {
  local tool=$1 package=$2 version=$3 skipped=$4
  # The first line of its version on stdout (stderr only when stdout is empty: chromium's wrapper warns there).
  version_of() { local v; v=$($version 2>/dev/null | head -n 1); [ -n "$v" ] || v=$($version 2>&1 | head -n 1); echo "$v"; }
  if command -v "$tool" >/dev/null; then
    say "$tool present ($(version_of))"
    return 0
  fi
  if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
    say "$tool missing and not installable here (needs apt-get as root); $skipped will be skipped"
    return 0
  fi
  say "installing $tool: apt-get install -y --no-install-recommends $package"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package" >/dev/null; then
    say "  retrying after apt-get update"
    (apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package" >/dev/null) \
      || say "  could not install the $package package; $skipped will be skipped"
  fi
  if command -v "$tool" >/dev/null; then say "$tool installed ($(version_of))"; fi
}

# promtool (Debian `prometheus`) checks ops/prometheus.yml and ops/alert-rules.yml in the test suite.
ensure_debian_tool promtool prometheus "promtool --version" "the promtool checks"
# amtool (Debian `prometheus-alertmanager`) checks ops/alertmanager.yml in the test suite.
ensure_debian_tool amtool prometheus-alertmanager "amtool --version" "the amtool check"
# Chromium runs the console's browser tests (test/browser, driven by playwright-core).
ensure_debian_tool chromium chromium "chromium --version" "the browser tests"

say "compiling TypeScript"
npx tsc -p tsconfig.json

# The operator console (console/, served at /console): built with Vite into dist/console/ when a
# source is newer than the build.
if [ ! -f dist/console/index.html ] || [ -n "$(find console -newer dist/console/index.html -type f -print -quit)" ]; then
  say "building the console (vite build console → dist/console)"
  npx vite build console --logLevel warn
else
  say "console build up to date"
fi

node dist/scripts/prepare.js "$@"
