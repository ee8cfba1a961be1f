//! simmer against tokio's `current_thread` runtime, the same workload on both, in one
//! run. `benches/table.py` turns the medians into the table in the README.
//!
//! ```text
//! taskset -c 0 cargo bench --bench runtime && python3 benches/table.py
//! ```

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const SPAWNS: usize = 100_000;
const ROUND_TRIPS: u64 = 1_000_000;
const YIELDS: u64 = 1_000_000;
const SLEEPERS: usize = 100_000;
const ECHOES: usize = 10_000;
const HISTOGRAM_VALUES: usize = 1_000_000;

fn simmer_rt() -> simmer::Runtime {
    simmer::Runtime::builder().no_trace().build().unwrap()
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs a non-`Send` future on tokio, as simmer does: a `LocalSet` on `current_thread`.
fn tokio_local<F: Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    tokio::task::LocalSet::new().block_on(rt, f)
}

fn spawn_and_join(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn 100k tasks and await each");
    group.sample_size(20);
    let rt = simmer_rt();
    group.bench_function("simmer", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..SPAWNS).map(|_| simmer::spawn(async {})).collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio_local(&rt, async {
                let handles: Vec<_> = (0..SPAWNS)
                    .map(|_| tokio::task::spawn_local(async {}))
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

#[path = "support/one_slot.rs"]
mod one_slot;
use one_slot::{put, take, Slot};

/// Two spawned tasks bounce a number `ROUND_TRIPS` times.
fn ping_pong_pair<S, H>(spawn: S) -> (H, H, Rc<RefCell<Slot>>)
where
    S: Fn(std::pin::Pin<Box<dyn Future<Output = ()>>>) -> H,
{
    let ping = Rc::new(RefCell::new(Slot::default()));
    let pong = Rc::new(RefCell::new(Slot::default()));
    let (a_in, a_out) = (ping.clone(), pong.clone());
    let server = spawn(Box::pin(async move {
        for _ in 0..ROUND_TRIPS {
            let v = take(&a_in).await;
            put(&a_out, v + 1).await;
        }
    }));
    let (b_out, b_in) = (ping.clone(), pong.clone());
    let client = spawn(Box::pin(async move {
        let mut v = 0;
        for _ in 0..ROUND_TRIPS {
            put(&b_out, v).await;
            v = take(&b_in).await;
        }
        assert_eq!(v, ROUND_TRIPS);
    }));
    (server, client, ping)
}

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("1M ping-pong round trips");
    group.sample_size(10);
    let rt = simmer_rt();
    group.bench_function("simmer", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (a, b, _) = ping_pong_pair(simmer::spawn);
                a.await.unwrap();
                b.await.unwrap();
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio_local(&rt, async {
                let (a, b, _) = ping_pong_pair(tokio::task::spawn_local);
                a.await.unwrap();
                b.await.unwrap();
            })
        })
    });
    group.finish();
}

fn yield_now(c: &mut Criterion) {
    let mut group = c.benchmark_group("1M yield_now");
    group.sample_size(10);
    // "idle": nothing registered with the reactor; "socket": a listener is registered,
    // so every yield's I/O check is a real epoll_wait on both runtimes.
    for with_socket in [false, true] {
        let label = if with_socket { "socket" } else { "idle" };
        let rt = simmer_rt();
        let _listener = with_socket
            .then(|| rt.block_on(async { simmer::net::TcpListener::bind("127.0.0.1:0").unwrap() }));
        group.bench_function(BenchmarkId::new("simmer", label), |b| {
            b.iter(|| {
                rt.block_on(async {
                    simmer::spawn(async {
                        for _ in 0..YIELDS {
                            simmer::yield_now().await;
                        }
                    })
                    .await
                    .unwrap()
                })
            })
        });
        let rt = tokio_rt();
        let _listener = with_socket.then(|| {
            rt.block_on(async { tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap() })
        });
        group.bench_function(BenchmarkId::new("tokio", label), |b| {
            b.iter(|| {
                tokio_local(&rt, async {
                    tokio::task::spawn_local(async {
                        for _ in 0..YIELDS {
                            tokio::task::yield_now().await;
                        }
                    })
                    .await
                    .unwrap()
                })
            })
        });
    }
    group.finish();
}

/// Seeded 1..=10 ms durations (xorshift), the same on both runtimes.
fn sleep_durations() -> Vec<Duration> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..SLEEPERS)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_micros(1_000 + x % 9_001)
        })
        .collect()
}

fn many_sleeps(c: &mut Criterion) {
    let mut group = c.benchmark_group("100k tasks sleeping 1-10 ms");
    group.sample_size(10);
    let durations = sleep_durations();
    let rt = simmer_rt();
    group.bench_function("simmer", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = durations
                    .iter()
                    .map(|&d| simmer::spawn(simmer::time::sleep(d)))
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio_local(&rt, async {
                let handles: Vec<_> = durations
                    .iter()
                    .map(|&d| tokio::task::spawn_local(tokio::time::sleep(d)))
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

fn tcp_echo(c: &mut Criterion) {
    let mut group = c.benchmark_group("10k echo round trips, one loopback connection");
    group.sample_size(10);
    let rt = simmer_rt();
    let (client, server) = rt.block_on(async {
        let listener = simmer::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = simmer::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.set_nodelay(true).unwrap();
        server.set_nodelay(true).unwrap();
        (Rc::new(client), Rc::new(server))
    });
    group.bench_function("simmer", |b| {
        b.iter(|| {
            rt.block_on(async {
                let server = server.clone();
                let echo = simmer::spawn(async move {
                    let mut buf = [0u8; 64];
                    for _ in 0..ECHOES {
                        server.read_exact(&mut buf).await.unwrap();
                        server.write_all(&buf).await.unwrap();
                    }
                });
                let mut buf = [7u8; 64];
                for _ in 0..ECHOES {
                    client.write_all(&buf).await.unwrap();
                    client.read_exact(&mut buf).await.unwrap();
                }
                echo.await.unwrap();
            })
        })
    });
    let rt = tokio_rt();
    let (client, server) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.set_nodelay(true).unwrap();
        server.set_nodelay(true).unwrap();
        (
            Rc::new(Cell::new(Some(client))),
            Rc::new(Cell::new(Some(server))),
        )
    });
    group.bench_function("tokio", |b| {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        b.iter(|| {
            tokio_local(&rt, async {
                let server = server.clone();
                // Taken out of their cells for the iteration, put back after it.
                let echo = tokio::task::spawn_local(async move {
                    let mut stream = server.take().unwrap();
                    let mut buf = [0u8; 64];
                    for _ in 0..ECHOES {
                        stream.read_exact(&mut buf).await.unwrap();
                        stream.write_all(&buf).await.unwrap();
                    }
                    server.set(Some(stream));
                });
                let mut stream = client.take().unwrap();
                let mut buf = [7u8; 64];
                for _ in 0..ECHOES {
                    stream.write_all(&buf).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                }
                client.set(Some(stream));
                echo.await.unwrap();
            })
        })
    });
    group.finish();
}

fn offload_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("offload round trip vs spawn_blocking");
    let rt = simmer_rt();
    group.bench_function("simmer", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let v = simmer::offload(move || i + 1).await.unwrap();
                    assert_eq!(v, i + 1);
                }
                start.elapsed()
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let v = tokio::task::spawn_blocking(move || i + 1).await.unwrap();
                    assert_eq!(v, i + 1);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

/// What the loop's histograms cost: a million values recorded into the loop-delay
/// histogram (`Recorder::record`, what every loop turn and every poll does), against
/// bumping one counter per value, all the loop did per turn before it had histograms.
/// The values are seeded, spread log-uniformly over 1 ns to 1 ms, so the bucket changes
/// from one value to the next as a real loop's turns do.
fn histogram_record(c: &mut Criterion) {
    let mut group = c.benchmark_group("1M histogram records");
    group.sample_size(20);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let values: Vec<u64> = (0..HISTOGRAM_VALUES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 44) >> (x % 20) // 20 bits (1 ms) shifted down by 0-19 bits
        })
        .collect();
    let recorder = simmer_executor::Recorder::default();
    group.bench_function("simmer", |b| {
        b.iter(|| {
            for &ns in std::hint::black_box(&values) {
                recorder.record(ns);
            }
        })
    });
    let counter = std::sync::atomic::AtomicU64::new(0);
    group.bench_function("counter only", |b| {
        b.iter(|| {
            for &ns in std::hint::black_box(&values) {
                let n = counter.load(std::sync::atomic::Ordering::Relaxed);
                counter.store(
                    n + (ns != u64::MAX) as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
            }
        })
    });
    std::hint::black_box((recorder.snapshot(), counter));
    group.finish();
}

criterion_group!(
    benches,
    histogram_record,
    spawn_and_join,
    ping_pong,
    yield_now,
    many_sleeps,
    tcp_echo,
    offload_round_trip
);
criterion_main!(benches);
