//! Per-request costs of the HTTP layer, each beside a baseline in the same group:
//! parsing and validating a request head (simmer) against httparse's syntax check alone,
//! writing a response (simmer) against a straightforward `write!` serializer, and a
//! JSON body (`Response::json`'s writer) against `serde_json::to_writer`.
//!
//! ```text
//! taskset -c 0 cargo bench --bench http_parse && python3 benches/table.py
//! ```

use std::hint::black_box;
use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion};
use simmer::http::{bench, Response};

/// The request wrk sends in the TechEmpower plaintext test, and a browser-like one.
const WRK: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
const BROWSER: &[u8] = b"GET /items/42?q=tea HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nCookie: session=0123456789abcdef\r\n\r\n";

fn parse(c: &mut Criterion) {
    for (label, request) in [("wrk", WRK), ("browser", BROWSER)] {
        let mut group = c.benchmark_group(format!("parse one request head ({label})"));
        group.bench_function("simmer", |b| {
            b.iter(|| bench::parse_request(black_box(request)))
        });
        group.bench_function("httparse syntax only", |b| {
            b.iter(|| {
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut req = httparse::Request::new(&mut headers);
                match req.parse(black_box(request)) {
                    Ok(httparse::Status::Complete(n)) => n,
                    _ => 0,
                }
            })
        });
        group.finish();
    }
}

fn write(c: &mut Criterion) {
    let mut group = c.benchmark_group("write one plaintext response");
    let response = Response::text("Hello, World!");
    let mut out = Vec::with_capacity(4096);
    group.bench_function("simmer", |b| {
        b.iter(|| {
            out.clear();
            bench::write(&mut out, black_box(&response));
            out.len()
        })
    });
    let mut out = Vec::with_capacity(4096);
    group.bench_function("write! serializer", |b| {
        b.iter(|| {
            out.clear();
            let body = black_box("Hello, World!");
            let date = black_box("Sat, 21 Nov 2026 08:00:00 GMT");
            write!(
                out,
                "HTTP/1.1 200 OK\r\nServer: simmer\r\nDate: {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{}",
                date,
                body.len(),
                body
            )
            .unwrap();
            out.len()
        })
    });
    group.finish();
}

/// One row of a list a JSON API might return.
#[derive(serde::Serialize)]
struct Customer {
    id: u32,
    name: String,
    email: String,
    city: &'static str,
    active: bool,
    tags: Vec<&'static str>,
}

fn json(c: &mut Criterion) {
    #[derive(serde::Serialize)]
    struct Message {
        message: &'static str,
    }
    let customers: Vec<Customer> = (0..100)
        .map(|i| Customer {
            id: i,
            name: format!("Customer number {i}"),
            email: format!("customer.{i}@example.com"),
            city: "Trondheim",
            active: i % 3 != 0,
            tags: vec!["retail", "newsletter"],
        })
        .collect();
    // A text with a quote and a line break in every paragraph.
    let article = "A paragraph of plain prose, then \"a quote\".\n".repeat(100);
    let cases: [(&str, &dyn erased::Value); 3] = [
        (
            "message",
            &Message {
                message: "Hello, World!",
            },
        ),
        ("100 customers", &customers),
        ("4 KiB article", &article),
    ];
    for (label, value) in cases {
        let mut group = c.benchmark_group(format!("serialize a JSON body ({label})"));
        let mut out = Vec::with_capacity(64 * 1024);
        group.bench_function("simmer", |b| {
            b.iter(|| {
                out.clear();
                value.simmer(&mut out);
                out.len()
            })
        });
        group.bench_function("serde_json", |b| {
            b.iter(|| {
                out.clear();
                value.serde_json(&mut out);
                out.len()
            })
        });
        group.finish();
    }
}

/// The cases behind one trait object, each writer monomorphized for its type.
mod erased {
    use simmer::http::bench;
    use std::hint::black_box;

    pub trait Value {
        fn simmer(&self, out: &mut Vec<u8>);
        fn serde_json(&self, out: &mut Vec<u8>);
    }

    impl<T: serde::Serialize> Value for T {
        fn simmer(&self, out: &mut Vec<u8>) {
            bench::json(out, black_box(self));
        }
        fn serde_json(&self, out: &mut Vec<u8>) {
            serde_json::to_writer(out, black_box(self)).unwrap();
        }
    }
}

criterion_group!(benches, parse, write, json);
criterion_main!(benches);
