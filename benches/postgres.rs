//! simmer-postgres against tokio-postgres (on tokio `current_thread`), the same server
//! and the same queries, in one run:
//! - 10,000 sequential `SELECT $1::int4` on one connection;
//! - 64 connections at once, each running the same query 100 times;
//! - a 100,000-row result, collected into a `Vec` and streamed row by row (simmer's
//!   `query_stream`, tokio-postgres' `query_raw`).
//!
//! ```text
//! eval "$(bash .ci/postgres.sh)"     # or any server: DATABASE_URL=postgres://...
//! cargo bench --bench postgres && python3 benches/table.py
//! ```

use criterion::{criterion_group, criterion_main, Criterion};

const SEQUENTIAL: i32 = 10_000;
const CLIENTS: i32 = 64;
const PER_CLIENT: i32 = 100;

fn url() -> Option<String> {
    let url = std::env::var("DATABASE_URL").ok();
    if url.is_none() {
        eprintln!(
            "DATABASE_URL is not set: skipping the PostgreSQL benchmarks (see .ci/postgres.sh)"
        );
    }
    url
}

fn sequential(c: &mut Criterion) {
    let Some(url) = url() else { return };
    let mut group = c.benchmark_group("postgres: 10k sequential SELECT $1::int4");
    group.sample_size(10);
    let rt = simmer::Runtime::builder()
        .no_slow_poll_warnings()
        .build()
        .unwrap();
    let mut client = rt
        .block_on(simmer::postgres::Client::connect(&url))
        .unwrap();
    group.bench_function("simmer", |b| {
        b.iter(|| {
            rt.block_on(async {
                for i in 0..SEQUENTIAL {
                    let row = client.query_one("SELECT $1::int4", &[&i]).await.unwrap();
                    assert_eq!(row.get::<i32>(0).unwrap(), i);
                }
            })
        })
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(tokio_client(&url));
    group.bench_function("tokio-postgres", |b| {
        b.iter(|| {
            rt.block_on(async {
                let statement = client.prepare("SELECT $1::int4").await.unwrap();
                for i in 0..SEQUENTIAL {
                    let row = client.query_one(&statement, &[&i]).await.unwrap();
                    assert_eq!(row.get::<_, i32>(0), i);
                }
            })
        })
    });
    group.finish();
}

fn concurrent(c: &mut Criterion) {
    let Some(url) = url() else { return };
    let mut group = c.benchmark_group("postgres: 64 clients x 100 SELECT $1::int4");
    group.sample_size(10);
    let rt = simmer::Runtime::builder()
        .no_slow_poll_warnings()
        .build()
        .unwrap();
    let clients: Vec<_> = rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            clients.push(std::rc::Rc::new(std::cell::RefCell::new(Some(
                simmer::postgres::Client::connect(&url).await.unwrap(),
            ))));
        }
        clients
    });
    group.bench_function("simmer", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = clients
                    .iter()
                    .map(|slot| {
                        let slot = std::rc::Rc::clone(slot);
                        simmer::spawn(async move {
                            let mut client = slot.take().unwrap();
                            for i in 0..PER_CLIENT {
                                client.query_one("SELECT $1::int4", &[&i]).await.unwrap();
                            }
                            slot.replace(Some(client));
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
    let clients: Vec<_> = rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            clients.push(std::sync::Arc::new(tokio_client(&url).await));
        }
        clients
    });
    group.bench_function("tokio-postgres", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = clients
                    .iter()
                    .map(|client| {
                        let client = std::sync::Arc::clone(client);
                        tokio::spawn(async move {
                            let statement = client.prepare("SELECT $1::int4").await.unwrap();
                            for i in 0..PER_CLIENT {
                                client.query_one(&statement, &[&i]).await.unwrap();
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

const LARGE: &str = "SELECT i, md5(i::text) FROM generate_series(1, $1) i";
const LARGE_ROWS: i32 = 100_000;

fn large_result(c: &mut Criterion) {
    let Some(url) = url() else { return };
    let mut group = c.benchmark_group("postgres: 100k-row result, collected vs streamed");
    group.sample_size(10);
    let rt = simmer::Runtime::builder()
        .no_slow_poll_warnings()
        .build()
        .unwrap();
    let mut client = rt
        .block_on(simmer::postgres::Client::connect(&url))
        .unwrap();
    group.bench_function("simmer query (collect)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let rows = client.query(LARGE, &[&LARGE_ROWS]).await.unwrap();
                let bytes: usize = rows.iter().map(|r| r.get::<&str>(1).unwrap().len()).sum();
                assert_eq!(bytes, 32 * LARGE_ROWS as usize);
            })
        })
    });
    for fetch in [
        simmer::postgres::RowStream::DEFAULT_FETCH,
        LARGE_ROWS as u32,
    ] {
        let name = format!("simmer query_stream ({fetch} rows per fetch)");
        group.bench_function(name.as_str(), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut rows = client
                        .query_stream_fetching(LARGE, &[&LARGE_ROWS], fetch)
                        .await
                        .unwrap();
                    let mut bytes = 0;
                    while let Some(row) = rows.next().await {
                        bytes += row.unwrap().get::<&str>(1).unwrap().len();
                    }
                    assert_eq!(bytes, 32 * LARGE_ROWS as usize);
                })
            })
        });
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(tokio_client(&url));
    let statement = rt.block_on(client.prepare(LARGE)).unwrap();
    group.bench_function("tokio-postgres query (collect)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let rows = client.query(&statement, &[&LARGE_ROWS]).await.unwrap();
                let bytes: usize = rows.iter().map(|r| r.get::<_, &str>(1).len()).sum();
                assert_eq!(bytes, 32 * LARGE_ROWS as usize);
            })
        })
    });
    group.bench_function("tokio-postgres query_raw (stream)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let rows = client
                    .query_raw(
                        &statement,
                        [&LARGE_ROWS as &(dyn tokio_postgres::types::ToSql + Sync)],
                    )
                    .await
                    .unwrap();
                let mut rows = std::pin::pin!(rows);
                let mut bytes = 0;
                while let Some(row) = futures_util::StreamExt::next(&mut rows).await {
                    bytes += row.unwrap().get::<_, &str>(1).len();
                }
                assert_eq!(bytes, 32 * LARGE_ROWS as usize);
            })
        })
    });
    group.finish();
}

/// A tokio-postgres client whose connection task runs on the current runtime.
async fn tokio_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

criterion_group!(benches, sequential, concurrent, large_result);
criterion_main!(benches);
