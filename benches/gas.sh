#!/usr/bin/env bash
# Gas early-warning benchmarks (issue 6, Measure), through a real broker with readings stored and
# rules evaluated: a private Mosquitto (no persistence), the application (`serve --mqtt-url`) over a
# demo database with N bench detectors, and the publisher `dianxiaoer bench-gas-publish`. Each run:
#   baseline  the same publisher to a bare subscriber (`mosquitto_sub -q 1`) on another topic: the
#             broker's own delivery rate, gateway batches and one reading per message;
#   (a) (b)   gateway batches / one reading per message to the application for --seconds, as fast as
#             it stores them (the publisher holds while more than --max-lag readings wait), stored/s
#             from the application's own count (`/metrics/gas` on the metrics listener);
#   (d)       publish → SSE alarm latency: leaks published one at a time on 64 leak detectors, their
#             `raised`/`repeated` events read from /gas/monitor/events, under a background load of
#             --latency-rate readings/s;
# then (e) RSS of the application per detector (every detector loaded and having reported, against
# the same demo database without bench detectors) and (f) rows in gas_readings == readings published.
# Usage: benches/gas.sh [--detectors 100000] [--seconds 60] [--runs 3] [--leaks 200]
#                       [--latency-rate 10000] [--feed N] [--postgres postgres://user@host:port]
#   --feed: how many detectors (a), (b) and the baseline feed in turn (default all but the 64 leak ones).
# Needs: mosquitto, mosquitto_sub, curl, sqlite3 (or psql). Builds: cargo build --release -p dianxiaoer
# (BIN=path skips the build).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
DETECTORS=100000; SECS=60; RUNS=3; LEAKS=200; LAT_RATE=10000; PG=""; MAX_LAG=400000; FEED=""
while [ $# -gt 0 ]; do
  case "$1" in
    --detectors) DETECTORS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --leaks) LEAKS=$2; shift 2 ;;
    --latency-rate) LAT_RATE=$2; shift 2 ;;
    --max-lag) MAX_LAG=$2; shift 2 ;;
    --feed) FEED=$2; shift 2 ;;
    --postgres) PG=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "${BIN:-}" ]; then
  cargo build --release -p dianxiaoer >&2
  BIN=$TARGET/release/dianxiaoer
fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
A=$(mktemp -d); MQ=$(free_port); HP=$(free_port); MP=$(free_port)
FEED=${FEED:-$((DETECTORS - 64))}
if [ -n "$PG" ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS dxe_bench_gas" -c "CREATE DATABASE dxe_bench_gas" >/dev/null
  DB_URL="$PG/dxe_bench_gas"
  rows() { psql "$DB_URL" -tAc "SELECT count(*) FROM gas_readings"; }
else
  DB_URL="sqlite://$A/bench.db"
  rows() { sqlite3 "$A/bench.db" "SELECT count(*) FROM gas_readings"; }
fi
cleanup() {
  for p in "${SUB:-}" "${BG:-}" "${PID:-}" "${MPID:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$A"
  if [ -n "$PG" ]; then psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS dxe_bench_gas" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
export DXE_LOG=warn DXE_SESSION_SECRET
DXE_SESSION_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
rss_kib() { awk '/RssAnon/{print $2}' "/proc/$1/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores ($(sed -n 's/model name\s*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/Mem:/{print $2}') GiB; load before: $(load)"
echo "backend: $([ -n "$PG" ] && echo PostgreSQL || echo SQLite); $(mosquitto -h 2>&1 | head -1); $DETECTORS bench detectors, $SECS s per measurement, $RUNS runs"

# The broker: in memory only; queues unbounded (the publisher bounds the backlog), 1,000 messages in
# flight to a subscriber (Mosquitto's default of 20 would cap single-reading ingest at 20 a step).
cat >"$A/mosquitto.conf" <<EOF
listener $MQ 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 1000
EOF
mosquitto -c "$A/mosquitto.conf" >"$A/mosquitto.log" 2>&1 & MPID=$!

"$BIN" --database-url "$DB_URL" demo --no-serve >/dev/null
start_serve() {
  "$BIN" --database-url "$DB_URL" serve --listen "127.0.0.1:$HP" --metrics-listen "127.0.0.1:$MP" \
    --mqtt-url "mqtt://127.0.0.1:$MQ/?client_id=dxe-bench" >"$A/serve.log" 2>&1 & PID=$!
  until curl -sf "http://127.0.0.1:$HP/readyz" >/dev/null; do sleep 0.2; done
  until curl -sf "http://127.0.0.1:$MP/metrics/gas" | grep -q accepted; do sleep 0.2; done
  sleep 3
}
stop_serve() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

# (e) baseline: the application on the demo database alone (its ~300 demo detectors).
start_serve
RSS0=$(rss_kib "$PID")
stop_serve
t0=$(date +%s%N)
"$BIN" --database-url "$DB_URL" bench-gas-data --detectors "$DETECTORS" >/dev/null
echo "registered $DETECTORS detectors in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
start_serve
RSS_LOADED=$(rss_kib "$PID")
# The live monitor's stream takes a session: the demo's staff account logs in (as benches/revenue.sh).
JAR=$A/cookies
csrf=$(curl -s -c "$JAR" "http://127.0.0.1:$HP/login" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
curl -s -b "$JAR" -c "$JAR" -o /dev/null -d "username=staff&password=Demo%402026&_csrf=$csrf" "http://127.0.0.1:$HP/login"
export DXE_BENCH_COOKIE
DXE_BENCH_COOKIE="dxe_session=$(awk '$6 == "dxe_session" {print $7}' "$JAR")"
PUB=(bench-gas-publish --broker "127.0.0.1:$MQ")
APP=(--metrics "127.0.0.1:$MP" --max-lag "$MAX_LAG")
# Every detector reports once (gateway batches), so that each one's state has moved.
out=$("$BIN" "${PUB[@]}" "${APP[@]}" --first 0 --detectors "$DETECTORS" --batch 100 --rounds 1 --seconds 600)
PUBLISHED=$(field published_readings "$out")
echo "every detector reported once: $out"
RSS_REPORTED=$(rss_kib "$PID")

baseline() { # batch → readings/s delivered to mosquitto_sub, and the publisher's line in $A/pub.txt
  local batch=$1
  mosquitto_sub -h 127.0.0.1 -p "$MQ" -q 1 -t 'bench/#' -F '%U' >"$A/sub.txt" & SUB=$!
  sleep 0.5
  "$BIN" "${PUB[@]}" --topic-prefix bench/ --first 64 --detectors "$FEED" --batch "$batch" --seconds "$SECS" >"$A/pub.txt"
  local msgs; msgs=$(field messages "$(cat "$A/pub.txt")")
  for _ in $(seq 1 600); do [ "$(wc -l <"$A/sub.txt")" -ge "$msgs" ] && break; sleep 0.1; done
  kill "$SUB"; wait "$SUB" 2>/dev/null || true; SUB=""
  awk -v b="$batch" -v m="$msgs" 'NR == 1 {f = $1} {l = $1; n++} END {printf "%.0f %d %d\n", (n - 1) * b / (l - f), n, m}' "$A/sub.txt"
}
app_run() { # batch → the publisher's line; CPU of the application and the broker appended
  local batch=$1 c0 m0 w0 out
  c0=$(ticks "$PID"); m0=$(ticks "$MPID"); w0=$(date +%s%N)
  out=$("$BIN" "${PUB[@]}" "${APP[@]}" --first 64 --detectors "$FEED" --batch "$batch" --seconds "$SECS")
  local wall=$(( ($(date +%s%N) - w0) / 10000000 ))
  echo "$out app_cpu=$(( ($(ticks "$PID") - c0) * 100 / wall ))% broker_cpu=$(( ($(ticks "$MPID") - m0) * 100 / wall ))%"
}

declare -a B_GW B_ONE GW ONE P50 P99
for run in $(seq 1 "$RUNS"); do
  read -r rate n m < <(baseline 100)
  B_GW+=("$rate")
  echo "run $run baseline gateway: mosquitto_sub got $n of $m messages, $rate readings/s ($(cat "$A/pub.txt"))"
  read -r rate n m < <(baseline 1)
  B_ONE+=("$rate")
  echo "run $run baseline single: mosquitto_sub got $n of $m messages, $rate readings/s ($(cat "$A/pub.txt"))"
  out=$(app_run 100); GW+=("$(field stored_rate "$out")")
  PUBLISHED=$((PUBLISHED + $(field published_readings "$out")))
  echo "run $run gateway: $out"
  out=$(app_run 1); ONE+=("$(field stored_rate "$out")")
  PUBLISHED=$((PUBLISHED + $(field published_readings "$out")))
  echo "run $run single: $out"
  secs=$(( LEAKS * 3 / 10 + 30 ))
  "$BIN" "${PUB[@]}" --first 64 --detectors "$FEED" --batch 100 --rate "$LAT_RATE" --seconds "$secs" >"$A/bg.txt" & BG=$!
  sleep 3
  out=$("$BIN" bench-gas-latency --broker "127.0.0.1:$MQ" --http "127.0.0.1:$HP" --leaks "$LEAKS")
  wait "$BG"; BG=""
  P50+=("$(field p50_ms "$out")"); P99+=("$(field p99_ms "$out")")
  PUBLISHED=$((PUBLISHED + $(field published_readings "$(cat "$A/bg.txt")") + 4 * LEAKS))
  echo "run $run latency at $LAT_RATE readings/s background: $out (background: $(cat "$A/bg.txt"))"
  echo "load after run $run: $(load)"
done
sleep 2
RSS_END=$(rss_kib "$PID")
STORED=$(rows)
stop_serve

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "medians of $RUNS runs:"
echo "  (c) broker to mosquitto_sub, gateway batches of 100: $(median "${B_GW[@]}") readings/s  [${B_GW[*]}]"
echo "  (a) stored, gateway batches of 100: $(median "${GW[@]}") readings/s  [${GW[*]}]; ratio to mosquitto_sub $(ratio "$(median "${GW[@]}")" "$(median "${B_GW[@]}")")"
echo "  (c) broker to mosquitto_sub, one reading per message: $(median "${B_ONE[@]}") readings/s  [${B_ONE[*]}]"
echo "  (b) stored, one reading per message: $(median "${ONE[@]}") readings/s  [${ONE[*]}]; ratio to mosquitto_sub $(ratio "$(median "${ONE[@]}")" "$(median "${B_ONE[@]}")")"
echo "  (d) publish → SSE alarm event at $LAT_RATE readings/s: p50 $(median "${P50[@]}") ms [${P50[*]}], p99 $(median "${P99[@]}") ms [${P99[*]}]"
echo "  (e) anonymous RSS (heap, no mapped files): demo database alone $((RSS0 / 1024)) MiB; $DETECTORS detectors loaded $((RSS_LOADED / 1024)) MiB, all reported $((RSS_REPORTED / 1024)) MiB, at the end $((RSS_END / 1024)) MiB"
echo "      per detector: loaded $(( (RSS_LOADED - RSS0) * 1024 / DETECTORS )) B, reported $(( (RSS_REPORTED - RSS0) * 1024 / DETECTORS )) B"
echo "  (f) readings published $PUBLISHED, rows in gas_readings $STORED: $([ "$PUBLISHED" = "$STORED" ] && echo 'none lost' || echo 'MISMATCH')"
echo "load at the end: $(load)"
