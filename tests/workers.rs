//! Workers: one server on several threads, each its own loop and router. Real threads,
//! real sockets; the shutdown, death and descriptor tests run a real child process (this
//! test binary again, in a child mode picked by an environment variable).

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use simmer::http::{health, Distribution, Request, Router, Server, ServerConfig, Stopper};

/// Generous bound on any single read, so a bug fails the test instead of hanging it.
const READ_LIMIT: Duration = Duration::from_secs(30);

/// A router that knows which worker built it: `/who` answers the worker's number,
/// `/count` a per-worker counter (plain `Rc<Cell>`, no lock) and the process-wide total.
fn numbered_router(numbers: &AtomicUsize, total: Arc<AtomicU64>) -> Router {
    let me = numbers.fetch_add(1, Ordering::SeqCst);
    let mine = Rc::new(Cell::new(0u64));
    Router::new()
        .get("/who", move |_req: Request| async move { me.to_string() })
        .get("/count", move |_req: Request| {
            let mine = Rc::clone(&mine);
            let total = Arc::clone(&total);
            async move {
                mine.set(mine.get() + 1);
                let all = total.fetch_add(1, Ordering::SeqCst) + 1;
                format!("{me} {} {all}", mine.get())
            }
        })
}

struct Running {
    addr: SocketAddr,
    stopper: Stopper,
    thread: JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn stop(self) {
        self.stopper.stop();
        self.thread.join().unwrap().expect("serve returned Ok");
    }
}

/// `workers` workers on 127.0.0.1, any port, serving `factory()`.
fn start(
    workers: usize,
    distribution: Distribution,
    factory: impl Fn() -> Router + Send + Sync + 'static,
) -> Running {
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let workers = server.workers(workers).distribution(distribution);
    let stopper = workers.stopper();
    let thread = std::thread::spawn(move || workers.serve(factory));
    Running {
        addr,
        stopper,
        thread,
    }
}

/// One request on a fresh connection; returns the body.
fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(READ_LIMIT)).unwrap();
    request(&mut stream, path)
}

/// One request on `stream` (kept alive); returns the body.
fn request(stream: &mut TcpStream, path: &str) -> String {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    read_response(stream)
}

fn read_response(stream: &mut TcpStream) -> String {
    let (status, body) = read_status_and_body(stream);
    assert_eq!(status, 200, "status; body {body:?}");
    body
}

/// One response from `stream`: its status code and body.
fn read_status_and_body(stream: &mut TcpStream) -> (u16, String) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3)?.parse().ok())
        .unwrap_or_else(|| panic!("status line: {line:?}"));
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    assert!(reader.buffer().is_empty(), "no bytes beyond the response");
    (status, String::from_utf8(body).unwrap())
}

fn every_worker_gets_connections(distribution: Distribution, workers: usize, clients: usize) {
    let numbers = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicU64::new(0));
    let server = {
        let numbers = Arc::clone(&numbers);
        start(workers, distribution, move || {
            numbered_router(&numbers, Arc::clone(&total))
        })
    };
    let seen: BTreeSet<String> = (0..clients).map(|_| get(server.addr, "/who")).collect();
    let all: BTreeSet<String> = (0..workers).map(|n| n.to_string()).collect();
    assert_eq!(
        seen, all,
        "{distribution:?}: every worker served some connection"
    );
    assert_eq!(
        numbers.load(Ordering::SeqCst),
        workers,
        "one router per worker"
    );
    server.stop();
}

#[test]
fn the_acceptor_deals_connections_to_every_worker() {
    every_worker_gets_connections(Distribution::Acceptor, 3, 6);
}

#[test]
fn reuse_port_spreads_connections_over_every_worker() {
    // The kernel hashes each client's port; 32 clients all on one of 2 workers would
    // have odds of 2 in 4 billion.
    every_worker_gets_connections(Distribution::ReusePort, 2, 32);
}

#[test]
fn each_worker_has_its_own_state_and_shares_what_is_in_an_arc() {
    let numbers = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicU64::new(0));
    let server = {
        let total = Arc::clone(&total);
        start(2, Distribution::Acceptor, move || {
            numbered_router(&numbers, Arc::clone(&total))
        })
    };
    let mut per_worker: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut totals = Vec::new();
    for _ in 0..20 {
        let body = get(server.addr, "/count");
        let parts: Vec<&str> = body.split(' ').collect();
        per_worker
            .entry(parts[0].to_string())
            .or_default()
            .push(parts[1].parse().unwrap());
        totals.push(parts[2].parse::<u64>().unwrap());
    }
    assert_eq!(per_worker.len(), 2, "both workers answered: {per_worker:?}");
    for (worker, counts) in &per_worker {
        // Each worker's Rc<Cell> counted only its own requests: 1, 2, 3, ...
        let expected: Vec<u64> = (1..=counts.len() as u64).collect();
        assert_eq!(counts, &expected, "worker {worker}'s own counter");
    }
    assert_eq!(
        totals,
        (1..=20).collect::<Vec<u64>>(),
        "the Arc'd total is shared"
    );
    assert_eq!(total.load(Ordering::SeqCst), 20);
    server.stop();
}

/// During the drain grace, the health route answers 503 on every worker, while every
/// worker still serves its open connections and accepts new ones; a second stop ends
/// the grace and `serve` returns.
fn health_says_draining_on_every_worker(workers: usize) {
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let config = ServerConfig {
        // Long enough that only the second stop can end it within the test.
        drain_grace: Duration::from_secs(600),
        ..ServerConfig::default()
    };
    let workers_handle = server.with_config(config).unwrap().workers(workers);
    let drain = workers_handle.drain_state();
    let stopper = workers_handle.stopper();
    let numbers = Arc::new(AtomicUsize::new(0));
    let thread = std::thread::spawn(move || {
        workers_handle.serve(move || {
            numbered_router(&numbers, Arc::new(AtomicU64::new(0)))
                .get("/health", health::handler(drain.clone()))
        })
    });
    // One keep-alive connection per worker (the acceptor deals them round-robin).
    let mut clients: Vec<TcpStream> = (0..workers)
        .map(|_| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(READ_LIMIT)).unwrap();
            s
        })
        .collect();
    let who: BTreeSet<String> = clients.iter_mut().map(|c| request(c, "/who")).collect();
    assert_eq!(who.len(), workers, "one connection on each worker: {who:?}");
    for client in &mut clients {
        assert_eq!(request(client, "/health"), "ok");
    }

    stopper.stop();
    for client in &mut clients {
        write!(client, "GET /health HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        assert_eq!(
            read_status_and_body(client),
            (503, "draining".to_string()),
            "health on a worker, during the grace"
        );
        assert!(
            !request(client, "/who").is_empty(),
            "other routes still served"
        );
    }
    // New connections are still accepted, on every worker, and told the same.
    let mut fresh_who = BTreeSet::new();
    for _ in 0..workers {
        let mut fresh = TcpStream::connect(addr).unwrap();
        fresh.set_read_timeout(Some(READ_LIMIT)).unwrap();
        fresh_who.insert(request(&mut fresh, "/who"));
        write!(fresh, "GET /health HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        assert_eq!(read_status_and_body(&mut fresh).0, 503);
    }
    assert_eq!(fresh_who, who, "new connections reached every worker");

    stopper.stop();
    thread.join().unwrap().expect("serve returned Ok");
    for client in &mut clients {
        let mut rest = Vec::new();
        let closed = client.read_to_end(&mut rest).map(|_| rest.is_empty());
        assert!(
            closed.unwrap_or(true),
            "idle connection closed after the drain"
        );
    }
}

#[test]
fn health_answers_503_on_both_workers_during_the_drain_grace() {
    health_says_draining_on_every_worker(2);
}

#[test]
fn health_answers_503_during_the_drain_grace_with_one_worker() {
    health_says_draining_on_every_worker(1);
}

/// A gate a handler blocks its worker's thread on (no await: the loop is held).
#[derive(Default)]
struct Gate {
    state: Mutex<(Option<String>, bool)>,
    changed: Condvar,
}

#[test]
fn a_blocked_worker_does_not_delay_another_workers_requests() {
    let gate = Arc::new(Gate::default());
    let numbers = Arc::new(AtomicUsize::new(0));
    let server = {
        let gate = Arc::clone(&gate);
        start(2, Distribution::Acceptor, move || {
            let me = numbers.fetch_add(1, Ordering::SeqCst).to_string();
            let gate = Arc::clone(&gate);
            let who = me.clone();
            Router::new()
                .get("/who", move |_req: Request| {
                    let me = who.clone();
                    async move { me }
                })
                .get_sync_blocking(me, gate)
        })
    };
    // The acceptor deals round-robin: the first connection goes to one worker, the
    // second to the other.
    let mut blocked = TcpStream::connect(server.addr).unwrap();
    blocked.set_read_timeout(Some(READ_LIMIT)).unwrap();
    write!(blocked, "GET /block HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let blocked_worker = {
        let mut state = gate.state.lock().unwrap();
        while state.0.is_none() {
            state = gate.changed.wait(state).unwrap();
        }
        state.0.clone().unwrap()
    };
    // While that worker's thread sits in its handler, the other answers.
    let other = get(server.addr, "/who");
    assert_ne!(other, blocked_worker, "served by the other worker");
    assert!(
        !gate.state.lock().unwrap().1,
        "the blocked handler has not been released yet"
    );
    {
        gate.state.lock().unwrap().1 = true;
        gate.changed.notify_all();
    }
    assert_eq!(
        read_response(&mut blocked),
        format!("released {blocked_worker}")
    );
    server.stop();
}

/// `/block`: a handler that blocks its thread until the test opens the gate.
trait BlockingRoute {
    fn get_sync_blocking(self, me: String, gate: Arc<Gate>) -> Router;
}

impl BlockingRoute for Router {
    fn get_sync_blocking(self, me: String, gate: Arc<Gate>) -> Router {
        self.get("/block", move |_req: Request| {
            let gate = Arc::clone(&gate);
            let me = me.clone();
            async move {
                let mut state = gate.state.lock().unwrap();
                state.0 = Some(me.clone());
                gate.changed.notify_all();
                while !state.1 {
                    state = gate.changed.wait(state).unwrap();
                }
                format!("released {me}")
            }
        })
    }
}

#[test]
fn a_thousand_keep_alive_clients_times_five_requests_on_two_workers() {
    let numbers = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicU64::new(0));
    let server = {
        let total = Arc::clone(&total);
        start(2, Distribution::Acceptor, move || {
            numbered_router(&numbers, Arc::clone(&total))
        })
    };
    let addr = server.addr;
    // 1,000 clients at once, on one simmer loop in this thread.
    let per_worker = simmer::block_on(async move {
        let clients: Vec<_> = (0..1000)
            .map(|_| simmer::spawn(keep_alive_client(addr, 5)))
            .collect();
        let mut per_worker = BTreeMap::<String, usize>::new();
        for client in clients {
            for who in client.await.unwrap() {
                *per_worker.entry(who).or_default() += 1;
            }
        }
        per_worker
    });
    assert_eq!(per_worker.values().sum::<usize>(), 5000, "{per_worker:?}");
    assert_eq!(per_worker.len(), 2, "both workers served: {per_worker:?}");
    assert_eq!(total.load(Ordering::SeqCst), 5000);
    server.stop();
}

/// Opens one connection, sends `n` requests one after another on it, returns who
/// answered each.
async fn keep_alive_client(addr: SocketAddr, n: usize) -> Vec<String> {
    let stream = simmer::net::TcpStream::connect(addr).await.unwrap();
    let mut answers = Vec::with_capacity(n);
    let mut buf = Vec::new();
    for _ in 0..n {
        stream
            .write_all(b"GET /count HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        buf.clear();
        let body = loop {
            let mut chunk = [0u8; 512];
            let got = stream.read(&mut chunk).await.unwrap();
            assert!(got > 0, "connection closed early");
            buf.extend_from_slice(&chunk[..got]);
            if let Some(body) = complete_body(&buf) {
                break body;
            }
        };
        answers.push(body.split(' ').next().unwrap().to_string());
    }
    answers
}

/// The body, once `buf` holds a whole response with Content-Length.
fn complete_body(buf: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(buf).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-length:")
            .map(|v| v.trim().parse().unwrap())
    })?;
    (body.len() >= length).then(|| body[..length].to_string())
}

// ---- real processes: this test binary in a child mode ----

/// The child's mode, from the environment.
const CHILD_MODE: &str = "SIMMER_WORKERS_TEST_CHILD";

/// Where the "traced" child writes its trace.
const TRACE_PATH: &str = "SIMMER_WORKERS_TEST_TRACE";

/// In a child process, runs the server the parent asked for and exits with its result;
/// in a normal test run, does nothing.
#[test]
fn child_server() {
    let Ok(mode) = std::env::var(CHILD_MODE) else {
        return;
    };
    let server = Server::bind("127.0.0.1:0").unwrap();
    println!("{}", server.local_addr().unwrap());
    std::io::stdout().flush().unwrap();
    let result = match mode.as_str() {
        "slow" => server.workers(2).serve(|| {
            Router::new().get("/slow", |_req: Request| async {
                // In flight when the parent sends SIGTERM (it waits for our line).
                eprintln!("child: slow request started");
                simmer::time::sleep(Duration::from_millis(300)).await;
                "finished"
            })
        }),
        "dies" => {
            let built = AtomicUsize::new(0);
            server.workers(2).serve(move || {
                if built.fetch_add(1, Ordering::SeqCst) == 1 {
                    panic!("this worker's factory fails");
                }
                Router::new().get("/", |_req: Request| async { "ok" })
            })
        }
        "traced" => {
            let config = simmer_executor::Config {
                trace_path: std::env::var_os(TRACE_PATH).map(Into::into),
                ..simmer_executor::Config::default()
            };
            let numbers = AtomicUsize::new(0);
            server.workers(2).runtime_config(config).serve(move || {
                numbered_router(&numbers, Arc::new(AtomicU64::new(0))).metrics("/metrics")
            })
        }
        "few-descriptors" => {
            let config = ServerConfig {
                max_connections: 10_000,
                ..ServerConfig::default()
            };
            server
                .with_config(config)
                .unwrap()
                .workers(1)
                .serve(|| Router::new().get("/", |_req: Request| async { "ok" }))
        }
        other => panic!("unknown child mode {other}"),
    };
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("child: serve failed: {e}");
            std::process::exit(3);
        }
    }
}

/// Starts this binary's `child_server` test in `mode` (through `sh -c` so that `limit`
/// can lower the open-file limit first) and reads the address it prints.
// The caller waits for the child it is handed.
#[allow(clippy::zombie_processes)]
fn spawn_child(mode: &str, open_files: Option<u32>) -> (Child, SocketAddr) {
    spawn_child_with(mode, open_files, &[])
}

/// [`spawn_child`] with more environment variables for the child.
#[allow(clippy::zombie_processes)]
fn spawn_child_with(
    mode: &str,
    open_files: Option<u32>,
    env: &[(&str, &std::ffi::OsStr)],
) -> (Child, SocketAddr) {
    let exe = std::env::current_exe().unwrap();
    let ulimit = open_files.map_or(String::new(), |n| format!("ulimit -n {n} && "));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{ulimit}exec \"$0\" --exact child_server --nocapture --test-threads 1"
        ))
        .arg(exe)
        .env(CHILD_MODE, mode)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            let status = child.wait();
            panic!("child printed no address and ended: {status:?}");
        }
        // libtest may print "test child_server ... " first, on the same line.
        if let Some(Ok(addr)) = line.split_whitespace().last().map(str::parse) {
            return (child, addr);
        }
    }
}

/// Waits for the child and returns (exit code, stderr).
fn finish(mut child: Child) -> (Option<i32>, String) {
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code(), stderr)
}

fn wait_for_stderr_lines(reader: &mut impl BufRead, needle: &str, count: usize, log: &mut String) {
    let mut seen = 0;
    let mut line = String::new();
    while seen < count {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "child ended early: {log}"
        );
        log.push_str(&line);
        if line.contains(needle) {
            seen += 1;
        }
    }
}

#[test]
fn sigterm_with_requests_in_flight_on_two_workers_answers_both_and_exits_0() {
    let (mut child, addr) = spawn_child("slow", None);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // Two connections: the acceptor deals them to the two workers.
    let mut clients: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(READ_LIMIT)).unwrap();
            write!(s, "GET /slow HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
            s
        })
        .collect();
    let mut log = String::new();
    wait_for_stderr_lines(&mut stderr, "slow request started", 2, &mut log);
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    for client in &mut clients {
        assert_eq!(read_response(client), "finished");
    }
    stderr.read_to_string(&mut log).unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(0), "exit code; stderr:\n{log}");
    assert!(log.contains("SIGTERM received"), "{log}");
}

#[test]
fn a_dead_worker_is_named_and_the_process_exits_non_zero() {
    let (child, _addr) = spawn_child("dies", None);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(3), "serve returned an error; stderr:\n{stderr}");
    // The second factory call fails; which worker makes it depends on how the two
    // threads are scheduled, but the report must name that one worker consistently.
    let named = |n: usize| {
        stderr.contains(&format!(
            "worker {n} (thread simmer-worker-{n}) died: panicked: this worker's factory fails"
        ))
    };
    assert!(named(0) != named(1), "exactly one worker named: {stderr}");
}

#[test]
fn out_of_descriptors_pauses_accepting_says_so_once_and_recovers() {
    // 64 descriptors: a few for the runtime and stdio, the rest for connections.
    let (mut child, addr) = spawn_child("few-descriptors", Some(64));
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // More connections than descriptors; each answered if it was accepted.
    let mut held: Vec<TcpStream> = (0..100)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let mut log = String::new();
    wait_for_stderr_lines(&mut stderr, "out of file descriptors", 1, &mut log);
    // Free descriptors: close most connections; the waiting ones are then accepted.
    let waiting = held.split_off(20);
    drop(held);
    for mut stream in waiting {
        stream.set_read_timeout(Some(READ_LIMIT)).unwrap();
        assert_eq!(request(&mut stream, "/"), "ok");
        // Closing each as we go frees its descriptor for the next one.
    }
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    stderr.read_to_string(&mut log).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{log}");
    assert_eq!(
        log.matches("out of file descriptors").count(),
        1,
        "one line per episode, not one per attempt:\n{log}"
    );
}

#[test]
fn metrics_and_the_trace_show_each_worker_on_its_own() {
    let trace =
        std::env::temp_dir().join(format!("simmer-workers-trace-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&trace);
    let (child, addr) = spawn_child_with("traced", None, &[(TRACE_PATH, trace.as_os_str())]);
    // Keep-alive connections, dealt round-robin: some requests on each worker.
    let mut clients: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut who = BTreeSet::new();
    for client in &mut clients {
        client.set_read_timeout(Some(READ_LIMIT)).unwrap();
        for _ in 0..3 {
            who.insert(request(client, "/who"));
        }
    }
    assert_eq!(who.len(), 2, "both workers served: {who:?}");
    // Whichever worker answers the scrape reports every loop by name.
    let metrics = request(&mut clients[0], "/metrics");
    for name in ["simmer-worker-0", "simmer-worker-1", "simmer-acceptor"] {
        let polls = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("simmer_loop_polls_total{{loop=\"{name}\"}} ")))
            .unwrap_or_else(|| panic!("no polls line for {name}:\n{metrics}"));
        assert!(polls.parse::<u64>().unwrap() > 0, "{name} polled: {polls}");
    }
    for worker in ["simmer-worker-0", "simmer-worker-1"] {
        let open = format!("simmer_loop_http_open_connections{{loop=\"{worker}\"}} 2");
        assert!(
            metrics.contains(&open),
            "two connections on {worker}:\n{metrics}"
        );
    }
    drop(clients);
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");

    // One file: a named thread row per loop, and each worker's polls on its own row.
    let text = std::fs::read_to_string(&trace).expect("one trace file at the path given");
    let _ = std::fs::remove_file(&trace);
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let events = json["traceEvents"].as_array().unwrap();
    let rows: BTreeMap<String, u64> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            let name = e["args"]["name"].as_str().unwrap().to_string();
            (name, e["tid"].as_u64().unwrap())
        })
        .collect();
    let names: BTreeSet<&str> = rows.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from(["simmer-acceptor", "simmer-worker-0", "simmer-worker-1"]),
        "{rows:?}"
    );
    let tids: BTreeSet<u64> = rows.values().copied().collect();
    assert_eq!(tids.len(), 3, "a row each: {rows:?}");
    for worker in ["simmer-worker-0", "simmer-worker-1"] {
        let tid = rows[worker];
        let polls_on_row = events
            .iter()
            .filter(|e| e["cat"] == "poll" && e["tid"].as_u64() == Some(tid))
            .count();
        assert!(polls_on_row > 0, "{worker} has polls on its row {tid}");
    }
}
