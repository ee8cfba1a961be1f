//! A TCP echo server: one task per connection, all on one thread.
//!
//! ```text
//! cargo run --release --example echo            # listens on 127.0.0.1:7000
//! cargo run --release --example echo -- --addr 127.0.0.1:0
//! printf 'hello\n' | nc 127.0.0.1 7000
//! ```
//!
//! Each `accept` and `read` returns to the loop while it waits, so thousands of
//! connections share the thread. Stats are printed when a client sends `stats\n`.

use std::net::SocketAddr;

use simmer::net::{TcpListener, TcpStream};

fn main() {
    let addr = listen_addr("127.0.0.1:7000");
    simmer::block_on(async move {
        let listener = match TcpListener::bind(addr) {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("echo: cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        };
        println!(
            "echo server listening on {}",
            listener.local_addr().unwrap()
        );
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    drop(simmer::spawn_named(format!("echo {peer}"), echo(stream)));
                }
                // Out of file descriptors, or a connection reset before accept: the
                // listener itself is fine. Pause briefly so a persistent error (EMFILE)
                // does not spin the loop, then keep serving.
                Err(e) => {
                    eprintln!("echo: accept failed: {e}");
                    simmer::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    });
}

/// Sends back everything the client sends until it closes.
async fn echo(stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if &buf[..n] == b"stats\n" {
            let stats = format!("{:?}\n", simmer::stats().expect("inside the runtime"));
            if stream.write_all(stats.as_bytes()).await.is_err() {
                return;
            }
            continue;
        }
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// `--addr HOST:PORT`, else `$SIMMER_ADDR`, else `default`.
fn listen_addr(default: &str) -> SocketAddr {
    let mut args = std::env::args().skip(1);
    let from_args = match (args.next().as_deref(), args.next()) {
        (Some("--addr"), Some(addr)) => Some(addr),
        _ => None,
    };
    let text = from_args
        .or_else(|| std::env::var("SIMMER_ADDR").ok())
        .unwrap_or_else(|| default.to_string());
    text.parse().unwrap_or_else(|e| {
        eprintln!("echo: bad address {text:?} (want IP:PORT, e.g. 127.0.0.1:7000): {e}");
        std::process::exit(2);
    })
}
