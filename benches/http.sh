#!/usr/bin/env bash
# simmer's examples/hello against tokio current_thread + hyper 1.x (examples/hello_hyper),
# side by side in one run. Each server is pinned to CPU 0, wrk to CPU 1; the two are
# interleaved per configuration. Since wrk saturates its core before either server does,
# the compared figure is the server's CPU time per request (utime + stime from
# /proc/PID/stat over the measured window / requests answered), next to req/s and p99.
#
#   bash benches/http.sh                 # DURATION=5 by default
#   DURATION=5 ROUNDS=4 bash benches/http.sh   # even ROUNDS: each server first as often
#   WITH_FLOOR=1 bash benches/http.sh          # also examples/floor.rs, a bare mio loop
#   WITH_RAW=0 bash benches/http.sh            # without examples/hello_raw.rs
#
# The floor is about the least CPU per request any server can spend here (no parsing, a
# canned response): what is left of it is mostly kernel time, which bounds the ratios.
#
# Needs: wrk, h2load (nghttp2-client), perf (linux-perf) for syscall counts, taskset.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-1}
WITH_FLOOR=${WITH_FLOOR:-0}
# examples/hello_raw.rs: tokio + httparse by hand, no checks, no router (the reference
# point of benches/instructions.sh).
WITH_RAW=${WITH_RAW:-1}
RAW_ADDR=127.0.0.1:18083
SIMMER_ADDR=127.0.0.1:18080
HYPER_ADDR=127.0.0.1:18081
FLOOR_ADDR=127.0.0.1:18082
HZ=$(getconf CLK_TCK)
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT

cargo build --release --quiet --example hello --example hello_hyper --example floor --example hello_raw
# -p simmer: build only the root package's features (workspace members' dev-dependencies
# would otherwise switch features back on).
cargo build -p simmer --profile small --quiet --example hello --no-default-features --features json
cp target/small/examples/hello "$OUT/hello-small-nosignals"
# The small build: the HTTP server with JSON and signals, no TLS, WebSockets or drivers.
cargo build -p simmer --profile small --quiet --example hello --no-default-features --features json,signals

start_server() { # name addr -> PID in $PID
  local bin=target/release/examples/$1
  taskset -c 0 "$bin" --addr "$2" >/dev/null 2>&1 &
  PID=$!
  for _ in $(seq 100); do
    curl -sf "http://$2/plaintext" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server $1 did not start" >&2; exit 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# simmer and hyper shut down gracefully on SIGINT. The floor has no handler, and a
# background job of a script ignores SIGINT, so it gets SIGTERM.
stop_server() { # name
  if [ "$1" = floor ]; then kill -TERM "$PID"; else kill -INT "$PID"; fi
  wait "$PID" 2>/dev/null || true
}

# run_wrk name addr conns depth -> appends "name conns depth reqs rps p99 us_per_req" to results
run_wrk() {
  local name=$1 addr=$2 conns=$3 depth=$4
  start_server "$name" "$addr"
  local script=() ; [ "$depth" -gt 1 ] && script=(-s benches/pipeline.lua)
  taskset -c 1 wrk -t1 -c"$conns" -d1s "${script[@]}" "http://$addr/plaintext" -- "$depth" >/dev/null  # warm-up
  local before; before=$(cpu_ticks "$PID")
  taskset -c 1 wrk -t1 -c"$conns" -d"${DURATION}s" --latency "${script[@]}" "http://$addr/plaintext" -- "$depth" > "$OUT/wrk.txt"
  local after; after=$(cpu_ticks "$PID")
  if [ "$conns" -ge 256 ]; then
    grep VmHWM "/proc/$PID/status" | awk -v n="$name" '{print n, $2}' >> "$OUT/hwm.txt"
  fi
  stop_server "$name"
  if grep -qE "Socket errors|Non-2xx" "$OUT/wrk.txt"; then
    echo "WARNING: $name c=$conns depth=$depth had errors:" >&2; grep -E "Socket errors|Non-2xx" "$OUT/wrk.txt" >&2
  fi
  local reqs rps p99
  reqs=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/wrk.txt")
  echo "$name $conns $depth $reqs $rps $p99 $(echo "($after - $before) * 1000000 / $HZ / $reqs" | bc -l)" >> "$OUT/results.txt"
}

# Syscalls per request under a fixed count (no pipelining), and how many of them are
# epoll_wait: reads and writes are one each per request at best, while the number of
# waits depends on how many connections turn ready at once (timing, not design).
syscalls() { # name addr
  start_server "$1" "$2"
  taskset -c 1 h2load --h1 -n 20000 -c 64 "http://$2/plaintext" >/dev/null
  perf stat -e raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait -p "$PID" -o "$OUT/perf.txt" -- \
    taskset -c 1 h2load --h1 -n 200000 -c 64 "http://$2/plaintext" > "$OUT/h2load.txt"
  stop_server "$1"
  local n waits
  n=$(awk '/raw_syscalls:sys_enter/ {gsub(",", "", $1); print $1}' "$OUT/perf.txt")
  waits=$(awk '/sys_enter_epoll_wait/ {gsub(",", "", $1); print $1}' "$OUT/perf.txt")
  grep -q "200000 succeeded" "$OUT/h2load.txt" || { echo "h2load errors for $1" >&2; cat "$OUT/h2load.txt" >&2; }
  echo "$1 $(echo "$n / 200000" | bc -l) $(echo "$waits / 200000" | bc -l)" >> "$OUT/syscalls.txt"
}

COUNT_SYSCALLS=0
if perf stat -e raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait true >/dev/null 2>&1; then
  COUNT_SYSCALLS=1
else
  echo "(perf cannot count raw_syscalls here: syscall line skipped)" >&2
fi

addr_of() {
  case $1 in hello) echo "$SIMMER_ADDR" ;; hello_hyper) echo "$HYPER_ADDR" ;; hello_raw) echo "$RAW_ADDR" ;; *) echo "$FLOOR_ADDR" ;; esac
}

for round in $(seq "$ROUNDS"); do
  # Which server goes first alternates by round: a run right after a heavy one (the
  # h2load burst, 256 connections closing) sees a noisier machine.
  if [ $((round % 2)) = 1 ]; then order="hello hello_hyper"; else order="hello_hyper hello"; fi
  runs=$order
  [ "$WITH_RAW" = 1 ] && runs="$runs hello_raw"
  [ "$WITH_FLOOR" = 1 ] && runs="$runs floor"
  for conns in 16 256; do
    for depth in 1 16; do
      for name in $runs; do run_wrk "$name" "$(addr_of "$name")" "$conns" "$depth"; done
    done
  done
  if [ "$COUNT_SYSCALLS" = 1 ]; then
    for name in $order; do syscalls "$name" "$(addr_of "$name")"; done
  fi
done

size_of() { local f="$OUT/$(basename "$1").stripped"; strip -o "$f" "$1"; stat -c %s "$f"; }

python3 - "$OUT" "$(size_of target/release/examples/hello)" "$(size_of target/release/examples/hello_hyper)" "$(stat -c %s target/small/examples/hello)" "$(stat -c %s "$OUT/hello-small-nosignals")" <<'PY'
import sys, statistics, collections
out, simmer_size, hyper_size, small_size, small_nosig = sys.argv[1], *map(int, sys.argv[2:])
rows = collections.defaultdict(list)
for line in open(f"{out}/results.txt"):
    name, conns, depth, reqs, rps, p99, us = line.split()
    rows[(int(conns), int(depth), name)].append((float(rps), p99, float(us)))
def med(xs): return statistics.median(xs)
def micros(text):  # wrk prints 850.00us, 2.31ms, 1.02s
    for unit, scale in (("us", 1), ("ms", 1e3), ("s", 1e6)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * scale
    return float("nan")
def p99_of(rows, depth):  # wrk has no per-request latency when pipelining
    return f"{med([micros(r[1]) for r in rows]) / 1000:.2f} ms" if depth == 1 else "n/a"
print("| load (wrk, /plaintext) | simmer req/s | hyper req/s | simmer p99 | hyper p99 | simmer CPU/req | hyper CPU/req | CPU ratio |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for conns in (16, 256):
    for depth in (1, 16):
        s, h = rows[(conns, depth, "hello")], rows[(conns, depth, "hello_hyper")]
        s_us, h_us = med([r[2] for r in s]), med([r[2] for r in h])
        label = f"-c {conns}" + (f", pipelined x{depth}" if depth > 1 else "")
        print(f"| {label} | {med([r[0] for r in s]):,.0f} | {med([r[0] for r in h]):,.0f} | {p99_of(s, depth)} | {p99_of(h, depth)} | {s_us:.2f} µs | {h_us:.2f} µs | **{s_us / h_us:.2f}x** |")
if any(k[2] == "hello_raw" for k in rows):
    print("\nRequests per second per server core (wrk's req/s / the server's CPU seconds per second):")
    print("| load | simmer | hyper | hello_raw | simmer / hyper | hello_raw / hyper |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for conns in (16, 256):
        for depth in (1, 16):
            s, h, r = (1e6 / med([x[2] for x in rows[(conns, depth, n)]]) for n in ("hello", "hello_hyper", "hello_raw"))
            label = f"-c {conns}" + (f", pipelined x{depth}" if depth > 1 else "")
            print(f"| {label} | {s:,.0f} | {h:,.0f} | {r:,.0f} | **{s / h:.2f}x** | {r / h:.2f}x |")
if any(k[2] == "floor" for k in rows):
    print("\nThe floor (examples/floor.rs, a bare mio loop with a canned response):")
    print("| load | floor CPU/req | floor / hyper | simmer / hyper |")
    print("| --- | ---: | ---: | ---: |")
    for conns in (16, 256):
        for depth in (1, 16):
            f, s, h = (med([r[2] for r in rows[(conns, depth, n)]]) for n in ("floor", "hello", "hello_hyper"))
            label = f"-c {conns}" + (f", pipelined x{depth}" if depth > 1 else "")
            print(f"| {label} | {f:.2f} µs | {f / h:.2f}x | {s / h:.2f}x |")
try:
    sc = collections.defaultdict(list)
    for l in open(f"{out}/syscalls.txt"):
        name, total, waits = l.split()
        sc[name].append((float(total), float(waits)))
    s_all, s_wait = (med([r[i] for r in sc["hello"]]) for i in (0, 1))
    h_all, h_wait = (med([r[i] for r in sc["hello_hyper"]]) for i in (0, 1))
    print(f"\nsyscalls per request (h2load --h1 -n 200000 -c 64, median): simmer {s_all:.2f} (epoll_wait {s_wait:.2f}), "
          f"hyper {h_all:.2f} (epoll_wait {h_wait:.2f})")
except FileNotFoundError:
    pass
hwm = dict(l.split() for l in open(f"{out}/hwm.txt"))
print(f"peak RSS (VmHWM) after the -c 256 runs: simmer {int(hwm['hello'])/1024:.1f} MiB, hyper {int(hwm['hello_hyper'])/1024:.1f} MiB")
print(f"stripped binary: simmer {simmer_size/1024:.0f} KiB (release), {small_size/1024:.0f} KiB (profile small), "
      f"{small_nosig/1024:.0f} KiB (profile small, no signals feature); hyper {hyper_size/1024:.0f} KiB (release)")
PY
