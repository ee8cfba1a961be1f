//! The servers `benches/tls.sh` compares, run as processes: `hello_tls` (simmer) and
//! `hello_tls_tokio` (tokio + tokio-rustls + hyper, tokio-tungstenite), each answering
//! `/plaintext` over HTTPS and echoing over a WebSocket, fetched with simmer's client.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

#[path = "support/cert.rs"]
mod cert;

use simmer::http::client::Client;
use simmer::http::ws::Message;

fn example(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    dir.pop();
    dir.join("examples").join(name)
}

/// A running example and the address it printed; killed on drop.
struct Running(Child, String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(name: &str, args: &[&str]) -> Running {
    let mut child = Command::new(example(name))
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("examples are built by cargo test");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().to_string();
    Running(child, port)
}

/// The shared test certificate, as the path strings the examples take.
fn certificate(dir: &std::path::Path) -> Option<(String, String)> {
    let (cert, key) = cert::self_signed_localhost(dir)?;
    let path = |p: PathBuf| p.to_str().unwrap().to_string();
    Some((path(cert), path(key)))
}

fn plaintext_over_tls(client: &Client, port: &str) -> String {
    let (client, url) = (
        client.clone(),
        format!("https://localhost:{port}/plaintext"),
    );
    simmer::block_on(async move {
        let reply = client.get(&url).send().await.unwrap();
        assert_eq!(reply.status().0, 200);
        reply.text().await.unwrap()
    })
}

fn echo(port: &str) {
    let url = format!("ws://127.0.0.1:{port}/ws");
    simmer::block_on(async move {
        let mut socket = Client::new().websocket(&url).await.unwrap();
        socket.send(Message::Text("tea".into())).await.unwrap();
        assert_eq!(socket.recv().await, Some(Message::Text("tea".into())));
        socket.send(Message::Binary(vec![1, 2, 3])).await.unwrap();
        assert_eq!(socket.recv().await, Some(Message::Binary(vec![1, 2, 3])));
    });
}

#[test]
fn both_benchmark_servers_answer_https_and_echo_websockets() {
    let dir = std::env::temp_dir().join(format!("simmer-tls-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some((cert, key)) = certificate(&dir) else {
        return;
    };
    let client = Client::builder()
        .tls_roots_pem(&std::fs::read(&cert).unwrap())
        .unwrap()
        .build();
    let tls = ["--tls-cert", cert.as_str(), "--tls-key", key.as_str()];
    for name in ["hello_tls", "hello_tls_tokio"] {
        let server = start(name, &tls);
        assert_eq!(
            plaintext_over_tls(&client, &server.1),
            "Hello, World!",
            "{name}"
        );
    }
    echo(&start("hello_tls", &[]).1);
    echo(&start("hello_tls_tokio", &["--ws"]).1);
    let _ = std::fs::remove_dir_all(&dir);
}
