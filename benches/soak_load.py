#!/usr/bin/env python3
"""Mixed hostile-and-normal load for benches/soak.sh, against examples/backend.

Each scenario runs in its own threads for DURATION seconds and counts outcomes; any
outcome other than the expected one is an "unexpected error", printed and counted.
Scenarios: chunked uploads echoed back, bodies aborted mid-way (the client vanishes),
a handler that ignores its body, the panicking route (must be a 500), slow clients
sending their head a few bytes at a time, and stalled heads cut at the header timeout.
Keep-alive and pipelined load come from wrk, started by soak.sh beside this.

usage: soak_load.py HOST PORT DURATION
"""
import socket
import sys
import threading
import time

HOST, PORT, DURATION = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
DEADLINE = time.monotonic() + DURATION
lock = threading.Lock()
counts = {}
unexpected = {}


def note(scenario, ok, detail=""):
    with lock:
        key = scenario if ok else scenario + " UNEXPECTED"
        counts[key] = counts.get(key, 0) + 1
        if not ok and unexpected.get(scenario, 0) < 5:
            unexpected[scenario] = unexpected.get(scenario, 0) + 1
            print(f"unexpected in {scenario}: {detail}", file=sys.stderr, flush=True)


def connect():
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Reader:
    """A socket and the bytes read from it but not yet used: a read can hold the start
    of the next response (pipelined responses often arrive in one segment)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self, what):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError(f"closed {what} ({self.buf[:60]!r})")
        self.buf += data


def read_response(r):
    """Reads one response (Content-Length or chunked bodies) from Reader r, leaving what
    follows it in r.buf; returns (status, body)."""
    while b"\r\n\r\n" not in r.buf:
        r.fill("before a response head")
    head, _, r.buf = r.buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        n = int(headers[b"content-length"])
        while len(r.buf) < n:
            r.fill("inside a body")
        body, r.buf = r.buf[:n], r.buf[n:]
        return status, body
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            while b"\r\n" not in r.buf:
                r.fill("inside a chunked body")
            line, _, r.buf = r.buf.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            while len(r.buf) < size + 2:
                r.fill("inside a chunked body")
            body, r.buf = body + r.buf[:size], r.buf[size + 2 :]
            if size == 0:  # the last chunk (soak's routes send no trailers)
                return status, body
    body, r.buf = r.buf, b""
    return status, body


def scenario(name, threads):
    def wrap(fn):
        def loop():
            i = 0
            while time.monotonic() < DEADLINE:
                i += 1
                try:
                    fn(i)
                except Exception as e:  # a failure is an outcome, not the end
                    note(name, False, repr(e))
        for _ in range(threads):
            threading.Thread(target=loop, daemon=True).start()
        return fn
    return wrap


@scenario("chunked upload", 2)
def chunked_upload(i):
    pieces = [bytes([65 + (i + k) % 26]) * (1 + (i * 7 + k * 13) % 3000) for k in range(1 + i % 8)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    with connect() as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        status, echoed = read_response(Reader(s))
        note("chunked upload", status == 200 and echoed == b"".join(pieces), f"status {status}")


@scenario("aborted body", 1)
def aborted_body(i):
    with connect() as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 100000\r\n\r\n" + b"x" * (i % 5000))
    note("aborted body", True)  # the server must cope; other scenarios show it does


@scenario("ignored body", 1)
def ignored_body(i):
    with connect() as s:
        body = b"y" * (i % 2000)
        s.sendall(b"POST /ignore HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        status, _ = read_response(Reader(s))
        note("ignored body", status == 200, f"status {status}")


@scenario("panicking route", 1)
def panicking(i):
    with connect() as s:
        s.sendall(b"GET /panic HTTP/1.1\r\nHost: soak\r\n\r\nGET /hello HTTP/1.1\r\nHost: soak\r\n\r\n")
        r = Reader(s)
        first, _ = read_response(r)
        second, body = read_response(r)
        note("panicking route", first == 500 and second == 200 and body == b"Hello, World!",
             f"statuses {first} {second}")


@scenario("slow client", 2)
def slow_client(i):
    request = b"GET /hello HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n"
    with connect() as s:
        for k in range(0, len(request), 4):
            s.sendall(request[k : k + 4])
            time.sleep(0.02)
        status, body = read_response(Reader(s))
        note("slow client", status == 200 and body == b"Hello, World!", f"status {status}")


@scenario("stalled head", 1)
def stalled_head(i):
    with connect() as s:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: so")
        status, _ = read_response(Reader(s))  # the backend runs with a 2 s header timeout
        note("stalled head", status == 408, f"status {status}")


while time.monotonic() < DEADLINE + 15:
    time.sleep(1)
    if threading.active_count() == 1:
        break
with lock:
    for key in sorted(counts):
        print(f"{key:32} {counts[key]}")
    bad = sum(v for k, v in counts.items() if k.endswith("UNEXPECTED"))
    print(f"unexpected errors {bad}")
sys.exit(1 if bad else 0)
