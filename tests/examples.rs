//! Every example runs: started as a real process, checked through its output or socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// target/<profile>/examples/<name>, built by `cargo test` along with the tests.
fn example(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop(); // deps
    dir.pop(); // <profile>
    dir.join("examples").join(name)
}

/// Kills the child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn echo_example_echoes_over_tcp() {
    let (_child, addr) = start_example("echo");
    let clients: Vec<_> = (0..8)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(&addr).unwrap();
                let msg = format!("hello from client {i}\n");
                s.write_all(msg.as_bytes()).unwrap();
                let mut back = vec![0u8; msg.len()];
                s.read_exact(&mut back).unwrap();
                assert_eq!(back, msg.as_bytes());
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
}

#[test]
fn echo_example_rejects_a_bad_address() {
    let out = Command::new(example("echo"))
        .args(["--addr", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad address"));
}

#[test]
fn timers_example_finishes_in_deadline_order() {
    let out = Command::new(example("timers")).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let position = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {text}"))
    };
    assert!(position("fast sleep") < position("timeout(60 ms"));
    assert!(position("timeout(60 ms") < position("slow sleep"));
    assert!(position("tick 3") < position("all done"));
    assert!(text.contains("Err(Elapsed"));
}

/// Sends one HTTP/1.1 request on a new connection and returns the whole reply.
fn http_get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply
}

/// Starts a server example on a free port; it prints "... listening on [http://]ADDR"
/// first. Returns the process and ADDR.
fn start_example(name: &str) -> (Child, String) {
    let mut child = Child(
        Command::new(example(name))
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("examples are built by cargo test"),
    );
    let mut first_line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    assert!(first_line.contains("listening on"), "{first_line}");
    let addr = first_line
        .trim()
        .rsplit([' ', '/'])
        .next()
        .unwrap()
        .to_string();
    (child, addr)
}

#[test]
fn hello_example_serves_techempower_routes_and_exits_0_on_sigterm() {
    let (mut child, addr) = start_example("hello");
    let plain = http_get(&addr, "/plaintext");
    assert!(plain.starts_with("HTTP/1.1 200 OK\r\n"), "{plain}");
    assert!(
        plain.contains("Content-Length: 13\r\n") && plain.ends_with("\r\n\r\nHello, World!"),
        "{plain}"
    );
    assert!(plain.contains("\r\nDate: ") && plain.contains("\r\nServer: simmer\r\n"));
    let json = http_get(&addr, "/json");
    assert!(
        json.contains("Content-Type: application/json\r\n"),
        "{json}"
    );
    assert!(
        json.ends_with("\r\n\r\n{\"message\":\"Hello, World!\"}"),
        "{json}"
    );
    assert!(http_get(&addr, "/nope").starts_with("HTTP/1.1 404"));
    // Graceful shutdown on SIGTERM ends the process with status 0.
    let pid = child.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn floor_answers_every_pipelined_request_even_split_across_reads() {
    let (_child, addr) = start_example("floor");
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.set_nodelay(true).unwrap();
    let three = "GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n".repeat(3);
    // The second request's blank line is cut in two between writes.
    let cut = three.len() / 3 * 2 - 2;
    s.write_all(&three.as_bytes()[..cut]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50)); // most likely two reads
    s.write_all(&three.as_bytes()[cut..]).unwrap();
    let one = http_get_len(&mut s, 1);
    assert!(one.starts_with("HTTP/1.1 200 OK\r\n") && one.ends_with("Hello, World!"));
    let rest = http_get_len(&mut s, 2);
    assert_eq!(rest, one.repeat(2));
}

/// Reads exactly `n` canned floor responses (all the same length as the first).
fn http_get_len(s: &mut std::net::TcpStream, n: usize) -> String {
    const LEN: usize = 146; // the floor's fixed /plaintext response
    let mut buf = vec![0u8; LEN * n];
    s.read_exact(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn hello_hyper_baseline_serves_the_same_routes() {
    let (_child, addr) = start_example("hello_hyper");
    let plain = http_get(&addr, "/plaintext");
    assert!(
        plain.starts_with("HTTP/1.1 200 OK\r\n") && plain.ends_with("Hello, World!"),
        "{plain}"
    );
    assert!(http_get(&addr, "/json").ends_with("{\"message\":\"Hello, World!\"}"));
}

#[test]
fn hello_raw_reference_serves_the_same_routes_pipelined() {
    // It ignores `Connection: close` (no checks at all), so no `http_get` here: two
    // pipelined requests in one write, both answered, in order.
    let (_child, addr) = start_example("hello_raw");
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET /json HTTP/1.1\r\nHost: a\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    .unwrap();
    let mut got = String::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with("Hello, World!") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {got}");
        got.push_str(std::str::from_utf8(&buf[..n]).unwrap());
    }
    let json_at = got
        .find("{\"message\":\"Hello, World!\"}")
        .expect("json first");
    assert!(json_at < got.rfind("Hello, World!").unwrap());
}

#[test]
fn blocking_example_shows_a_frozen_loop_then_a_responsive_one() {
    let out = Command::new(example("blocking")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |row: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("{row} in {text}"));
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    };
    let (blocked, offloaded) = (count("GET /block?ms=1000"), count("GET /offload?ms=1000"));
    assert!(
        offloaded > 10 * blocked,
        "the loop served far more GET / while offloading: {text}"
    );
    let warning = text
        .lines()
        .position(|l| l.contains("slow poll") && l.contains("GET /block?ms=1000"));
    let offload_row = text.lines().position(|l| l.starts_with("GET /offload"));
    assert!(
        warning.is_some() && warning < offload_row,
        "the warning came in the blocking phase: {text}"
    );
}

#[test]
fn trace_example_writes_a_chrome_trace_and_a_self_contained_timeline() {
    let dir = std::env::temp_dir().join(format!("simmer-trace-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(example("trace"))
        .args(["--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ui.perfetto.dev"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("trace.json")).unwrap()).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let has = |cat: &str, name: &str| {
        events
            .iter()
            .any(|e| e["cat"] == cat && e["name"].as_str().unwrap_or("").contains(name))
    };
    assert!(
        has("poll", "nap 5 ms") && has("poll", "client request 0") && has("poll", "conn 127.0.0.1")
    );
    assert!(has("offload", "offload"));
    let sources: Vec<&str> = events
        .iter()
        .filter_map(|e| e["args"]["source"].as_str())
        .collect();
    for source in ["timer", "io", "other thread"] {
        assert!(
            sources.contains(&source),
            "a wake from {source}: {sources:?}"
        );
    }
    let html = std::fs::read_to_string(dir.join("trace.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("nap 20 ms") && html.contains("pool thread 0"));
    // Zoom and pan are wired up, and the label column is sized to the longest name.
    assert!(html.contains("addEventListener(\"wheel\"") && html.contains("mousemove"));
    assert!(
        !html.contains("LEFT = 190,"),
        "the label column follows the names"
    );
    assert!(
        !html.contains("http://") || !html.contains("<script src"),
        "no network needed"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn myths_example_measures_each_myth() {
    let out = Command::new(example("myths"))
        .env("SIMMER_MYTHS_QUICK", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for heading in [
        "1. Async is not faster",
        "2. A blocking call",
        "3. Async tasks share one thread",
        "4. Not every route",
    ] {
        assert!(text.contains(heading), "{heading}: {text}");
    }
    // Myth 3: the four tasks ran on one thread and never at the same time.
    let tasks = text
        .lines()
        .find(|l| l.contains("async tasks (spawn)"))
        .unwrap();
    let cols: Vec<&str> = tasks.split_whitespace().collect();
    assert_eq!(&cols[3..7], ["1", "0", "of", "4"], "{tasks}");
    // Myth 2 ran examples/blocking.rs: its slow-poll warning names the blocking request.
    assert!(
        text.contains("GET /block?ms=1000") && text.contains("slow poll"),
        "{text}"
    );
    // Myth 4: the blocking call in an async handler held the loop; on the pool it did not.
    let held = |row: &str| {
        let line = text.lines().find(|l| l.contains(row)).unwrap();
        let cols: Vec<&str> = line.split_whitespace().collect();
        cols[cols.len() - 2].parse::<f64>().unwrap()
    };
    assert!(
        held("async fn calling a blocking driver") >= 150.0,
        "{text}"
    );
    assert!(
        held("plain fn run on the pool") < held("async fn calling a blocking driver"),
        "{text}"
    );
}
