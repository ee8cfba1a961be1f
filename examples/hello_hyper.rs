//! The baseline for `benches/http.sh`: the same two TechEmpower routes as
//! `examples/hello.rs`, on tokio's `current_thread` runtime with hyper 1.x (both only
//! dev-dependencies of simmer).
//!
//! ```text
//! cargo run --release --example hello_hyper -- --addr 127.0.0.1:8081
//! cargo run --release --example hello_hyper -- --threads 2   # multi-thread runtime
//! ```
//!
//! `--threads N` (N > 1) runs tokio's multi-thread runtime with N worker threads, the
//! baseline of `benches/http_multicore.sh`.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE, SERVER};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

async fn route(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (body, content_type) = match req.uri().path() {
        "/plaintext" => (
            Bytes::from_static(b"Hello, World!"),
            "text/plain; charset=utf-8",
        ),
        "/json" => {
            let json = serde_json::to_vec(&Message {
                message: "Hello, World!",
            })
            .unwrap();
            (Bytes::from(json), "application/json")
        }
        _ => {
            let mut not_found = Response::new(Full::new(Bytes::from_static(b"Not Found")));
            *not_found.status_mut() = StatusCode::NOT_FOUND;
            return Ok(not_found);
        }
    };
    let mut response = Response::new(Full::new(body));
    response
        .headers_mut()
        .insert(SERVER, HeaderValue::from_static("hyper"));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

fn main() {
    let mut addr = std::env::var("SIMMER_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".to_string());
    let mut threads = 1;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("--threads", Some(value)) => threads = value.parse().expect("--threads N"),
            _ => panic!("unknown argument {flag:?} (want --addr IP:PORT, --threads N)"),
        }
    }
    let rt = if threads > 1 {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
            .unwrap()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
        println!(
            "hello_hyper: listening on http://{}",
            listener.local_addr().unwrap()
        );
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => continue,
                },
                _ = tokio::signal::ctrl_c() => return,
            };
            let _ = stream.set_nodelay(true);
            tokio::task::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .pipeline_flush(true)
                    .serve_connection(TokioIo::new(stream), hyper::service::service_fn(route))
                    .await;
            });
        }
    });
}
