#!/usr/bin/env bash
# HTTP benchmarks of the release binary with the demo database:
#   cold start to ready, idle memory, and an authenticated page against an unauthenticated static
#   route of the same binary at 32 concurrent clients (wrk), side by side in one run.
# Usage: benches/http.sh [--scale N] [--duration 15s]
# Needs: curl, wrk (Debian packages). Build first: cargo build --release -p dianxiaoer
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/dianxiaoer}
SCALE=300
DURATION=15s
RUNS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
PORT=${PORT:-18181}
BASE="http://127.0.0.1:$PORT"
DIR=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
export DXE_LOG=warn

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
echo "binary: $BIN; demo enterprises: $SCALE"
"$BIN" demo --data-dir "$DIR" --scale "$SCALE" --no-serve >/dev/null

now_ns() { date +%s%N; }
starts=()
for i in $(seq "$RUNS"); do
  t0=$(now_ns)
  "$BIN" demo --data-dir "$DIR" --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
  PID=$!
  until curl -sf "$BASE/readyz" >/dev/null 2>&1; do sleep 0.002; done
  t1=$(now_ns)
  starts+=($(( (t1 - t0) / 1000000 )))
  if [ "$i" -lt "$RUNS" ]; then kill "$PID"; wait "$PID" 2>/dev/null || true; fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "cold start to ready (ms), $RUNS runs: ${starts[*]} → median $(median "${starts[@]}")"
sleep 2
echo "idle RSS: $(awk '/VmRSS/{printf "%.1f MiB", $2/1024}' /proc/$PID/status)"

# Sign in as the leader (whole-zone scope) like a browser.
JAR="$DIR/jar"
csrf=$(curl -s -c "$JAR" "$BASE/login" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
curl -s -b "$JAR" -c "$JAR" -o /dev/null -d "username=leader&password=Demo%402026&_csrf=$csrf" "$BASE/login"
TOKEN=$(awk '$6=="dxe_session"{print $7}' "$JAR")
[ -n "$TOKEN" ] || { echo "login failed" >&2; exit 1; }
COOKIE="Cookie: dxe_session=$TOKEN"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$COOKIE" "$BASE/enterprises")" = 200 ]

run() { # label, wrk args…
  local label=$1; shift
  local out
  out=$(wrk -t2 -c32 -d"$DURATION" --latency "$@")
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  p50=$(echo "$out" | awk '$1=="50%"{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  printf '%-44s %10s req/s   p50 %8s   p99 %8s\n' "$label" "$rps" "$p50" "$p99"
}
echo "32 concurrent clients, wrk -t2 -c32 -d$DURATION:"
run "static /static/app.css (no auth)" "$BASE/static/app.css"
run "authenticated / (home, leader)" -H "$COOKIE" "$BASE/"
run "authenticated /enterprises (list page 1)" -H "$COOKIE" "$BASE/enterprises"
run "authenticated /api/v1/enterprises (JSON)" -H "$COOKIE" "$BASE/api/v1/enterprises"
run "authenticated /enterprises?q=食品&town=…" -H "$COOKIE" "$BASE/enterprises?q=%E9%A3%9F%E5%93%81&town=371323001&sort=name"
echo "RSS after load: $(awk '/VmRSS/{printf "%.1f MiB", $2/1024}' /proc/$PID/status)"
