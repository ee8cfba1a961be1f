//! A small service to run several of behind a load balancer, and what the soak
//! (`benches/soak.sh`), the resource tests and the nginx rolling-restart test drive.
//!
//! ```text
//! cargo run --release --example backend -- --addr 127.0.0.1:8001 --drain-grace-ms 2000
//! curl -s 127.0.0.1:8001/health         # ok (503 draining once SIGTERM arrives)
//! ```
//!
//! Routes: `/health` (the ready-made readiness handler), `/hello`, `/whoami` (this
//! process's id), `POST /echo` (reads the body and sends it back), `POST /ignore`
//! (answers without reading the body), `/slow?ms=N`, `/panic` (a handler that
//! panics: a 500, the server goes on). SIGTERM or SIGINT starts a graceful shutdown.

use std::time::Duration;

use simmer::http::{health, HttpError, Request, Response, Router, Server, ServerConfig};

fn main() {
    let mut addr = "127.0.0.1:8001".to_string();
    let mut config = ServerConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage(&flag));
        let millis = |v: String| Duration::from_millis(v.parse().unwrap_or_else(|_| usage(&v)));
        match flag.as_str() {
            "--addr" => addr = value(),
            "--drain-grace-ms" => config.drain_grace = millis(value()),
            "--header-timeout-ms" => config.header_read_timeout = millis(value()),
            "--max-connections" => {
                config.max_connections = value().parse().unwrap_or_else(|_| usage(&flag))
            }
            _ => usage(&flag),
        }
    }
    let result = simmer::block_on(async move {
        let server = Server::bind(addr.as_str())?.with_config(config)?;
        // Tests and scripts wait for this line to learn the port.
        println!(
            "backend {} listening on http://{}",
            std::process::id(),
            server.local_addr()?
        );
        let router = routes(server.drain_state());
        server.serve(router).await
    });
    if let Err(e) = result {
        eprintln!("backend: {e}");
        std::process::exit(1);
    }
}

fn usage(bad: &str) -> ! {
    eprintln!(
        "backend: bad argument {bad:?}\nusage: backend [--addr HOST:PORT] [--drain-grace-ms N] \
         [--header-timeout-ms N] [--max-connections N]"
    );
    std::process::exit(2);
}

fn routes(drain: health::DrainState) -> Router {
    Router::new()
        .get("/health", health::handler(drain))
        .get("/hello", |_req: Request| async { "Hello, World!" })
        .get("/whoami", |_req: Request| async {
            std::process::id().to_string()
        })
        .post("/echo", |mut req: Request| async move {
            req.body().await.map(Response::bytes)
        })
        .post("/ignore", |_req: Request| async { "not reading that" })
        .get("/slow", slow)
        .get("/panic", |_req: Request| async {
            if true {
                panic!("the /panic route panics on purpose");
            }
            ""
        })
}

/// `/slow?ms=N`: answers after N milliseconds (at most 10 s).
async fn slow(req: Request) -> Result<String, HttpError> {
    let ms: u64 = req.query_as("ms")?.unwrap_or(100).min(10_000);
    simmer::time::sleep(Duration::from_millis(ms)).await;
    Ok(format!("slept {ms} ms"))
}
