#!/usr/bin/env bash
# Registry benchmarks with 100,000 enterprises (demo --scale): the filtered list page at 32 concurrent
# clients, Excel export of all rows, and import of that sheet into another database; openpyxl reading
# and writing the same sheet is measured in the same run as a baseline.
# Usage: benches/excel.sh [--scale 100000]
# Needs: curl, wrk, python3 with openpyxl (pip install openpyxl). Build: cargo build --release -p dianxiaoer
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/dianxiaoer}
SCALE=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
A=$(mktemp -d); B=$(mktemp -d)
PA=18191; PB=18192
trap 'kill $PIDA $PIDB 2>/dev/null || true; rm -rf "$A" "$B"' EXIT
export DXE_LOG=warn
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
t0=$(date +%s%N)
"$BIN" demo --data-dir "$A" --scale "$SCALE" --no-serve >/dev/null
echo "demo --scale $SCALE: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
"$BIN" demo --data-dir "$B" --no-serve >/dev/null
"$BIN" demo --data-dir "$A" --listen "127.0.0.1:$PA" >/dev/null 2>&1 & PIDA=$!
"$BIN" demo --data-dir "$B" --listen "127.0.0.1:$PB" >/dev/null 2>&1 & PIDB=$!
for p in $PA $PB; do until curl -sf "http://127.0.0.1:$p/readyz" >/dev/null; do sleep 0.05; done; done

login() { # port → cookie header for the department staff account
  local jar; jar=$(mktemp)
  local csrf; csrf=$(curl -s -c "$jar" "http://127.0.0.1:$1/login" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
  curl -s -b "$jar" -c "$jar" -o /dev/null -d "username=staff&password=Demo%402026&_csrf=$csrf" "http://127.0.0.1:$1/login"
  echo "Cookie: dxe_session=$(awk '$6=="dxe_session"{print $7}' "$jar")"
  rm -f "$jar"
}
CA=$(login $PA); CB=$(login $PB)
page_csrf() { curl -s -H "$2" "http://127.0.0.1:$1/" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1; }

# One request first: the list index is built at start-up and must be ready before timing.
curl -s -o /dev/null -H "$CA" "http://127.0.0.1:$PA/enterprises"
echo "list pages, wrk -t2 -c32 -d15s (staff, whole zone, $SCALE enterprises):"
for q in "" "town=371323001&area=binhe&sort=name" "q=%E9%A3%9F%E5%93%81&scale=above" "industry=C26&status=operating&sort=employees&page=20"; do
  out=$(wrk -t2 -c32 -d15s --latency -H "$CA" "http://127.0.0.1:$PA/enterprises?$q")
  printf '  /enterprises?%-52s %8s req/s  p50 %8s  p99 %8s\n' "$q" "$(echo "$out" | awk '/Requests\/sec/{print $2}')" \
    "$(echo "$out" | awk '$1=="50%"{print $2}')" "$(echo "$out" | awk '$1=="99%"{print $2}')"
done

exports=(); imports=()
for i in 1 2 3; do
  s=$(curl -s -o "$A/all.xlsx" -w '%{time_total}' -H "$CA" "http://127.0.0.1:$PA/enterprises/export.xlsx")
  exports+=("$s")
done
rows=$(python3 -c "import openpyxl,sys; print(openpyxl.load_workbook(sys.argv[1], read_only=True).active.max_row - 1)" "$A/all.xlsx")
echo "export of $rows rows (s): ${exports[*]}; file $(du -h "$A/all.xlsx" | cut -f1)"
for i in 1 2 3; do
  csrf=$(page_csrf $PB "$CB")
  s=$(curl -s -o "$B/result.html" -w '%{time_total}' -H "$CB" -F "file=@$A/all.xlsx" "http://127.0.0.1:$PB/enterprises/import?_csrf=$csrf")
  grep -o '导入完成[^<]*' "$B/result.html" | head -1
  imports+=("$s")
done
echo "import of $rows rows (s): ${imports[*]}"
python3 - "$A/all.xlsx" <<'PY'
import sys, time, openpyxl
path = sys.argv[1]
t = time.perf_counter()
rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
read = time.perf_counter() - t
t = time.perf_counter()
out = openpyxl.Workbook(write_only=True)
ws = out.create_sheet()
for row in rows:
    ws.append(row)
out.save(path + ".copy.xlsx")
write = time.perf_counter() - t
print(f"baseline openpyxl {openpyxl.__version__} on the same sheet: read {len(rows) - 1} rows {read:.2f} s, write them {write:.2f} s")
PY
