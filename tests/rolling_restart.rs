//! A rolling restart behind nginx loses no request: nginx (Debian's package, started
//! here on loopback with a config in a temporary prefix) balances two
//! examples/backend processes; while clients keep sending, each backend in turn gets
//! SIGTERM (its `/health` turns 503 while it drains), exits, and a replacement takes
//! its port; the next one is stopped only once the replacement answers `/health` and
//! nginx routes to it again. Every request must get its 200. The nginx settings are
//! the ones docs/DEPLOY.md recommends.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/backend.rs"]
mod backend;
#[path = "support/nginx.rs"]
mod nginx;
use backend::Backend;
use nginx::Nginx;

/// How long a draining backend keeps serving with `/health` at 503.
const DRAIN_GRACE_MS: &str = "1500";

/// The upstream and proxy settings of docs/DEPLOY.md, for backends at `a` and `b`.
fn nginx_http_block(a: &str, b: &str) -> String {
    format!(
        "    upstream app {{
        server {a} max_fails=1 fail_timeout=2s;
        server {b} max_fails=1 fail_timeout=2s;
        keepalive 16;
    }}
    server {{
        listen {{listen}};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
        }}
    }}"
    )
}

/// What the clients saw: answers per backend pid, and every request that got no 200.
#[derive(Default)]
struct Tally {
    answered_by: HashMap<String, usize>,
    lost: Vec<String>,
}

impl Tally {
    fn total(&self) -> usize {
        self.answered_by.values().sum::<usize>() + self.lost.len()
    }
}

/// One status and body from a keep-alive connection, and whether nginx closes it next.
fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<(u16, String, bool)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line: {line:?}")))?;
    let (mut length, mut close) = (0usize, false);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(v) = header.strip_prefix("content-length:") {
            length = v.trim().parse().map_err(std::io::Error::other)?;
        }
        close |= header == "connection: close";
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned(), close))
}

/// Sends `GET /whoami` over keep-alive connections to nginx until `stop`, counting
/// every answer by the pid that gave it and every failure as a lost request.
fn client(nginx: String, stop: Arc<AtomicBool>, tally: Arc<Mutex<Tally>>) {
    let mut conn: Option<(TcpStream, BufReader<TcpStream>)> = None;
    while !stop.load(Ordering::Relaxed) {
        let outcome = (|| {
            if conn.is_none() {
                let s = TcpStream::connect(&nginx)?;
                s.set_read_timeout(Some(Duration::from_secs(20)))?;
                conn = Some((s.try_clone()?, BufReader::new(s)));
            }
            let (writer, reader) = conn.as_mut().unwrap();
            writer.write_all(b"GET /whoami HTTP/1.1\r\nHost: app\r\n\r\n")?;
            let (status, body, close) = read_response(reader)?;
            if close {
                conn = None;
            }
            Ok::<_, std::io::Error>((status, body))
        })();
        let mut tally = tally.lock().unwrap();
        match outcome {
            Ok((200, pid)) => *tally.answered_by.entry(pid).or_default() += 1,
            Ok((status, body)) => tally.lost.push(format!("{status} {body}")),
            Err(e) => {
                conn = None;
                tally.lost.push(e.to_string());
            }
        }
    }
}

/// Waits (bounded) until `done()` holds.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM to `old`; its `/health` must answer 503 while it drains; then it must
/// exit cleanly, and a replacement is started on its port. Returns the replacement
/// once it answers `/health` 200 and nginx routes to it.
fn restart(old: Backend, tally: &Mutex<Tally>) -> Backend {
    let addr = old.addr.clone();
    old.signal_term();
    wait_for("the draining backend's /health to answer 503", || {
        backend::get(&addr, "/health").starts_with("HTTP/1.1 503")
    });
    let status = old.wait();
    assert!(status.success(), "the drained backend exited with {status}");
    let new = Backend::start(&addr, &["--drain-grace-ms", DRAIN_GRACE_MS]);
    assert!(backend::get(&addr, "/health").starts_with("HTTP/1.1 200"));
    let pid = new.pid().to_string();
    wait_for("nginx to route to the replacement", || {
        tally.lock().unwrap().answered_by.contains_key(&pid)
    });
    new
}

/// The upstream errors in nginx's log (each one a request it sent to the next
/// backend), counted by kind.
fn upstream_errors(log: &str) -> HashMap<&str, usize> {
    let mut kinds = HashMap::new();
    for line in log
        .lines()
        .filter(|l| l.contains("[error]") && l.contains("upstream"))
    {
        let kind = ["Connection refused", "prematurely closed", "reset by peer"]
            .into_iter()
            .find(|k| line.contains(k))
            .unwrap_or("other");
        *kinds.entry(kind).or_default() += 1;
    }
    kinds
}

#[test]
fn a_rolling_restart_behind_nginx_loses_no_request() {
    let Some(binary) = nginx::binary() else {
        return;
    };
    let args = ["--drain-grace-ms", DRAIN_GRACE_MS];
    let a = Backend::start(&format!("127.0.0.1:{}", nginx::free_port()), &args);
    let b = Backend::start(&format!("127.0.0.1:{}", nginx::free_port()), &args);
    let nginx = Nginx::start(&binary, &nginx_http_block(&a.addr, &b.addr));

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (addr, stop, tally) = (nginx.addr.clone(), stop.clone(), tally.clone());
            std::thread::spawn(move || client(addr, stop, tally))
        })
        .collect();
    let (pid_a, pid_b) = (a.pid().to_string(), b.pid().to_string());
    wait_for("nginx to route to both backends", || {
        let t = tally.lock().unwrap();
        t.answered_by.contains_key(&pid_a) && t.answered_by.contains_key(&pid_b)
    });

    let a2 = restart(a, &tally);
    let b2 = restart(b, &tally);
    let after = tally.lock().unwrap().total();
    wait_for("more requests after the restart", || {
        tally.lock().unwrap().total() >= after + 200
    });
    stop.store(true, Ordering::Relaxed);
    clients.into_iter().for_each(|c| c.join().unwrap());

    let tally = tally.lock().unwrap();
    let _ = writeln!(
        std::io::stderr(),
        "rolling restart: {} requests, answers by pid {:?}, {} lost; nginx retried after: {:?}",
        tally.total(),
        tally.answered_by,
        tally.lost.len(),
        upstream_errors(&nginx.error_log())
    );
    assert!(
        tally.lost.is_empty(),
        "{} of {} requests lost, first: {:?}\nnginx error log:\n{}",
        tally.lost.len(),
        tally.total(),
        &tally.lost[..tally.lost.len().min(5)],
        nginx.error_log()
    );
    for replacement in [&a2, &b2] {
        assert!(tally.answered_by[&replacement.pid().to_string()] > 0);
    }
}
