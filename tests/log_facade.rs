//! With a logger installed, library messages go through the `log` facade (here: the
//! slow-poll warning, a handler's panic, a response header refused); without one they
//! are printed to stderr (tests/tour.rs and tests/examples.rs read them there).

use std::io::{Read, Write};
use std::sync::{Mutex, Once};
use std::time::Duration;

use simmer::http::{Request, Response, Router, Server};
use simmer::Runtime;

/// Keeps every record it is given.
struct Capture(Mutex<Vec<(log::Level, String, String)>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let entry = (
            record.level(),
            record.target().to_string(),
            record.args().to_string(),
        );
        self.0.lock().unwrap().push(entry);
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

/// Installs the capturing logger (once for all the tests of this file).
fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&CAPTURE).unwrap();
        log::set_max_level(log::LevelFilter::Info);
    });
}

/// The first record whose text contains every one of `words`.
fn record_with(words: &[&str]) -> (log::Level, String, String) {
    let records = CAPTURE.0.lock().unwrap();
    records
        .iter()
        .find(|(_, _, text)| words.iter().all(|w| text.contains(w)))
        .cloned()
        .unwrap_or_else(|| panic!("no record with {words:?}: {records:?}"))
}

#[test]
fn the_slow_poll_warning_goes_to_the_installed_logger() {
    install();
    let rt = Runtime::builder()
        .slow_poll_threshold(Duration::from_millis(20))
        .build()
        .unwrap();
    rt.block_on(async {
        simmer::spawn_named("sleeper", async {
            std::thread::sleep(Duration::from_millis(60)); // blocks the loop
        })
        .await
        .unwrap();
    });
    let warning = record_with(&["slow poll", "\"sleeper\""]);
    assert_eq!(warning.0, log::Level::Warn);
    assert_eq!(warning.1, "simmer");
    // It ends with the loop-delay histogram so far.
    let histogram = &warning.2[warning
        .2
        .find("Loop delay so far: n=")
        .expect("a histogram")..];
    for quantile in [" p50=", " p90=", " p99=", " max="] {
        assert!(histogram.contains(quantile), "{}", warning.2);
    }
}

/// Sends one request on a new connection; the status line of the answer.
fn status_line(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or("").to_string()
}

#[test]
fn the_http_servers_messages_go_to_the_installed_logger() {
    install();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = Runtime::builder().no_slow_poll_warnings().build().unwrap();
        rt.block_on(async move {
            let server = Server::bind("127.0.0.1:0").unwrap();
            addr_tx.send(server.local_addr().unwrap()).unwrap();
            let router = Router::new()
                .get("/panic", |_req: Request| async {
                    if true {
                        panic!("the handler gave up");
                    }
                    "unreachable"
                })
                .get("/bad-header", |_req: Request| async {
                    Response::text("ok").with_header("x-note", "one\r\ntwo".to_string())
                });
            let stop = simmer::offload(move || {
                let _ = stop_rx.recv();
            });
            server
                .serve_until(router, async move {
                    let _ = stop.await;
                })
                .await
                .unwrap();
        })
    });
    let addr = addr_rx.recv().unwrap();
    assert_eq!(
        status_line(addr, "/panic"),
        "HTTP/1.1 500 Internal Server Error"
    );
    assert_eq!(status_line(addr, "/bad-header"), "HTTP/1.1 200 OK");
    drop(stop_tx);
    server.join().unwrap();

    let panicked = record_with(&["GET /panic", "panicked: the handler gave up"]);
    assert_eq!(
        (panicked.0, panicked.1.as_str()),
        (log::Level::Error, "simmer_http")
    );
    let refused = record_with(&["dropped response header", "x-note"]);
    assert_eq!(
        (refused.0, refused.1.as_str()),
        (log::Level::Warn, "simmer_http")
    );
}
