#!/usr/bin/env bash
# A Temporal server with PostgreSQL persistence on this machine, without Docker: the same server
# docker-compose.yml runs, built from its Go module, for running Switchyard and its suites against
# PostgreSQL instead of the dev server's SQLite. Every step is idempotent and skipped when done:
#   1. build the server and its SQL tool (go install, pinned) into the git-ignored .tools/temporal-server/bin
#   2. create the databases and set up / update their schemas from the module's schema/postgresql/v12
#   3. start the server (config: ops/temporal-postgres/, state and log: .data/temporal-postgres/),
#      wait until its frontend answers, create the namespace and register the search attributes
#
#   scripts/temporal-postgres.sh start            steps 1-3, server in the background; prints its address
#   scripts/temporal-postgres.sh run              the same, in the foreground until Ctrl-C / SIGTERM
#   scripts/temporal-postgres.sh stop             stops the server this script started
#   scripts/temporal-postgres.sh status           is it running, where
#   scripts/temporal-postgres.sh test [jest args] start, run the suites against it (default:
#                                                 test/integration test/replay), stop; exits with jest's code
#   scripts/temporal-postgres.sh build | schema   step 1 only | steps 1-2
#   scripts/temporal-postgres.sh drop             stops the server and drops its two databases
#
# Environment (defaults in brackets): TEMPORAL_PG_PORT [7433] frontend gRPC; the other services
# take the next ports (history +1, matching +2, worker +3, frontend HTTP +4, membership +10..+13,
# metrics +20), each overridable (see ops/temporal-postgres/config.yaml); TEMPORAL_PG_DB
# [temporal_pg], TEMPORAL_PG_VISIBILITY_DB [temporal_pg_visibility], TEMPORAL_PG_DB_HOST
# [127.0.0.1], TEMPORAL_PG_DB_PORT [5432], TEMPORAL_PG_DB_USER [postgres], TEMPORAL_PG_DB_PASSWORD
# [none], TEMPORAL_PG_NAMESPACE [default], TEMPORAL_PG_LOG_LEVEL [warn]; `test` also uses
# TEST_DATABASE_URL [postgres://postgres@127.0.0.1:5432/switchyard_test_pg], its own database so it
# can run next to `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_SERVER_VERSION=v1.31.2
GO_MIN_VERSION=1.26.4   # the go directive of go.temporal.io/server v1.31.2's go.mod
SERVER_MODULE=go.temporal.io/server
TOOLS_DIR="$PWD/.tools/temporal-server/bin"
SERVER_BIN="$TOOLS_DIR/temporal-server"
SQL_TOOL="$TOOLS_DIR/temporal-sql-tool"
TEMPORAL_CLI="$PWD/.tools/bin/temporal"
STATE_DIR="$PWD/.data/temporal-postgres"
PID_FILE="$STATE_DIR/server.pid"
LOG_FILE="$STATE_DIR/server.log"

export TEMPORAL_PG_PORT="${TEMPORAL_PG_PORT:-7433}"
export TEMPORAL_PG_HISTORY_PORT="${TEMPORAL_PG_HISTORY_PORT:-$((TEMPORAL_PG_PORT + 1))}"
export TEMPORAL_PG_MATCHING_PORT="${TEMPORAL_PG_MATCHING_PORT:-$((TEMPORAL_PG_PORT + 2))}"
export TEMPORAL_PG_WORKER_PORT="${TEMPORAL_PG_WORKER_PORT:-$((TEMPORAL_PG_PORT + 3))}"
export TEMPORAL_PG_HTTP_PORT="${TEMPORAL_PG_HTTP_PORT:-$((TEMPORAL_PG_PORT + 4))}"
export TEMPORAL_PG_FRONTEND_MEMBERSHIP_PORT="${TEMPORAL_PG_FRONTEND_MEMBERSHIP_PORT:-$((TEMPORAL_PG_PORT + 10))}"
export TEMPORAL_PG_HISTORY_MEMBERSHIP_PORT="${TEMPORAL_PG_HISTORY_MEMBERSHIP_PORT:-$((TEMPORAL_PG_PORT + 11))}"
export TEMPORAL_PG_MATCHING_MEMBERSHIP_PORT="${TEMPORAL_PG_MATCHING_MEMBERSHIP_PORT:-$((TEMPORAL_PG_PORT + 12))}"
export TEMPORAL_PG_WORKER_MEMBERSHIP_PORT="${TEMPORAL_PG_WORKER_MEMBERSHIP_PORT:-$((TEMPORAL_PG_PORT + 13))}"
export TEMPORAL_PG_METRICS_PORT="${TEMPORAL_PG_METRICS_PORT:-$((TEMPORAL_PG_PORT + 20))}"
export TEMPORAL_PG_DB="${TEMPORAL_PG_DB:-temporal_pg}"
export TEMPORAL_PG_VISIBILITY_DB="${TEMPORAL_PG_VISIBILITY_DB:-temporal_pg_visibility}"
export TEMPORAL_PG_DB_HOST="${TEMPORAL_PG_DB_HOST:-127.0.0.1}"
export TEMPORAL_PG_DB_PORT="${TEMPORAL_PG_DB_PORT:-5432}"
export TEMPORAL_PG_DB_USER="${TEMPORAL_PG_DB_USER:-postgres}"
export TEMPORAL_PG_DB_PASSWORD="${TEMPORAL_PG_DB_PASSWORD:-}"
export TEMPORAL_PG_LOG_LEVEL="${TEMPORAL_PG_LOG_LEVEL:-warn}"
export TEMPORAL_PG_DYNAMIC_CONFIG="${TEMPORAL_PG_DYNAMIC_CONFIG:-$PWD/ops/temporal-postgres/dynamicconfig.yaml}"
CONFIG_FILE="${TEMPORAL_PG_CONFIG:-$PWD/ops/temporal-postgres/config.yaml}"
NAMESPACE="${TEMPORAL_PG_NAMESPACE:-default}"
ADDRESS="127.0.0.1:$TEMPORAL_PG_PORT"

say() { echo "[temporal-postgres] $*"; }
fail() { say "$*" >&2; exit 1; }

# --- 1. build ---------------------------------------------------------------------------------
build_server() {
  if [ -x "$SERVER_BIN" ] && [ -x "$SQL_TOOL" ] \
    && [ "$(cat "$TOOLS_DIR/temporal-server.version" 2>/dev/null)" = "$TEMPORAL_SERVER_VERSION" ]; then
    say "Temporal server $TEMPORAL_SERVER_VERSION already in .tools/temporal-server/bin"
    return
  fi
  command -v go >/dev/null || fail "Go is needed to build the Temporal server (go install); install Go $GO_MIN_VERSION or later and retry"
  say "building Temporal server $TEMPORAL_SERVER_VERSION and its SQL tool with go install; the first build takes several minutes..."
  mkdir -p "$TOOLS_DIR"
  local started ticker status=0
  started=$(date +%s)
  ( while sleep 30; do say "  still building the Temporal server ($(( $(date +%s) - started ))s)"; done ) &
  ticker=$!
  # Both commands come from the same module version, so one go install builds them together.
  GOBIN="$TOOLS_DIR" go install "$SERVER_MODULE/cmd/server@$TEMPORAL_SERVER_VERSION" \
    "$SERVER_MODULE/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" || status=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  [ "$status" = 0 ] || fail "go install of $SERVER_MODULE@$TEMPORAL_SERVER_VERSION failed (exit $status, see above); the module needs Go $GO_MIN_VERSION or later and the module proxy"
  mv -f "$TOOLS_DIR/server" "$SERVER_BIN"
  mv -f "$TOOLS_DIR/sql" "$SQL_TOOL"
  echo "$TEMPORAL_SERVER_VERSION" > "$TOOLS_DIR/temporal-server.version"
  say "Temporal server built in $(( $(date +%s) - started ))s"
}

# The module's source (schema files, reference configs) in the Go module cache; go install
# downloaded it, `go mod download` brings it back if the cache was cleaned since.
module_dir() {
  local dir
  dir="$(go env GOMODCACHE)/$SERVER_MODULE@$TEMPORAL_SERVER_VERSION"
  if [ ! -d "$dir/schema/postgresql/v12" ]; then
    (cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download "$SERVER_MODULE@$TEMPORAL_SERVER_VERSION") >&2
  fi
  [ -d "$dir/schema/postgresql/v12" ] && [ -d "$dir/config" ] \
    || fail "schema/postgresql/v12 or config/ not found under $dir"
  echo "$dir"
}

# --- 2. schema --------------------------------------------------------------------------------
# temporal-sql-tool logs every statement; its output is shown only when it fails.
sql_tool() {
  local out
  out=$(SQL_PASSWORD="$TEMPORAL_PG_DB_PASSWORD" "$SQL_TOOL" --plugin postgres12 --endpoint "$TEMPORAL_PG_DB_HOST" \
    --port "$TEMPORAL_PG_DB_PORT" --user "$TEMPORAL_PG_DB_USER" "$@" 2>&1) \
    || { echo "$out" | tail -n 20 >&2; fail "temporal-sql-tool $* failed (output above)"; }
}

# The database's schema version, empty when the database or its schema is missing (needs psql;
# without it every step runs, which is also safe: they are all idempotent).
schema_version() {
  command -v psql >/dev/null || return 0
  PGPASSWORD="$TEMPORAL_PG_DB_PASSWORD" PGCONNECT_TIMEOUT=5 psql -h "$TEMPORAL_PG_DB_HOST" -p "$TEMPORAL_PG_DB_PORT" \
    -U "$TEMPORAL_PG_DB_USER" -d "$1" -XAtqc \
    "select curr_version from schema_version where version_partition = 0 and db_name = '$1'" 2>/dev/null || true
}

setup_schema() {
  local db=$1 schema_dir=$2 latest current
  latest=$(find "$schema_dir/versioned" -mindepth 1 -maxdepth 1 -type d -name 'v*' -printf '%f\n' | sed 's/^v//' | sort -V | tail -n 1)
  current=$(schema_version "$db")
  if [ -n "$current" ] && [ "$current" = "$latest" ]; then
    say "database $db: schema $current is up to date"
    return
  fi
  say "database $db: schema ${current:-none} -> $latest"
  sql_tool --database "$db" create-database
  sql_tool --database "$db" setup-schema -v 0.0
  sql_tool --database "$db" update-schema -d "$schema_dir/versioned"
  say "database $db: schema $(schema_version "$db") ready"
}

prepare_schema() {
  local module
  module=$(module_dir)
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h "$TEMPORAL_PG_DB_HOST" -p "$TEMPORAL_PG_DB_PORT" \
      || fail "PostgreSQL does not answer at $TEMPORAL_PG_DB_HOST:$TEMPORAL_PG_DB_PORT"
  fi
  setup_schema "$TEMPORAL_PG_DB" "$module/schema/postgresql/v12/temporal"
  setup_schema "$TEMPORAL_PG_VISIBILITY_DB" "$module/schema/postgresql/v12/visibility"
}

# --- 3. server --------------------------------------------------------------------------------
running_pid() {
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa temporal-server "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

frontend_answers() { "$TEMPORAL_CLI" operator cluster health --address "$ADDRESS" >/dev/null 2>&1; }

start_server() {
  [ -x "$TEMPORAL_CLI" ] || fail "Temporal CLI not found at .tools/bin/temporal; run scripts/setup.sh first"
  local pid
  if pid=$(running_pid); then
    say "server already running (pid $pid) at $ADDRESS"
  else
    local port
    for port in "$TEMPORAL_PG_PORT" "$TEMPORAL_PG_HISTORY_PORT" "$TEMPORAL_PG_MATCHING_PORT" "$TEMPORAL_PG_WORKER_PORT" \
      "$TEMPORAL_PG_HTTP_PORT" "$TEMPORAL_PG_FRONTEND_MEMBERSHIP_PORT" "$TEMPORAL_PG_HISTORY_MEMBERSHIP_PORT" \
      "$TEMPORAL_PG_MATCHING_MEMBERSHIP_PORT" "$TEMPORAL_PG_WORKER_MEMBERSHIP_PORT" "$TEMPORAL_PG_METRICS_PORT"; do
      port_in_use "$port" && fail "port $port is in use; pick other ports with TEMPORAL_PG_PORT=<free port> (it uses that port to +20)"
    done
    mkdir -p "$STATE_DIR"
    say "starting the server (log: .data/temporal-postgres/server.log)"
    echo "--- $(date -u +%FT%TZ) start" >> "$LOG_FILE"
    # setsid: its own process group, so Ctrl-C in this shell reaches it only through stop_server.
    setsid "$SERVER_BIN" --config-file "$CONFIG_FILE" --allow-no-auth start >> "$LOG_FILE" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$PID_FILE"
    local deadline=$(( $(date +%s) + 120 ))
    until frontend_answers; do
      if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$PID_FILE"
        tail -n 20 "$LOG_FILE" >&2
        fail "the server exited before its frontend answered (log above: .data/temporal-postgres/server.log)"
      fi
      if [ "$(date +%s)" -ge "$deadline" ]; then
        stop_server
        fail "the server's frontend did not answer at $ADDRESS within 120s (see .data/temporal-postgres/server.log)"
      fi
      sleep 1
    done
    say "server up (pid $pid)"
  fi
  prepare_namespace
  say "Temporal on PostgreSQL at $ADDRESS (namespace $NAMESPACE, databases $TEMPORAL_PG_DB and $TEMPORAL_PG_VISIBILITY_DB, metrics http://127.0.0.1:$TEMPORAL_PG_METRICS_PORT/metrics)"
  say "  e.g. TEMPORAL_ADDRESS=$ADDRESS npm start, or TEMPORAL_TEST_ADDRESS=$ADDRESS npm test"
}

# The server binary creates no namespace by itself (start-dev does): create it, then register
# Switchyard's search attributes with the same code `npm start` uses (scripts/prepare.ts). A new
# namespace reaches the frontend's namespace cache within seconds, hence the retries.
prepare_namespace() {
  if "$TEMPORAL_CLI" operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
    say "namespace $NAMESPACE exists"
  else
    "$TEMPORAL_CLI" operator namespace create --namespace "$NAMESPACE" --retention 72h --address "$ADDRESS" >/dev/null
    say "namespace $NAMESPACE created"
  fi
  [ -f dist/scripts/prepare.js ] || { say "compiling TypeScript (dist/ is missing)"; npx tsc -p tsconfig.json; }
  local attempt out
  for attempt in $(seq 1 30); do
    if out=$(node -e 'require("./dist/scripts/prepare.js").prepareNamespace(process.argv[1], process.argv[2])
      .catch((err) => { console.error(err.message); process.exit(1); })' "$ADDRESS" "$NAMESPACE" 2>&1); then
      echo "$out" | sed 's/^\[setup\] /[temporal-postgres] /'
      return
    fi
    sleep 1
  done
  fail "could not register the search attributes on $NAMESPACE: $out"
}

stop_server() {
  local pid
  if ! pid=$(running_pid); then
    say "no server started by this script is running"
    rm -f "$PID_FILE"
    return
  fi
  say "stopping the server (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 30 ]; do sleep 1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    say "  still running after 30s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  say "server stopped"
}

run_tests() {
  export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/switchyard_test_pg}"
  local started_here=false
  running_pid >/dev/null || started_here=true
  build_server
  prepare_schema
  start_server
  # Stop the server we started whatever happens to jest (a server that was already running is left alone).
  if [ "$started_here" = true ]; then trap 'stop_server' EXIT; trap 'exit 130' INT TERM; fi
  [ "$#" -gt 0 ] || set -- test/integration test/replay
  say "jest $* against $ADDRESS (test database ${TEST_DATABASE_URL##*/})"
  local began status=0
  began=$(date +%s)
  TEMPORAL_TEST_ADDRESS="$ADDRESS" npx jest "$@" || status=$?
  say "jest finished with exit code $status in $(( $(date +%s) - began ))s"
  return "$status"
}

command=${1:-start}
[ "$#" -gt 0 ] && shift
case "$command" in
  build) build_server ;;
  schema) build_server; prepare_schema ;;
  start) build_server; prepare_schema; start_server ;;
  run)
    build_server; prepare_schema; start_server
    trap 'stop_server; exit 0' INT TERM
    say "running in the foreground; Ctrl-C stops the server"
    pid=$(running_pid) || fail "the server is not running"
    while kill -0 "$pid" 2>/dev/null; do sleep 1; done
    fail "the server exited (see .data/temporal-postgres/server.log)"
    ;;
  stop) stop_server ;;
  status)
    if pid=$(running_pid); then say "running (pid $pid) at $ADDRESS"; else say "not running"; exit 1; fi ;;
  test) run_tests "$@" ;;
  drop)
    stop_server
    build_server
    for db in "$TEMPORAL_PG_DB" "$TEMPORAL_PG_VISIBILITY_DB"; do
      sql_tool --database "$db" drop-database --force
      say "database $db dropped"
    done
    ;;
  *) fail "unknown command '$command'; use start, run, stop, status, test, build, schema or drop" ;;
esac
