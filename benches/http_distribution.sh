#!/usr/bin/env bash
# How connections reach the workers: one acceptor thread dealing them round-robin
# (Distribution::Acceptor) against one SO_REUSEPORT listener per worker
# (Distribution::ReusePort), both examples/hello --workers N, interleaved, under
#   - few keep-alive connections (wrk -c4),
#   - many keep-alive connections (wrk -c256),
#   - a new connection per request (wrk -c64 with "Connection: close"), where the
#     acceptor's handoff is paid on every request.
# For each: req/s, p99, server CPU per request, and the spread: each worker thread's
# share of the server's CPU (from /proc/PID/task/TID/stat; an even spread over two
# workers is 50/50). Figures are medians over ROUNDS rounds.
#
#   bash benches/http_distribution.sh                # N=2, DURATION=5, ROUNDS=2
#   N=4 ROUNDS=3 bash benches/http_distribution.sh
#
# On a 2-core machine the load generator shares the cores with the workers.
# Needs: wrk, curl, bc, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-2}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-2}
ADDR=127.0.0.1:18091
HZ=$(getconf CLK_TCK)
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT

cargo build --release --quiet --example hello

start() { # distribution -> PID in $PID
  local flag=""
  [ "$1" = reuseport ] && flag=--reuse-port
  target/release/examples/hello --addr "$ADDR" --workers "$N" $flag >/dev/null 2>&1 &
  PID=$!
  for _ in $(seq 200); do
    curl -sf "http://$ADDR/plaintext" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "hello ($1) did not start" >&2; exit 1
}

# "name ticks" for each simmer-worker-N thread of $PID, and "total ticks".
thread_ticks() {
  local total=0 task comm ticks
  for task in /proc/"$PID"/task/*; do
    comm=$(cat "$task/comm")
    ticks=$(awk '{print $14 + $15}' "$task/stat")
    total=$((total + ticks))
    case $comm in simmer-worker-*) echo "$comm $ticks" ;; esac
  done
  echo "total $total"
}

# wrk's latency ("812.00us", "9.76ms", "1.02s") in milliseconds.
p99_ms() {
  case $1 in
    *us) echo "${1%us} / 1000" | bc -l ;;
    *ms) echo "${1%ms}" ;;
    *s) echo "${1%s} * 1000" | bc -l ;;
  esac
}

measure() { # distribution load
  local dist=$1 load=$2 args
  case $load in
    few) args="-c4" ;;
    many) args="-c256" ;;
    close) args="-c64 -H Connection:close" ;;
  esac
  start "$dist"
  # shellcheck disable=SC2086
  wrk -t1 $args -d1s "http://$ADDR/plaintext" >/dev/null # warm-up
  thread_ticks > "$OUT/before"
  # shellcheck disable=SC2086
  wrk -t1 $args -d"${DURATION}s" --latency "http://$ADDR/plaintext" > "$OUT/wrk.txt"
  thread_ticks > "$OUT/after"
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
  local reqs rps p99 spread
  reqs=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.txt")
  p99=$(p99_ms "$(awk '$1=="99%" {print $2}' "$OUT/wrk.txt")")
  # Worker shares of the workers' CPU, in percent, largest first: "71/29".
  spread=$(join <(sort "$OUT/before") <(sort "$OUT/after") | awk '$1 != "total" {d[$1] = $3 - $2; s += $3 - $2}
      END {for (w in d) printf "%d\n", (s ? 100 * d[w] / s : 0)}' | sort -rn | paste -sd/)
  local total=$(( $(awk '$1=="total" {print $2}' "$OUT/after") - $(awk '$1=="total" {print $2}' "$OUT/before") ))
  echo "$dist $load $reqs $rps $p99 $(echo "$total * 1000000 / $HZ / $reqs" | bc -l) $spread" >> "$OUT/results.txt"
}

for round in $(seq "$ROUNDS"); do
  for load in few many close; do
    for dist in acceptor reuseport; do measure "$dist" "$load"; done
  done
done

python3 - "$OUT/results.txt" "$N" "$ROUNDS" <<'PY'
import sys
from statistics import median
rows = [line.split() for line in open(sys.argv[1])]
n, rounds = sys.argv[2], sys.argv[3]
loads = {"few": "wrk -c4 keep-alive", "many": "wrk -c256 keep-alive",
         "close": "wrk -c64, Connection: close"}
print(f"{n} workers, median of {rounds} round(s)")
print("| load | distribution | req/s | p99 | CPU/req | worker CPU shares (each run) |")
print("| --- | --- | ---: | ---: | ---: | --- |")
for load in loads:
    for dist in ("acceptor", "reuseport"):
        runs = [r for r in rows if r[0] == dist and r[1] == load]
        med = lambda i: median(float(r[i]) for r in runs)
        shares = ", ".join(r[6] if len(r) > 6 else "?" for r in runs)
        name = "acceptor" if dist == "acceptor" else "SO_REUSEPORT"
        print(f"| {loads[load]} | {name} | {med(3):,.0f} | {med(4):.2f} ms | {med(5):.2f} µs | {shares} |")
PY
