//! Why one blocking call freezes everything, and how `offload` fixes it — measured.
//!
//! ```text
//! cargo run --release --example blocking
//! ```
//!
//! Starts the tour's routes on a free port, then twice keeps firing `GET /` (one
//! at a time) while a slow request runs: first `GET /block?ms=1000`, which calls
//! `std::thread::sleep` on the loop, then `GET /offload?ms=1000`, which sleeps on the
//! offload pool. It prints the `/` latencies of both phases: a frozen loop against
//! a responsive one. The slow-poll detector's warning shows up in the first.

use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use simmer::http::client::Client;
use simmer::http::Server;

#[allow(dead_code)] // tour's main() is not used here
#[path = "tour.rs"]
mod tour;

fn main() {
    let warnings = Arc::new(Mutex::new(Vec::new()));
    let (addr_tx, addr_rx) = mpsc::channel();
    let sink = Arc::clone(&warnings);
    std::thread::spawn(move || {
        let rt = simmer::Runtime::builder()
            .on_slow_poll(move |slow| sink.lock().unwrap().push(slow.to_string()))
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let server = Server::bind("127.0.0.1:0").expect("bind");
            let addr = server.local_addr().expect("address");
            addr_tx.send(addr).unwrap();
            let db = tour::Database::open()
                .await
                .map_err(std::io::Error::other)?;
            server
                .serve(tour::router(format!("http://{addr}/upstream"), db))
                .await
        })
    });
    let addr = addr_rx.recv().expect("server started");
    let client_rt = simmer::Runtime::new().expect("runtime");
    println!("tour routes on http://{addr}; firing GET / while a 1 s job runs\n");
    println!(
        "{:<40} {:>6} {:>10} {:>10} {:>10}",
        "while this runs", "count", "p50", "p99", "max"
    );
    for slow in ["/block?ms=1000", "/offload?ms=1000"] {
        let seen_before = warnings.lock().unwrap().len();
        let latencies = client_rt.block_on(probe_latencies_during(addr, slow));
        println!(
            "{:<40} {:>6} {:>10} {:>10} {:>10}",
            format!("GET {slow}"),
            latencies.len(),
            ms(percentile(&latencies, 50)),
            ms(percentile(&latencies, 99)),
            ms(percentile(&latencies, 100))
        );
        for warning in &warnings.lock().unwrap()[seen_before..] {
            println!("    {warning}");
        }
    }
}

/// Fires `GET /` back to back until the slow request has finished; returns the
/// latency of each.
async fn probe_latencies_during(addr: std::net::SocketAddr, slow: &str) -> Vec<Duration> {
    let client = Client::new();
    let probe = format!("http://{addr}/");
    client
        .get(&probe)
        .send()
        .await
        .expect("warm-up")
        .bytes()
        .await
        .expect("warm-up body");
    let slow_client = client.clone();
    let slow_url = format!("http://{addr}{slow}");
    let job = simmer::spawn(async move { slow_client.get(&slow_url).send().await?.bytes().await });
    let mut latencies = Vec::new();
    while !job.is_finished() {
        let start = Instant::now();
        let reply = client.get(&probe).send().await.expect("GET /");
        reply.bytes().await.expect("body");
        latencies.push(start.elapsed());
    }
    job.await.expect("slow job task").expect("slow request");
    latencies
}

/// The nearest-rank percentile: the smallest value with at least `p`% at or below it.
fn percentile(latencies: &[Duration], p: usize) -> Duration {
    let mut v = latencies.to_vec();
    v.sort();
    let rank = (v.len() * p).div_ceil(100).max(1);
    v.get(rank - 1).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
