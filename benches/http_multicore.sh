#!/usr/bin/env bash
# Multi-core: simmer with N workers (examples/hello --workers N, acceptor and
# SO_REUSEPORT distribution) against tokio's multi-thread runtime + hyper with N worker
# threads (examples/hello_hyper --threads N), and, where pip works, uvicorn + FastAPI
# with --workers N serving the same /plaintext route. One run, servers interleaved.
#
#   bash benches/http_multicore.sh            # N = 1 and 2, 2 interleaved rounds
#   WORKERS="1 2 4" ROUNDS=3 bash benches/http_multicore.sh
#   WITH_FASTAPI=0 bash benches/http_multicore.sh   # skip the Python servers
#
# Two loads per server:
#   - saturating: wrk -t1 -c64 for DURATION s (5): req/s, p99, server CPU per request;
#   - equal: h2load at a fixed RATE req/s (4,000) from 32 connections for
#     EQUAL_DURATION s (15): server CPU per request at the same load, the fair
#     comparison on a small machine.
# Server CPU is utime + stime from /proc/PID/stat (all threads; for uvicorn, the parent
# and every worker process) over the measured window, divided by requests answered.
# The kernel counts it in ticks of 10 ms, so a window needs tens of thousands of
# requests. Each figure is the median over ROUNDS rounds (servers interleaved in each);
# simmer's two distributions are the same program with one worker, so N = 1 runs once.
# Nothing is pinned: the servers' N threads and the load generator share the machine's
# cores (on a 2-core machine, the load generator takes most of one), so req/s here does
# not show scaling; CPU per request does show what a worker costs.
#
# Needs: wrk, h2load (nghttp2-client), bc, python3 (+ pip/venv for FastAPI).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
EQUAL_DURATION=${EQUAL_DURATION:-15}
ROUNDS=${ROUNDS:-2}
WORKERS=${WORKERS:-"1 2"}
RATE=${RATE:-4000}
CONNS=${CONNS:-64}
WITH_FASTAPI=${WITH_FASTAPI:-1}
ADDR=127.0.0.1:18090
HZ=$(getconf CLK_TCK)
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT

cargo build --release --quiet --example hello --example hello_hyper

FASTAPI=0
if [ "$WITH_FASTAPI" = 1 ]; then
  VENV=${FASTAPI_VENV:-$OUT/venv}
  if [ -x "$VENV/bin/uvicorn" ] || { python3 -m venv "$VENV" >/dev/null 2>&1 &&
      "$VENV/bin/pip" install --quiet fastapi uvicorn >/dev/null 2>&1; }; then
    FASTAPI=1
    cat > "$OUT/fastapi_hello.py" <<'PY'
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()

@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext():
    return "Hello, World!"
PY
  else
    echo "(pip/venv unavailable: uvicorn + FastAPI skipped)" >&2
  fi
fi

# start name workers -> PID in $PID
start() {
  case $1 in
    simmer) target/release/examples/hello --addr "$ADDR" --workers "$2" >/dev/null 2>&1 & ;;
    simmer-reuseport) target/release/examples/hello --addr "$ADDR" --workers "$2" --reuse-port >/dev/null 2>&1 & ;;
    hyper) target/release/examples/hello_hyper --addr "$ADDR" --threads "$2" >/dev/null 2>&1 & ;;
    fastapi) (cd "$OUT" && exec "$VENV/bin/uvicorn" fastapi_hello:app --host 127.0.0.1 --port "${ADDR#*:}" \
                --workers "$2" --log-level warning --no-access-log) >/dev/null 2>&1 & ;;
  esac
  PID=$!
  for _ in $(seq 200); do
    curl -sf "http://$ADDR/plaintext" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server $1 did not start" >&2; exit 1
}

# CPU ticks of a process and all its descendants (uvicorn's workers are processes).
cpu_ticks() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; }

# wrk's latency ("812.00us", "9.76ms", "1.02s") in milliseconds.
p99_ms() {
  case $1 in
    *us) echo "${1%us} / 1000" | bc -l ;;
    *ms) echo "${1%ms}" ;;
    *s) echo "${1%s} * 1000" | bc -l ;;
  esac
}

# measure name workers -> appends "name workers load reqs rps p99 us_per_req"
measure() {
  local name=$1 n=$2 before after reqs rps p99
  start "$name" "$n"
  wrk -t1 -c"$CONNS" -d1s "http://$ADDR/plaintext" >/dev/null # warm-up
  before=$(cpu_ticks "$PID")
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://$ADDR/plaintext" > "$OUT/wrk.txt"
  after=$(cpu_ticks "$PID")
  grep -qE "Socket errors|Non-2xx" "$OUT/wrk.txt" && { echo "WARNING: $name N=$n errors:" >&2; grep -E "Socket errors|Non-2xx" "$OUT/wrk.txt" >&2; }
  reqs=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/wrk.txt")
  echo "$name $n saturating $reqs $rps $(p99_ms "$p99") $(echo "($after - $before) * 1000000 / $HZ / $reqs" | bc -l)" >> "$OUT/results.txt"
  # Equal load: RATE req/s from 32 clients for EQUAL_DURATION s.
  local total=$((RATE * EQUAL_DURATION))
  # uvicorn + FastAPI cannot carry RATE: a shorter window at its own ceiling.
  [ "$name" = fastapi ] && total=$((RATE * 2))
  before=$(cpu_ticks "$PID")
  h2load --h1 -c 32 --rps $((RATE / 32)) -n "$total" "http://$ADDR/plaintext" > "$OUT/h2load.txt"
  after=$(cpu_ticks "$PID")
  reqs=$(awk '/^requests:/ {print $8}' "$OUT/h2load.txt")
  [ "$reqs" = "$total" ] || echo "WARNING: $name N=$n answered $reqs of $total at $RATE req/s" >&2
  echo "$name $n equal $reqs $RATE - $(echo "($after - $before) * 1000000 / $HZ / $reqs" | bc -l)" >> "$OUT/results.txt"
  stop
}

SERVERS="simmer simmer-reuseport hyper"
[ "$FASTAPI" = 1 ] && SERVERS="$SERVERS fastapi"
for round in $(seq "$ROUNDS"); do
  for n in $WORKERS; do
    for name in $SERVERS; do
      [ "$name" = simmer-reuseport ] && [ "$n" = 1 ] && continue
      measure "$name" "$n"
    done
  done
done
cp "$OUT/results.txt" "${RESULTS:-/dev/null}" 2>/dev/null || true

python3 - "$OUT/results.txt" "$RATE" "$CONNS" "$ROUNDS" <<'PY'
import sys
from statistics import median
rows = [line.split() for line in open(sys.argv[1])]
rate, conns, rounds = sys.argv[2], sys.argv[3], sys.argv[4]
runs = {}
for r in rows:
    runs.setdefault((r[0], r[1], r[2]), []).append(r)
def med(key, col):
    values = [float(r[col]) for r in runs.get(key, []) if r[col] != "-"]
    return median(values) if values else float("nan")
label = {"simmer": "simmer (acceptor)", "simmer-reuseport": "simmer (SO_REUSEPORT)",
         "hyper": "tokio multi-thread + hyper", "fastapi": "uvicorn + FastAPI"}
print(f"median of {rounds} round(s)")
print(f"| server | N | wrk -c{conns} req/s | p99 | CPU/req (saturating) | CPU/req at {int(rate):,} req/s | vs hyper, same N, equal load |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for (name, n, load) in runs:
    if load != "saturating":
        continue
    eq = med((name, n, "equal"), 6)
    hyper = med(("hyper", n, "equal"), 6)
    print(f"| {label[name]} | {n} | {med((name, n, load), 4):,.0f} | {med((name, n, load), 5):.2f} ms "
          f"| {med((name, n, load), 6):.2f} µs | {eq:.2f} µs | {eq / hyper:.2f}x |")
print()
print("every run (server N load requests req/s p99_ms cpu_us_per_req):")
for r in rows:
    print("  " + " ".join(r))
PY
