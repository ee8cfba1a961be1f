//! The readiness handler over a real socket: 200 while serving, 503 through the drain
//! grace after the shutdown signal (while other routes still answer), then the listener
//! closes.
mod support;

use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use simmer::http::{health, Request, Router, Server, ServerConfig};
use support::{exchange, RawResponse};

fn get(addr: std::net::SocketAddr, path: &str) -> RawResponse {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    exchange(
        &s,
        format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
    )
}

#[test]
fn health_is_200_then_503_through_the_drain_grace_then_the_listener_closes() {
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = simmer::Runtime::builder().no_slow_poll_warnings().build()?;
        rt.block_on(async move {
            let config = ServerConfig {
                drain_grace: Duration::from_secs(3),
                ..ServerConfig::default()
            };
            let server = Server::bind("127.0.0.1:0")?.with_config(config)?;
            addr_tx.send(server.local_addr()?).unwrap();
            let router = Router::new()
                .get("/health", health::handler(server.drain_state()))
                .get("/hello", |_r: Request| async { "hello" });
            let stop = simmer::offload(move || {
                let _ = stop_rx.recv();
            });
            server
                .serve_until(router, async move {
                    let _ = stop.await;
                })
                .await
        })
    });
    let addr: std::net::SocketAddr = addr_rx.recv().unwrap();
    let ready = get(addr, "/health");
    assert_eq!((ready.status, ready.text().as_str()), (200, "ok"));

    drop(stop_tx); // the shutdown signal
                   // The flag is set as the signal is seen; poll until then (bounded).
    let draining = (0..500)
        .map(|_| get(addr, "/health"))
        .find(|r| r.status != 200)
        .expect("health turned 503");
    assert_eq!(draining.status, 503);
    assert_eq!(draining.text(), "draining");
    assert_eq!(draining.header("retry-after"), Some("1"));
    // Other routes are still served while the grace lasts.
    assert_eq!(get(addr, "/hello").text(), "hello");

    thread.join().unwrap().unwrap();
    assert!(
        TcpStream::connect(addr).is_err(),
        "the listener closed after the grace"
    );
}
