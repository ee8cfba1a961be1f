#!/usr/bin/env bash
# User-space instructions per request, counted by callgrind (repeatable to within a
# fraction of a percent, unlike wall-clock figures on a shared machine): simmer's
# examples/hello, tokio + hyper (examples/hello_hyper) and tokio + httparse written by
# hand (examples/hello_raw, no checks, no router: the reference point), each under the
# same wrk loads.
#
#   bash benches/instructions.sh            # DURATION=5 seconds of wrk per load
#   SERVERS="hello" LOADS="pipelined-plaintext" bash benches/instructions.sh
#   KEEP=1 bash benches/instructions.sh     # keep the callgrind.out files, for
#                                           # callgrind_annotate (path printed at the end)
#   SERVERS=hello SERVER_ARGS="--workers 2" bash benches/instructions.sh
#                                           # every thread counted: workers, acceptor
#
# Each figure is (Ir of a run with the load - Ir of a run without it) / requests wrk
# reports, so start-up, the readiness probe and shutdown cancel out. Loads: wrk -t1
# -c16, pipelined 16 deep (benches/pipeline.lua) on /plaintext and /json, and not
# pipelined on /plaintext. The servers are built with `--profile callgrind` (release,
# with debug symbols).
#
# Needs: valgrind, wrk, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
SERVERS=${SERVERS:-"hello hello_hyper hello_raw"}
LOADS=${LOADS:-"pipelined-plaintext pipelined-json plaintext"}
ADDR=${ADDR:-127.0.0.1:28090}
SERVER_ARGS=${SERVER_ARGS:-}
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ "${KEEP:-0}" = 1 ] || rm -rf "$OUT"' EXIT

cargo build --profile callgrind --quiet \
  --example hello --example hello_hyper --example hello_raw

# run name tag [wrk args...]: the server under callgrind, optionally loaded by wrk;
# prints the total instructions and wrk's request count.
run() {
  local name=$1 tag=$2; shift 2
  # shellcheck disable=SC2086 # SERVER_ARGS is split into words on purpose
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$name.$tag" \
    "target/callgrind/examples/$name" --addr "$ADDR" $SERVER_ARGS >/dev/null 2>"$OUT/valgrind.log" &
  local pid=$!
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { echo "$name exited (port $ADDR taken?):" >&2; cat "$OUT/valgrind.log" >&2; exit 1; }
    curl -sf "http://$ADDR/plaintext" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local reqs=0
  if [ $# -gt 0 ]; then
    wrk -t1 -c16 -d"${DURATION}s" "$@" > "$OUT/wrk.txt"
    reqs=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
    if grep -q "Non-2xx" "$OUT/wrk.txt"; then echo "non-2xx answers from $name" >&2; fi
  fi
  kill -INT "$pid"
  wait "$pid" || true
  local ir
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$OUT/callgrind.$name.$tag")
  echo "$ir $reqs"
}

load_args() { # load -> wrk arguments
  case $1 in
    pipelined-plaintext) echo "-s benches/pipeline.lua http://$ADDR/plaintext -- 16" ;;
    pipelined-json) echo "-s benches/pipeline.lua http://$ADDR/json -- 16" ;;
    plaintext) echo "http://$ADDR/plaintext" ;;
    json) echo "http://$ADDR/json" ;;
  esac
}

for name in $SERVERS; do
  read -r idle _ < <(run "$name" idle)
  for load in $LOADS; do
    # shellcheck disable=SC2046
    read -r ir reqs < <(run "$name" "$load" $(load_args "$load"))
    echo "$name $load $(( (ir - idle) / reqs )) $reqs" >> "$OUT/results.txt"
  done
done

python3 - "$OUT/results.txt" "$SERVERS" "$LOADS" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, load, per, reqs = line.split()
    rows[(name, load)] = (int(per), int(reqs))
servers, loads = sys.argv[2].split(), sys.argv[3].split()
label = {"hello": "simmer", "hello_hyper": "tokio + hyper", "hello_raw": "tokio + httparse (hello_raw)"}
print("| instructions per request (wrk -t1 -c16) | " + " | ".join(label.get(s, s) for s in servers) + " |")
print("| --- |" + " ---: |" * len(servers))
for load in loads:
    desc = {"pipelined-plaintext": "/plaintext, pipelined x16", "pipelined-json": "/json, pipelined x16",
            "plaintext": "/plaintext, not pipelined", "json": "/json, not pipelined"}[load]
    print(f"| {desc} | " + " | ".join(f"{rows[(s, load)][0]:,}" for s in servers) + " |")
print("(requests counted: " + ", ".join(f"{s} {l} {rows[(s, l)][1]:,}" for s in servers for l in loads) + ")")
PY
[ "${KEEP:-0}" = 1 ] && echo "callgrind files kept in $OUT"
true
