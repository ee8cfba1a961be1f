//! The TechEmpower plaintext and JSON tests: the server the benchmarks load.
//!
//! ```text
//! cargo run --release --example hello                  # 127.0.0.1:8080
//! SIMMER_ADDR=127.0.0.1:9000 cargo run --release --example hello
//! curl -i http://127.0.0.1:8080/plaintext
//! ```

use simmer::http::{Request, Response, Router, Server};

async fn plaintext(_req: Request) -> Response {
    Response::text("Hello, World!")
}

async fn json(_req: Request) -> Response {
    // {"message":"Hello, World!"}: 27 bytes, serialized per request as the test asks.
    Response::json(&Message {
        message: "Hello, World!",
    })
}

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

fn main() {
    let addr = listen_addr("127.0.0.1:8080");
    let result = simmer::Runtime::builder().build().and_then(|rt| {
        rt.block_on(async {
            let server = Server::bind(addr)?;
            println!("hello: listening on http://{}", server.local_addr()?);
            let router = Router::new()
                .get("/plaintext", plaintext)
                .get("/json", json);
            server.serve(router).await
        })
    });
    if let Err(e) = result {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
}

/// `--addr IP:PORT`, else `$SIMMER_ADDR`, else `default`. An IP address, not a name:
/// resolving names would link the system resolver into a binary that never needs it.
fn listen_addr(default: &str) -> std::net::SocketAddr {
    let mut args = std::env::args().skip(1);
    let text = match (args.next().as_deref(), args.next()) {
        (Some("--addr"), Some(addr)) => addr,
        _ => std::env::var("SIMMER_ADDR").unwrap_or_else(|_| default.to_string()),
    };
    text.parse().unwrap_or_else(|e| {
        eprintln!("hello: bad address {text:?} (want IP:PORT, e.g. 127.0.0.1:8080): {e}");
        std::process::exit(2);
    })
}
