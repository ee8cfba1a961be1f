//! The load client of `benches/tls.sh` (run by it, not by `cargo bench`): the same
//! client for simmer and for its tokio baseline, so the servers differ and nothing else.
//!
//! ```text
//! tls_load handshakes ADDR CA_PEM SECONDS THREADS   # full TLS handshakes, one request each
//! tls_load ws URL SECONDS CONNECTIONS               # WebSocket echo round trips
//! ```
//!
//! Handshakes: each thread connects, runs a full handshake (rustls with ring, session
//! resumption off, so every one is a full handshake), sends one
//! `GET /plaintext` with `Connection: close`, reads the response to the close, and
//! starts again. WebSockets: each connection (tokio-tungstenite on one current_thread
//! loop) sends a 32-byte text message, waits for its echo, and repeats. Both print
//! `done COUNT` (count of handshakes or round trips) after the given seconds.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(0) {
        "handshakes" => handshakes(arg(1), arg(2), secs(arg(3)), arg(4).parse().unwrap()),
        "ws" => ws(arg(1), secs(arg(2)), arg(3).parse().unwrap()),
        // `cargo bench` runs every bench target with `--bench`: nothing to do here.
        _ => eprintln!("tls_load: run by benches/tls.sh (see its header)"),
    }
}

fn secs(text: &str) -> Duration {
    Duration::from_secs_f64(text.parse().expect("seconds"))
}

fn handshakes(addr: &str, ca_pem: &str, run_for: Duration, threads: usize) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca_pem).expect("CA file") {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let config = Arc::new(config);
    let (count, stop) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (config, count, stop) = (config.clone(), count.clone(), stop.clone());
            let addr = addr.to_string();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if one_handshake(&addr, &config) {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    let done = count.load(Ordering::Relaxed);
    workers.into_iter().for_each(|w| w.join().unwrap());
    println!("done {done}");
}

/// One connection: handshake, one request, the response to the close. True if the
/// response was a 200.
fn one_handshake(addr: &str, config: &Arc<rustls::ClientConfig>) -> bool {
    let Ok(mut tcp) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = tcp.set_nodelay(true);
    let name = "localhost".try_into().unwrap();
    let mut session = rustls::ClientConnection::new(config.clone(), name).unwrap();
    let mut tls = rustls::Stream::new(&mut session, &mut tcp);
    let request = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if tls.write_all(request).is_err() {
        return false;
    }
    let mut response = Vec::with_capacity(256);
    let _ = tls.read_to_end(&mut response); // a close without close_notify is fine here
    response.starts_with(b"HTTP/1.1 200")
}

fn ws(url: &str, run_for: Duration, connections: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let count = Arc::new(AtomicU64::new(0));
    rt.block_on(async {
        let mut sockets = Vec::with_capacity(connections);
        for _ in 0..connections {
            let (socket, _) = tokio_tungstenite::connect_async(url)
                .await
                .expect("connect");
            sockets.push(socket);
        }
        let deadline = tokio::time::Instant::now() + run_for;
        let started = Instant::now();
        let tasks: Vec<_> = sockets
            .into_iter()
            .map(|mut socket| {
                let count = count.clone();
                tokio::spawn(async move {
                    let text = "0123456789abcdef0123456789abcdef";
                    while tokio::time::Instant::now() < deadline {
                        if socket.send(text.into()).await.is_err() {
                            return;
                        }
                        match socket.next().await {
                            Some(Ok(m)) if m.is_text() => count.fetch_add(1, Ordering::Relaxed),
                            _ => return,
                        };
                    }
                    let _ = socket.close(None).await;
                })
            })
            .collect();
        for task in tasks {
            let _ = task.await;
        }
        eprintln!("ran {:.2}s", started.elapsed().as_secs_f64());
    });
    println!("done {}", count.load(Ordering::Relaxed));
}
