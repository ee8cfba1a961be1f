//! simmer's HTTP client against hyper's (hyper-util's pooled client on tokio
//! `current_thread`), the same requests to the same local simmer server, in one run:
//! sequential GETs on one keep-alive connection, and 64 tasks at once.
//!
//! ```text
//! cargo bench --bench client && python3 benches/table.py
//! ```

use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use simmer::http::client::Client;
use simmer::http::{Request, Response, Router, Server};

/// Requests per task in the concurrent case.
const PER_TASK: u64 = 20;
const TASKS: u64 = 64;

/// A simmer server with `/plaintext`, on its own thread; returns its URL.
fn server() -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = simmer::Runtime::builder()
            .no_slow_poll_warnings()
            .build()
            .unwrap();
        rt.block_on(async move {
            let server = Server::bind("127.0.0.1:0").unwrap();
            tx.send(server.local_addr().unwrap()).unwrap();
            let router = Router::new().get("/plaintext", |_r: Request| async {
                Response::text("Hello, World!")
            });
            server.serve_until(router, std::future::pending()).await
        })
    });
    format!("http://{}/plaintext", rx.recv().unwrap())
}

fn sequential(c: &mut Criterion) {
    let url = server();
    let mut group = c.benchmark_group("client: sequential GETs, one connection");
    let rt = simmer::Runtime::builder()
        .no_slow_poll_warnings()
        .build()
        .unwrap();
    let client = Client::new();
    group.bench_function("simmer", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let body = client
                        .get(&url)
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    assert_eq!(body.len(), 13);
                }
                start.elapsed()
            })
        })
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let hyper: HyperClient<_, Empty<bytes::Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build_http();
    let uri: hyper::Uri = url.parse().unwrap();
    group.bench_function("hyper", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let reply = hyper.get(uri.clone()).await.unwrap();
                    let body = reply.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(body.len(), 13);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

fn concurrent(c: &mut Criterion) {
    let url = server();
    let mut group = c.benchmark_group("client: 64 tasks x 20 GETs");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    let rt = simmer::Runtime::builder()
        .no_slow_poll_warnings()
        .build()
        .unwrap();
    let client = Client::builder().max_idle_per_host(64).build();
    group.bench_function("simmer", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let (client, url) = (client.clone(), url.clone());
                        simmer::spawn(async move {
                            for _ in 0..PER_TASK {
                                client
                                    .get(&url)
                                    .send()
                                    .await
                                    .unwrap()
                                    .bytes()
                                    .await
                                    .unwrap();
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let hyper: HyperClient<_, Empty<bytes::Bytes>> = HyperClient::builder(TokioExecutor::new())
        .pool_max_idle_per_host(64)
        .build_http();
    let uri: hyper::Uri = url.parse().unwrap();
    group.bench_function("hyper", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let (hyper, uri) = (hyper.clone(), uri.clone());
                        tokio::spawn(async move {
                            for _ in 0..PER_TASK {
                                let reply = hyper.get(uri.clone()).await.unwrap();
                                reply.into_body().collect().await.unwrap();
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, sequential, concurrent);
criterion_main!(benches);
