#!/usr/bin/env bash
# A sequential burst of connects: one client opens COUNT connections one after another
# (10,000), keeping each open, then sends one request on each and reads the answer.
# Against simmer (examples/hello, 1 and 2 workers) and tokio + hyper
# (examples/hello_hyper, 2 threads). For each: the time the connects took, the slowest
# connect (a dropped SYN is retransmitted after 1 s, 3 s, 7 s…: a connect of a second or
# more is a retransmit), and the kernel's counters over the burst (nstat):
# ListenOverflows / ListenDrops (the accept queue was full), TCPSynRetrans,
# SyncookiesSent (the SYN queue was full). Also the listener's backlog (`ss -lnt`:
# Send-Q is the backlog the kernel granted, Recv-Q the connections waiting) and the
# limits that bound it (somaxconn, tcp_max_syn_backlog).
#
#   bash benches/connect_burst.sh                 # COUNT=10000
#   NOFILE=1024 bash benches/connect_burst.sh     # servers under a hard limit of 1024
#                                                 # descriptors: the backlog fills
#
# Needs: python3, nstat and ss (iproute2), curl.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-10000}
NOFILE=${NOFILE:-}
ADDR=127.0.0.1:18092
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT

cargo build --release --quiet --example hello --example hello_hyper

echo "net.core.somaxconn=$(sysctl -n net.core.somaxconn)" \
  "net.ipv4.tcp_max_syn_backlog=$(sysctl -n net.ipv4.tcp_max_syn_backlog)" \
  "net.ipv4.tcp_syncookies=$(sysctl -n net.ipv4.tcp_syncookies)" \
  "ulimit -n (this shell): $(ulimit -n)${NOFILE:+, servers: $NOFILE}"

start() { # name args... -> PID in $PID
  local bin=target/release/examples/$1
  shift
  if [ -n "$NOFILE" ]; then
    (ulimit -Hn "$NOFILE" && ulimit -Sn "$NOFILE" && exec "$bin" --addr "$ADDR" "$@") >/dev/null 2>"$OUT/stderr" &
  else
    "$bin" --addr "$ADDR" "$@" >/dev/null 2>"$OUT/stderr" &
  fi
  PID=$!
  for _ in $(seq 200); do
    curl -sf "http://$ADDR/plaintext" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server $1 did not start" >&2; exit 1
}

burst() { # label
  nstat -n # reset the counters' baseline
  local backlog
  backlog=$(ss -lnt "sport = :${ADDR#*:}" | awk 'NR==2 {print "Recv-Q " $2 ", Send-Q (backlog) " $3}')
  python3 - "$ADDR" "$COUNT" <<'PY' > "$OUT/burst.txt"
import resource, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
count = int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
conns, slowest, over_1s, failed = [], 0.0, 0, 0
start = time.monotonic()
for _ in range(count):
    t = time.monotonic()
    try:
        conns.append(socket.create_connection((host, int(port)), timeout=70))
    except OSError:
        failed += 1
    took = time.monotonic() - t
    slowest = max(slowest, took)
    over_1s += took >= 1.0
connect_s = time.monotonic() - start
answered = 0
request = b"GET /plaintext HTTP/1.1\r\nHost: burst\r\n\r\n"
for s in conns:
    try:
        s.settimeout(30)
        s.sendall(request)
        answered += b"200" in s.recv(4096)[:12]
    except OSError:
        pass
total_s = time.monotonic() - start
for s in conns:
    s.close()
print(f"connects {connect_s:.2f} s, slowest {slowest * 1000:.0f} ms, {over_1s} took >= 1 s, "
      f"{failed} failed; {answered}/{count} answered; all done in {total_s:.2f} s")
PY
  local counters
  counters=$(nstat -z TcpExtListenOverflows TcpExtListenDrops TcpExtTCPSynRetrans TcpExtSyncookiesSent 2>/dev/null |
    awk 'NR>1 && $1 !~ /^#/ {printf "%s=%s ", $1, $2}')
  echo "$1: $(cat "$OUT/burst.txt")"
  echo "    listener before: $backlog; over the burst: ${counters:-none}"
  grep -m2 . "$OUT/stderr" | sed 's/^/    server said: /' || true
}

for server in "hello --workers 1" "hello --workers 2" "hello_hyper --threads 2"; do
  # shellcheck disable=SC2086
  start $server
  burst "$server"
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
  sleep 1 # let the closed connections' TIME_WAIT settle off the counters
done
