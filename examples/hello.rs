//! The TechEmpower plaintext and JSON tests: the server the benchmarks load.
//!
//! ```text
//! cargo run --release --example hello                  # 127.0.0.1:8080
//! SIMMER_ADDR=127.0.0.1:9000 cargo run --release --example hello
//! cargo run --release --example hello -- --workers 2    # or SIMMER_WORKERS=2; 0 = one per core
//! cargo run --release --example hello -- --workers 2 --reuse-port   # SO_REUSEPORT listeners
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
    let args = Args::parse();
    if let Err(e) = serve(args) {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
}

fn router() -> Router {
    Router::new()
        .get("/plaintext", plaintext)
        .get("/json", json)
}

/// Serves on `args.workers` threads, each building its own router.
#[cfg(feature = "workers")]
fn serve(args: Args) -> std::io::Result<()> {
    use simmer::http::Distribution;

    let server = Server::bind(args.addr)?;
    println!(
        "hello: {} worker(s), listening on http://{}",
        args.workers,
        server.local_addr()?
    );
    let distribution = match args.reuse_port {
        true => Distribution::ReusePort,
        false => Distribution::Acceptor,
    };
    server
        .workers(args.workers)
        .distribution(distribution)
        .serve(router)
}

/// Without the `workers` feature (the small build): one loop, on this thread.
#[cfg(not(feature = "workers"))]
fn serve(args: Args) -> std::io::Result<()> {
    if args.workers != 1 || args.reuse_port {
        fail("built without the workers feature: one worker only");
    }
    simmer::Runtime::builder().build()?.block_on(async {
        let server = Server::bind(args.addr)?;
        println!(
            "hello: 1 worker(s), listening on http://{}",
            server.local_addr()?
        );
        server.serve(router()).await
    })
}

/// The command line: `--addr IP:PORT` (else `$SIMMER_ADDR`, else 127.0.0.1:8080) and
/// `--workers N` (else `$SIMMER_WORKERS`, else 1), `--reuse-port` to give each worker
/// its own `SO_REUSEPORT` listener instead of one acceptor. An IP address, not a name: resolving
/// names would link the system resolver into a binary that never needs it.
struct Args {
    addr: std::net::SocketAddr,
    workers: usize,
    reuse_port: bool,
}

impl Args {
    fn parse() -> Args {
        let mut addr = std::env::var("SIMMER_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
        let mut workers = std::env::var("SIMMER_WORKERS").unwrap_or_else(|_| "1".into());
        let mut reuse_port = false;
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            if flag == "--reuse-port" {
                reuse_port = true;
                continue;
            }
            match (flag.as_str(), args.next()) {
                ("--addr", Some(value)) => addr = value,
                ("--workers", Some(value)) => workers = value,
                _ => fail(&format!(
                    "unknown argument {flag:?} (want --addr IP:PORT, --workers N, --reuse-port)"
                )),
            }
        }
        Args {
            addr: addr.parse().unwrap_or_else(|e| {
                fail(&format!(
                    "bad address {addr:?} (want IP:PORT, e.g. 127.0.0.1:8080): {e}"
                ))
            }),
            workers: workers.parse().unwrap_or_else(|e| {
                fail(&format!(
                    "bad worker count {workers:?} (want a number, 0 = one per core): {e}"
                ))
            }),
            reuse_port,
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("hello: {message}");
    std::process::exit(2);
}
