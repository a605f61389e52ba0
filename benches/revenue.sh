#!/usr/bin/env bash
# Enclave-economy benchmarks at 100,000 enterprises (issue 5, Measure): one year of the tax bureau's
# monthly sheets, 4 tax types for every enterprise (12 files of 400,000 rows, 4.8 million in all),
# imported through the API one file at a time; the year's settlements drafted in one request
# (`POST /api/v1/revenue/settlements/range`), then each month re-drafted on its own (where a draft's
# time goes is logged by the server at debug level and printed for 2022-06); statements (page, Excel,
# API) of a town and of the zone; each import withdrawn again between runs. DuckDB
# aggregates the same CSV files to the same per-unit year totals in the same run: the baseline, and a
# check that the settlement's totals agree to the fen.
# Usage: benches/revenue.sh [--scale 100000] [--year 2022] [--runs 3] [--postgres postgres://user@host:port]
#   --postgres runs the application on a fresh database `dxe_bench_revenue` of that server (dropped at the end).
# Needs: curl, python3 with venv (duckdb is pip-installed into a venv under the target directory).
# Builds: cargo build --release -p dianxiaoer (BIN=path skips the build).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
SCALE=100000; YEAR=2022; RUNS=3; PG=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --year) YEAR=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --postgres) PG=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "${BIN:-}" ]; then
  cargo build --release -p dianxiaoer >&2
  BIN=$TARGET/release/dianxiaoer
fi
VENV=$TARGET/bench-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import duckdb" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q duckdb >&2
fi
A=$(mktemp -d); PORT=18193
DB_ARGS=(--data-dir "$A")
if [ -n "$PG" ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS dxe_bench_revenue" -c "CREATE DATABASE dxe_bench_revenue" >/dev/null
  DB_ARGS+=(--database-url "$PG/dxe_bench_revenue")
fi
cleanup() {
  kill "${PID:-}" 2>/dev/null || true
  rm -rf "$A"
  if [ -n "$PG" ]; then psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS dxe_bench_revenue" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
export DXE_LOG=warn
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "backend: $([ -n "$PG" ] && echo PostgreSQL || echo SQLite); $("$VENV/bin/python" -c 'import duckdb; print("duckdb", duckdb.__version__)')"

t0=$(date +%s%N)
"$BIN" "${DB_ARGS[@]}" demo --scale "$SCALE" --no-serve >/dev/null
echo "demo --scale $SCALE (enterprises, a project each, 36 months of tax for the first 1,000): $(ms "$t0") ms"
t0=$(date +%s%N)
"$BIN" "${DB_ARGS[@]}" bench-revenue-data --year "$YEAR" --out "$A/sheets"
echo "sheets written: $(ms "$t0") ms; $(du -ch "$A"/sheets/tax-*.csv | tail -1 | cut -f1) in 12 files"

DXE_LOG=warn,dianxiaoer_store::revenue_settle_draft=debug "$BIN" "${DB_ARGS[@]}" demo --listen "127.0.0.1:$PORT" \
  >"$A/server.log" 2>&1 & PID=$!
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.1; done
JAR=$A/cookies
csrf=$(curl -s -c "$JAR" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
curl -s -b "$JAR" -c "$JAR" -o /dev/null -d "username=staff&password=Demo%402026&_csrf=$csrf" "http://127.0.0.1:$PORT/login"
CSRF=$(curl -s -b "$JAR" "http://127.0.0.1:$PORT/" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
H=(-b "$JAR" -H "x-csrf-token: $CSRF")
api() { # method path [curl args…] → prints seconds; body to $A/out.json; fails on an HTTP error
  local m=$1 p=$2; shift 2
  curl -sS -f -X "$m" "${H[@]}" -o "$A/out.json" -w '%{time_total}\n' "$@" "http://127.0.0.1:$PORT$p"
}
secs_to_ms() { awk '{printf "%d\n", $1 * 1000}'; }

declare -a IMPORT_TOTAL RANGE_TOTAL SETTLE_TOTAL SETTLE_ONE TOWN_PAGE TOWN_XLSX ZONE_XLSX ZONE_JSON
WITHDRAW_TOTAL=() # stays empty with --runs 1
declare -A FILE_MS
for run in $(seq 1 "$RUNS"); do
  ids=(); sum=0
  for m in $(seq -w 1 12); do
    t=$(api POST /api/v1/revenue/tax/import -F "encoding=utf8" -F "file=@$A/sheets/tax-$YEAR-$m.csv" | secs_to_ms)
    ids+=("$("$VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["import_id"])' "$A/out.json")")
    FILE_MS[$m]="${FILE_MS[$m]:-} $t"; sum=$((sum + t))
  done
  IMPORT_TOTAL+=("$sum")
  # The year in one request (every month drafted afresh), then each month again on its own (re-drafts).
  RANGE_TOTAL+=("$(api POST /api/v1/revenue/settlements/range -H 'content-type: application/json' \
    -d "{\"from\":\"$YEAR-01\",\"to\":\"$YEAR-12\"}" | secs_to_ms)")
  sum=0; one=""
  for m in $(seq -w 1 12); do
    t=$(api POST /api/v1/revenue/settlements -H 'content-type: application/json' -d "{\"period\":\"$YEAR-$m\"}" | secs_to_ms)
    sum=$((sum + t)); [ "$m" = "06" ] && one=$t
  done
  SETTLE_TOTAL+=("$sum"); SETTLE_ONE+=("$one")
  TOWN_PAGE+=("$(api GET "/revenue/statements?period=$YEAR-06&unit=town:371323103" | secs_to_ms)")
  TOWN_XLSX+=("$(api GET "/revenue/statements.xlsx?period=$YEAR-06&unit=town:371323103" | secs_to_ms)")
  ZONE_XLSX+=("$(api GET "/revenue/statements.xlsx?period=$YEAR-06&unit=zone" | secs_to_ms)")
  ZONE_JSON+=("$(api GET "/api/v1/revenue/statements?period=$YEAR-06&unit=zone" | secs_to_ms)")
  zone_lines=$("$VENV/bin/python" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["lines"]))' "$A/out.json")
  echo "run $run: import ${IMPORT_TOTAL[-1]} ms, settle year in one request ${RANGE_TOTAL[-1]} ms, month by month ${SETTLE_TOTAL[-1]} ms (06: $one ms), statements town page ${TOWN_PAGE[-1]} / xlsx ${TOWN_XLSX[-1]} ms, zone xlsx ${ZONE_XLSX[-1]} / json ${ZONE_JSON[-1]} ms ($zone_lines lines)"
  if [ "$run" = "$RUNS" ]; then
    # The year's per-unit totals as the settlements hold them.
    for m in $(seq -w 1 12); do
      api GET "/api/v1/revenue/settlements/$YEAR-$m" >/dev/null
      cp "$A/out.json" "$A/settlement-$m.json"
    done
  else
    sum=0
    for id in "${ids[@]}"; do
      t=$(api POST "/api/v1/revenue/tax/imports/$id/withdraw" -H 'content-type: application/json' -d '{}' | secs_to_ms)
      sum=$((sum + t))
    done
    WITHDRAW_TOTAL+=("$sum")
    echo "run $run: withdrew the 12 imports (and their drafts) in $sum ms"
  fi
done
echo "load after the application runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "where the drafts of $YEAR-06 went (elapsed since the start of the draft at the end of each step):"
sed 's/\x1b\[[0-9;]*m//g' "$A/server.log" | grep "settlement drafted period=$YEAR-06" | sed 's/.*settlement drafted /  /' || true
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""

"$VENV/bin/python" - "$A" "$RUNS" <<'PY'
import duckdb, glob, json, os, sys, time
base, runs = sys.argv[1], int(sys.argv[2])
sheets = sorted(glob.glob(os.path.join(base, "sheets", "tax-*.csv")))
beneficiaries = os.path.join(base, "sheets", "beneficiaries.csv")
# The settlement's arithmetic (crates/core/src/revenue): the county-retained part of each row rounded
# half away from zero (amounts here are positive), then split among the project's units by the largest
# remainder, ties to the larger weight, then the earlier position. One project per enterprise here.
EXACT = """
WITH t AS (
  SELECT row_number() OVER () AS rid, "纳税人识别号" AS code,
         CAST(replace("实缴金额", '.', '') AS BIGINT) AS fen,
         CAST(round(CAST(regexp_extract("预算分配比例", '县([0-9.]+)%', 1) AS DOUBLE) * 100) AS BIGINT) AS bp
  FROM read_csv($sheets, header = true, all_varchar = true)
), s AS (SELECT rid, code, (fen * bp + 5000) // 10000 AS shareable FROM t),
b AS (SELECT * FROM read_csv($b, header = true,
      columns = {'credit_code': 'VARCHAR', 'project_id': 'BIGINT', 'unit': 'VARCHAR', 'weight': 'BIGINT', 'position': 'BIGINT'})),
p AS (SELECT s.rid, b.unit, b.weight, b.position, s.shareable,
             s.shareable * b.weight // 10 AS fl, s.shareable * b.weight % 10 AS rem
      FROM s JOIN b ON b.credit_code = s.code),
r AS (SELECT *, shareable - sum(fl) OVER (PARTITION BY rid) AS left_over,
             row_number() OVER (PARTITION BY rid ORDER BY rem DESC, weight DESC, position) AS rk FROM p)
SELECT unit, CAST(sum(fl + CASE WHEN rk <= left_over THEN 1 ELSE 0 END) AS BIGINT) FROM r GROUP BY unit
"""
# What an analyst would write first: exact decimal shares, no rounding to the fen.
PLAIN = """
SELECT b.unit, sum(CAST(replace(t."实缴金额", '.', '') AS BIGINT)
                   * CAST(regexp_extract(t."预算分配比例", '县([0-9.]+)%', 1) AS DOUBLE) / 100 * CAST(b.weight AS BIGINT) / 10)
FROM read_csv($sheets, header = true, all_varchar = true) t
JOIN read_csv($b, header = true, all_varchar = true) b ON b.credit_code = t."纳税人识别号"
GROUP BY b.unit
"""
con = duckdb.connect()
params = {"sheets": sheets, "b": beneficiaries}
timing = {"exact": [], "plain": []}
for _ in range(runs):
    for name, q in (("exact", EXACT), ("plain", PLAIN)):
        t = time.perf_counter()
        result = dict(con.execute(q, params).fetchall())
        timing[name].append(time.perf_counter() - t)
        if name == "exact":
            exact = result
ours = {}
for path in sorted(glob.glob(os.path.join(base, "settlement-*.json"))):
    for u in json.load(open(path))["units"]:
        ours[u["key"]] = ours.get(u["key"], 0) + u["amount_fen"]
med = lambda xs: sorted(xs)[len(xs) // 2]
rows = con.execute("SELECT count(*) FROM read_csv($s, header = true, all_varchar = true)", {"s": sheets}).fetchone()[0]
print(f"DuckDB {duckdb.__version__}, {rows} rows in {len(sheets)} files, {len(exact)} units, {runs} runs")
print("  per-unit year totals, exact to the fen (ms): " + ", ".join(f"{x * 1000:.0f}" for x in timing["exact"]) + f"; median {med(timing['exact']) * 1000:.0f}")
print("  per-unit year totals, plain decimal sums (ms): " + ", ".join(f"{x * 1000:.0f}" for x in timing["plain"]) + f"; median {med(timing['plain']) * 1000:.0f}")
diff = {k: (ours.get(k), exact.get(k)) for k in set(ours) | set(exact) if ours.get(k) != exact.get(k)}
total = sum(exact.values())
print(f"  settlement vs DuckDB per-unit year totals: {'identical to the fen' if not diff else f'{len(diff)} units differ, e.g. {sorted(diff.items())[:3]}'}; total {total / 100:.2f} 元")
with open(os.path.join(base, "duckdb.txt"), "w") as f:
    f.write(f"{med(timing['exact']) * 1000:.0f} {med(timing['plain']) * 1000:.0f}\n")
PY
read -r DUCK_EXACT DUCK_PLAIN < "$A/duckdb.txt"

echo "medians of $RUNS runs (ms):"
for m in $(seq -w 1 12); do
  # shellcheck disable=SC2086
  printf '  import %s-%s (400k rows at 100k enterprises): %s  [%s ]\n' "$YEAR" "$m" "$(median ${FILE_MS[$m]})" "${FILE_MS[$m]}"
done
echo "  import, 12 files: $(median "${IMPORT_TOTAL[@]}")  [${IMPORT_TOTAL[*]}]"
[ "${#WITHDRAW_TOTAL[@]}" -gt 0 ] && echo "  withdraw the 12 imports with their drafts: $(median "${WITHDRAW_TOTAL[@]}")  [${WITHDRAW_TOTAL[*]}]"
echo "  settlement of the year, one request (12 months drafted in one transaction): $(median "${RANGE_TOTAL[@]}")  [${RANGE_TOTAL[*]}]"
echo "  settlement of $YEAR-06 (re-draft): $(median "${SETTLE_ONE[@]}")  [${SETTLE_ONE[*]}]"
echo "  settlement of the year month by month (12 re-drafts): $(median "${SETTLE_TOTAL[@]}")  [${SETTLE_TOTAL[*]}]"
echo "  statement of 许家湖镇 $YEAR-06, page: $(median "${TOWN_PAGE[@]}"), Excel: $(median "${TOWN_XLSX[@]}")"
echo "  statement of the zone $YEAR-06, Excel: $(median "${ZONE_XLSX[@]}"), API JSON: $(median "${ZONE_JSON[@]}")"
echo "  DuckDB per-unit year totals: exact $DUCK_EXACT, plain $DUCK_PLAIN"
echo "  ratio settlement of the year in one request / DuckDB exact: $(awk -v a="$(median "${RANGE_TOTAL[@]}")" -v b="$DUCK_EXACT" 'BEGIN {printf "%.2f", a / b}')"
echo "  ratio settlement of the year month by month / DuckDB exact: $(awk -v a="$(median "${SETTLE_TOTAL[@]}")" -v b="$DUCK_EXACT" 'BEGIN {printf "%.2f", a / b}')"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
