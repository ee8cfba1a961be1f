#!/usr/bin/env bash
# HTTPS and WebSockets, simmer (examples/hello_tls) against tokio + tokio-rustls + hyper
# and tokio-tungstenite (examples/hello_tls_tokio), side by side in one run, each on one
# loop pinned to CPU 0, the load on CPU 1:
#
#   1. full TLS handshakes per second (benches/tls_load.rs: rustls client, resumption
#      off, one request per connection), and the server's CPU per handshake;
#   2. pipelined requests on established TLS connections (wrk over https, 16
#      connections, depth 16): requests per second and the server's CPU per request;
#   3. WebSocket echo round trips on 1 and on 1,000 connections (tokio-tungstenite
#      client): round trips per second and the server's CPU per round trip.
#
# Server CPU is utime + stime from /proc/PID/stat over the measured window. Both
# servers use rustls 0.23 with ring and an ECDSA P-256 certificate made for the run.
#
#   bash benches/tls.sh               # DURATION=5 by default
#   DURATION=10 bash benches/tls.sh
#
# Needs: wrk, openssl, taskset, bc.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
SIMMER_ADDR=127.0.0.1:18443
TOKIO_ADDR=127.0.0.1:18444
HZ=$(getconf CLK_TCK)
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT

cargo build --release --quiet --example hello_tls --example hello_tls_tokio
cargo build --release --quiet --bench tls_load
LOAD=$(ls -t target/release/deps/tls_load-* | grep -v '\.d$' | head -1)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost -addext basicConstraints=critical,CA:FALSE \
  -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null

start() { # name addr args... -> PID
  local name=$1 addr=$2; shift 2
  taskset -c 0 "target/release/examples/$name" --addr "$addr" "$@" >/dev/null 2>&1 &
  PID=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$name did not start" >&2; exit 1
}
stop() { kill -INT "$PID"; wait "$PID" 2>/dev/null || true; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
us_per() { echo "scale=2; ($2 - $1) * 1000000 / $HZ / $3" | bc -l; }

tls_args=(--tls-cert "$OUT/cert.pem" --tls-key "$OUT/key.pem")

handshakes() { # name addr
  start "$1" "$2" "${tls_args[@]}"
  taskset -c 1 "$LOAD" handshakes "localhost:${2#*:}" "$OUT/cert.pem" 1 4 >/dev/null
  local before after n; before=$(ticks "$PID")
  n=$(taskset -c 1 "$LOAD" handshakes "localhost:${2#*:}" "$OUT/cert.pem" "$DURATION" 4 | awk '/done/ {print $2}')
  after=$(ticks "$PID"); stop
  echo "handshakes $1 $(echo "scale=0; $n / $DURATION" | bc) $(us_per "$before" "$after" "$n")" >> "$OUT/results.txt"
}

pipelined() { # name addr
  start "$1" "$2" "${tls_args[@]}"
  local url="https://localhost:${2#*:}/plaintext"
  taskset -c 1 wrk -t1 -c16 -d1s -s benches/pipeline.lua "$url" -- 16 >/dev/null
  local before after; before=$(ticks "$PID")
  taskset -c 1 wrk -t1 -c16 -d"${DURATION}s" -s benches/pipeline.lua "$url" -- 16 > "$OUT/wrk.txt"
  after=$(ticks "$PID"); stop
  grep -qE "Socket errors|Non-2xx" "$OUT/wrk.txt" && { echo "WARNING: $1 had errors" >&2; cat "$OUT/wrk.txt" >&2; }
  local n rps; n=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt"); rps=$(awk '/Requests\/sec/ {printf "%d", $2}' "$OUT/wrk.txt")
  echo "pipelined $1 $rps $(us_per "$before" "$after" "$n")" >> "$OUT/results.txt"
}

ws_echo() { # name addr conns args...
  local name=$1 addr=$2 conns=$3; shift 3
  start "$name" "$addr" "$@"
  local url="ws://$addr/ws"
  taskset -c 1 "$LOAD" ws "$url" 1 "$conns" >/dev/null 2>&1
  local before after n; before=$(ticks "$PID")
  n=$(taskset -c 1 "$LOAD" ws "$url" "$DURATION" "$conns" 2>/dev/null | awk '/done/ {print $2}')
  after=$(ticks "$PID"); stop
  echo "ws$conns $name $(echo "scale=0; $n / $DURATION" | bc) $(us_per "$before" "$after" "$n")" >> "$OUT/results.txt"
}

ulimit -n 65536 2>/dev/null || true
handshakes hello_tls "$SIMMER_ADDR"; handshakes hello_tls_tokio "$TOKIO_ADDR"
pipelined hello_tls "$SIMMER_ADDR"; pipelined hello_tls_tokio "$TOKIO_ADDR"
for conns in 1 1000; do
  ws_echo hello_tls "$SIMMER_ADDR" "$conns"
  ws_echo hello_tls_tokio "$TOKIO_ADDR" "$conns" --ws
done

echo
echo "DURATION=${DURATION}s; one loop each on CPU 0, load on CPU 1"
printf "%-22s %12s %12s %12s %12s %8s %8s\n" test "simmer/s" "tokio/s" "simmer µs" "tokio µs" "rate x" "CPU x"
while read -r test _ s_rate s_cpu && read -r _ _ t_rate t_cpu; do
  printf "%-22s %12s %12s %12s %12s %8.2f %8.2f\n" "$test" "$s_rate" "$t_rate" "$s_cpu" "$t_cpu" \
    "$(echo "$s_rate / $t_rate" | bc -l)" "$(echo "$t_cpu / $s_cpu" | bc -l)"
done < "$OUT/results.txt"
echo "(µs: server CPU per handshake, request or round trip; CPU x = tokio µs / simmer µs, above 1 means simmer spends less)"
