#!/usr/bin/env python3
"""Memory of idle keep-alive connections, and a fresh client's latency meanwhile.

For each server: start it, note its RSS, open CONNS keep-alive connections that each
send one GET /plaintext and read the answer, then leave them idle; note the RSS again
and count the connections still open (simmer closes idle ones after its 5 s keep-alive
timeout, so everything runs well inside that), and time PROBES requests of a fresh
client on its own connection. Prints RSS growth per open connection and the probe's
p50/p99. Servers: simmer's examples/hello, examples/hello_hyper, and nginx if installed.

    cargo build --release --example hello --example hello_hyper
    python3 benches/idle.py            # CONNS=9000 PROBES=2000

Bounded: every socket has a timeout and the whole run takes well under a minute.
"""
import os, resource, selectors, shutil, socket, statistics, subprocess, sys, tempfile, time

CONNS = int(os.environ.get("CONNS", 9000))
PROBES = int(os.environ.get("PROBES", 2000))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
if hard < CONNS + 200:
    sys.exit(f"RLIMIT_NOFILE hard limit {hard} is below {CONNS + 200}")


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds(pid):
    return sum(1 for f in os.listdir(f"/proc/{pid}/fd")
               if os.readlink(f"/proc/{pid}/fd/{f}").startswith("socket:"))


def wait_ready(port):
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(REQUEST.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
                if s.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"no server on port {port}")


def one_response(sock):
    """Reads one Content-Length response; returns False on EOF/timeout."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length"))
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        body += chunk
    return True


def open_idle(port):
    """CONNS connections, each answered once, opened concurrently (a few at a time in
    flight) so the whole set is up in about a second."""
    sel = selectors.DefaultSelector()
    done, pending, started = [], 0, 0
    deadline = time.time() + 30
    while len(done) < CONNS and time.time() < deadline:
        while pending < 256 and started < CONNS:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE, [b"", False])
            pending += 1
            started += 1
        for key, ev in sel.select(timeout=1):
            s, state = key.fileobj, key.data
            if ev & selectors.EVENT_WRITE and not state[1]:
                try:
                    s.send(REQUEST)
                except OSError:
                    sel.unregister(s); s.close(); pending -= 1; continue
                state[1] = True
                sel.modify(s, selectors.EVENT_READ, state)
            elif ev & selectors.EVENT_READ:
                try:
                    chunk = s.recv(4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(s); s.close(); pending -= 1; continue
                state[0] += chunk
                if b"Hello, World!" in state[0]:
                    sel.unregister(s); pending -= 1; done.append(s)
    return done


def probe(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for _ in range(PROBES):
        t = time.perf_counter()
        s.sendall(REQUEST)
        if not one_response(s):
            break
        times.append((time.perf_counter() - t) * 1e3)
    s.close()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def measure(name, cmd, port, pid_of=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        pid = pid_of() if pid_of else proc.pid
        before = rss_kib(pid)
        started = time.time()
        conns = open_idle(port)
        time.sleep(0.3)  # let the server settle (idle waits armed)
        after = rss_kib(pid)
        still_open = open_fds(pid) - 1  # minus the listener
        p50, p99 = probe(port)
        took = time.time() - started
        for c in conns:
            c.close()
        grown = (after - before) / max(still_open, 1)
        print(f"| {name} | {len(conns):,} | {still_open:,} | {before / 1024:.1f} MiB | {after / 1024:.1f} MiB | "
              f"**{grown:.2f} KiB** | {p50:.3f} ms | {p99:.3f} ms | ({took:.1f} s)")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def nginx_run(port):
    conf_dir = tempfile.mkdtemp(prefix="idle-nginx-")
    conf = os.path.join(conf_dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; master_process off; worker_processes 1; error_log {conf_dir}/error.log;
pid {conf_dir}/nginx.pid; events {{ worker_connections {CONNS + 500}; }}
http {{ access_log off; keepalive_requests 100000; keepalive_timeout 60s;
client_body_temp_path {conf_dir}; proxy_temp_path {conf_dir}; fastcgi_temp_path {conf_dir};
uwsgi_temp_path {conf_dir}; scgi_temp_path {conf_dir};
server {{ listen 127.0.0.1:{port}; location /plaintext {{ default_type text/plain; return 200 "Hello, World!"; }} }} }}
""")
    return ["nginx", "-p", conf_dir, "-c", conf], conf_dir


print(f"{CONNS:,} idle keep-alive connections after one request each; a fresh client's "
      f"{PROBES:,} sequential requests meanwhile")
print("| server | opened | open at sample | RSS before | RSS after | growth per connection | probe p50 | probe p99 | |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
ex = os.path.join(ROOT, "target", "release", "examples")
measure("simmer", [os.path.join(ex, "hello"), "--addr", "127.0.0.1:28095"], 28095)
measure("tokio + hyper", [os.path.join(ex, "hello_hyper"), "--addr", "127.0.0.1:28096"], 28096)
if shutil.which("nginx"):
    cmd, conf_dir = nginx_run(28097)
    measure("nginx (1 worker, no master)", cmd, 28097)
    shutil.rmtree(conf_dir, ignore_errors=True)
