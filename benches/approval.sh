#!/usr/bin/env bash
# Independent-approval benchmarks at a million cases (issue 4, Measure): the statistics page and the
# overdue list under 4 and 32 concurrent clients (wrk, leadership's whole-zone view) next to the static
# route of the same binary in the same run, and the escalation job's pass over every open case.
# Usage: benches/approval.sh [--cases 1000000] [--open 20000] [--duration 15s]
# Needs: curl, wrk (Debian packages). Builds: cargo build --release -p dianxiaoer (BIN=path skips it).
# DB=path copies a database this script made before (kept with KEEP=path) instead of generating one.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
CASES=1000000; OPEN=20000; DURATION=15s
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) CASES=$2; shift 2 ;;
    --open) OPEN=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "${BIN:-}" ]; then
  cargo build --release -p dianxiaoer >&2
  BIN=$TARGET/release/dianxiaoer
fi
PORT=${PORT:-18182}
BASE="http://127.0.0.1:$PORT"
DIR=$(mktemp -d)
trap 'kill ${PID:-} 2>/dev/null || true; rm -rf "$DIR"' EXIT
export DXE_LOG=warn
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "${DB:-}" ]; then
  cp "$DB" "$DIR/demo.db"
  echo "database copied from $DB ($(du -h "$DIR/demo.db" | cut -f1))"
else
  t0=$(date +%s%N)
  "$BIN" --data-dir "$DIR" demo --no-serve >/dev/null
  echo "demo database: $(ms "$t0") ms"
  t0=$(date +%s%N)
  "$BIN" --data-dir "$DIR" bench-approval-data --cases "$CASES" --open "$OPEN" | tail -1
  echo "bench data: $(ms "$t0") ms; database $(du -h "$DIR/demo.db" | cut -f1)"
  if [ -n "${KEEP:-}" ]; then cp "$DIR/demo.db" "$KEEP"; fi
fi
"$BIN" --data-dir "$DIR" bench-escalation --runs 3

"$BIN" --data-dir "$DIR" demo --listen "127.0.0.1:$PORT" >/dev/null 2>&1 & PID=$!
until curl -sf "$BASE/readyz" >/dev/null; do sleep 0.1; done
JAR="$DIR/jar"
csrf=$(curl -s -c "$JAR" "$BASE/login" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
curl -s -b "$JAR" -c "$JAR" -o /dev/null -d "username=leader&password=Demo%402026&_csrf=$csrf" "$BASE/login"
TOKEN=$(awk '$6=="dxe_session"{print $7}' "$JAR")
[ -n "$TOKEN" ] || { echo "login failed" >&2; exit 1; }
COOKIE="Cookie: dxe_session=$TOKEN"
for p in "/approval/stats?year=2023" "/approval/overdue"; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$COOKIE" "$BASE$p")" = 200 ] || { echo "$p failed" >&2; exit 1; }
done
echo "single requests (ms): stats year $(curl -s -o /dev/null -w '%{time_total}' -H "$COOKIE" "$BASE/approval/stats?year=2023"), \
stats 2020–2025 $(curl -s -o /dev/null -w '%{time_total}' -H "$COOKIE" "$BASE/approval/stats?from=2020-01-01&to=2025-12-31"), \
overdue $(curl -s -o /dev/null -w '%{time_total}' -H "$COOKIE" "$BASE/approval/overdue") (seconds)"

run() { # label, wrk args… (CONC clients)
  local label=$1; shift
  local out rps p50 p99
  out=$(wrk -t2 -c"${CONC:-32}" -d"$DURATION" --latency "$@")
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  p50=$(echo "$out" | awk '$1=="50%"{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  printf '%-52s %10s req/s   p50 %8s   p99 %8s\n' "$label" "$rps" "$p50" "$p99"
}
for CONC in 4 32; do
  echo "$CONC concurrent clients, wrk -t2 -c$CONC -d$DURATION:"
  run "static /static/app.css (no auth)" "$BASE/static/app.css"
  run "/approval/stats?year=2023 (a year, ~167k cases)" -H "$COOKIE" "$BASE/approval/stats?year=2023"
  run "/approval/stats?from=2020-01-01&to=2025-12-31 (all)" -H "$COOKIE" "$BASE/approval/stats?from=2020-01-01&to=2025-12-31"
  run "/approval/stats?year=2024&month=6 (a month)" -H "$COOKIE" "$BASE/approval/stats?year=2024&month=6"
  run "/api/v1/approval/stats?year=2023 (JSON)" -H "$COOKIE" "$BASE/api/v1/approval/stats?year=2023"
  run "/approval/overdue (open cases past deadline)" -H "$COOKIE" "$BASE/approval/overdue"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
