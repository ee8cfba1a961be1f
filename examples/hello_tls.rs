//! The server `benches/tls.sh` loads: `/plaintext` over HTTPS, and `/ws`, a WebSocket
//! echo (over `wss://` with a certificate, `ws://` without), on one loop.
//!
//! ```text
//! cargo run --release --example hello_tls -- --tls-cert cert.pem --tls-key key.pem
//! curl --cacert cert.pem https://localhost:8443/plaintext
//! cargo run --release --example hello_tls -- --addr 127.0.0.1:8080   # plain HTTP and ws://
//! cargo run --release --example hello_tls -- --ws-max-bytes 33554432   # benches/autobahn.sh
//! ```
//!
//! Its baseline is `examples/hello_tls_tokio.rs` (tokio + tokio-rustls + hyper, and
//! tokio-tungstenite for the echo).

use simmer::http::ws::{WebSocket, WsConfig};
use simmer::http::{Request, Response, Router, Server};

async fn plaintext(_req: Request) -> Response {
    Response::text("Hello, World!")
}

async fn echo(mut socket: WebSocket) {
    while let Some(message) = socket.recv().await {
        if socket.send(message).await.is_err() {
            break;
        }
    }
}

fn main() {
    let mut addr = "127.0.0.1:8443".to_string();
    let (mut cert, mut key) = (None, None);
    let mut ws = WsConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("--tls-cert", Some(value)) => cert = Some(value),
            ("--tls-key", Some(value)) => key = Some(value),
            // Frame and message limit for /ws (default 1 MiB).
            ("--ws-max-bytes", Some(value)) if value.parse::<usize>().is_ok() => {
                ws.max_frame_bytes = value.parse().unwrap();
                ws.max_message_bytes = ws.max_frame_bytes;
            }
            _ => {
                eprintln!(
                    "usage: hello_tls [--addr IP:PORT] [--tls-cert PEM --tls-key PEM] \
                     [--ws-max-bytes N]"
                );
                std::process::exit(2);
            }
        }
    }
    let (server, scheme) = match (cert, key) {
        (Some(cert), Some(key)) => (Server::bind_tls(addr.as_str(), cert, key), "https"),
        (None, None) => (Server::bind(addr.as_str()), "http"),
        _ => {
            eprintln!("hello_tls: --tls-cert and --tls-key go together");
            std::process::exit(2);
        }
    };
    let result = server.and_then(|server| {
        println!(
            "hello_tls: listening on {scheme}://{}",
            server.local_addr()?
        );
        server.workers(1).serve(move || {
            Router::new()
                .get("/plaintext", plaintext)
                .ws_with("/ws", ws.clone(), echo)
        })
    });
    if let Err(e) = result {
        eprintln!("hello_tls: {e}");
        std::process::exit(1);
    }
}
