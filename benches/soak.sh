#!/usr/bin/env bash
# Soak: DURATION seconds (default 1200, 20 minutes) of mixed load against
# examples/backend: keep-alive (wrk), pipelined (wrk, 16 deep), and from
# benches/soak_load.py chunked uploads, aborted bodies, ignored bodies, the panicking
# route, slow clients and stalled heads (cut at a 2 s header timeout). Samples the
# server's RSS and open fds every INTERVAL seconds (default 30) and prints them with
# their growth over the sample after the first minute; then one sample after the load
# stops, when every connection should be gone.
#
#   bash benches/soak.sh                    # 20 minutes
#   DURATION=120 INTERVAL=10 bash benches/soak.sh
#   BIN=target/release/examples/backend bash benches/soak.sh   # no build first
#
# Targets: RSS within 5% of its value after the first minute, fds back to their idle
# count, zero unexpected errors (wrk socket errors or non-2xx, soak_load.py's count).
# The load generators run under nice; the machine may be shared. Needs wrk, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-1200}
INTERVAL=${INTERVAL:-30}
ADDR=${ADDR:-127.0.0.1:18090}
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT

# BIN: an already built backend (skips the build).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --example backend
  BIN=target/release/examples/backend
fi
"$BIN" --addr "$ADDR" --header-timeout-ms 2000 \
  >"$OUT/server.out" 2>"$OUT/server.err" &
PID=$!
for _ in $(seq 100); do
  grep -q listening "$OUT/server.out" 2>/dev/null && break
  sleep 0.1
done
kill -0 "$PID"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
fds() { ls "/proc/$PID/fd" | wc -l; }
idle_fds=$(fds)

nice -n 10 wrk -t1 -c16 -d"${DURATION}s" --latency "http://$ADDR/hello" >"$OUT/wrk-keepalive.txt" 2>&1 &
nice -n 10 wrk -t1 -c4 -d"${DURATION}s" -s benches/pipeline.lua "http://$ADDR/hello" -- 16 \
  >"$OUT/wrk-pipelined.txt" 2>&1 &
nice -n 10 python3 benches/soak_load.py "${ADDR%:*}" "${ADDR##*:}" "$DURATION" \
  >"$OUT/load.txt" 2>&1 &
LOAD=$!

printf '%8s %10s %8s %6s\n' "time(s)" "RSS(KiB)" "growth" "fds"
start=$(date +%s)
base=""
elapsed=0
while [ "$elapsed" -lt "$DURATION" ]; do
  sleep "$INTERVAL"
  elapsed=$(( $(date +%s) - start ))
  rss=$(rss_kib)
  if [ -z "$base" ] && [ "$elapsed" -ge 60 ]; then base=$rss; fi
  growth="-"
  [ -n "$base" ] && growth=$(awk -v r="$rss" -v b="$base" 'BEGIN {printf "%+.1f%%", (r-b)*100/b}')
  printf '%8s %10s %8s %6s\n' "$elapsed" "$rss" "$growth" "$(fds)"
done
load_status=0
wait "$LOAD" || load_status=$?
for job in $(jobs -p); do [ "$job" = "$PID" ] || wait "$job" 2>/dev/null || true; done
sleep 3 # the last connections close
rss=$(rss_kib)
growth=$(awk -v r="$rss" -v b="${base:-$rss}" 'BEGIN {printf "%+.1f%%", (r-b)*100/b}')
printf '%8s %10s %8s %6s   (after the load; idle fds before it: %s)\n' idle "$rss" "$growth" "$(fds)" "$idle_fds"

echo "== wrk keep-alive"
grep -E "Requests/sec|requests in|Socket errors|Non-2xx|99%" "$OUT/wrk-keepalive.txt" || true
echo "== wrk pipelined (16 deep)"
grep -E "Requests/sec|requests in|Socket errors|Non-2xx" "$OUT/wrk-pipelined.txt" || true
echo "== soak_load.py"
cat "$OUT/load.txt"
echo "== server stderr (first lines; panics from /panic are expected)"
grep -v "panic" "$OUT/server.err" | head -5 || true
kill -TERM "$PID"
wait "$PID" || true
bad=$(cat "$OUT"/wrk-*.txt | grep -cE "Socket errors|Non-2xx" || true)
[ "$bad" -eq 0 ] && [ "$load_status" -eq 0 ] && echo "soak: OK" || { echo "soak: UNEXPECTED ERRORS"; exit 1; }
