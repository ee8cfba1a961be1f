//! What a loop pays to sleep and wake, with and without a timer due soon: simmer
//! against tokio's `current_thread` runtime, in one run.
//!
//! A client thread on another core sends one byte over loopback TCP and waits for it to
//! come back, 20,000 times. Between two bytes the loop has nothing to do, so every round
//! trip is one park and one wake of the loop. "timer due in 2 ms": the echo task pushes
//! a sleep back to 2 ms from now after every byte, as a keep-alive or read timeout does,
//! so the loop always parks with a deadline a little way off. The figure is the loop
//! thread's own CPU time (`CLOCK_THREAD_CPUTIME_ID`) per round trip; medians of five
//! runs.
//!
//! Both runtimes wait in `epoll_wait` with the time to the deadline as its timeout, so
//! Linux arms and cancels a kernel timer at every park that sleeps. The README's
//! "Parking" section gives the figures, and what a timerfd kept armed across parks
//! changed here: much less per park in this benchmark, nothing in the HTTP server's.
//!
//! ```text
//! cargo bench --bench park
//! ```

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

const ROUND_TRIPS: usize = 20_000;
const RUNS: usize = 5;
const TIMER: Duration = Duration::from_millis(2);

/// The calling thread's CPU time, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Pins the calling thread to `cpu` if the machine has it (the loop and the client
/// each get a core of their own, so that each round trip really parks the loop).
fn pin_to(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the size passed is its own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set);
    }
}

/// The client: one byte out, the same byte back, `ROUND_TRIPS` times.
fn client(addr: SocketAddr) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        pin_to(1);
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut byte = [0u8; 1];
        for i in 0..ROUND_TRIPS {
            stream.write_all(&[i as u8]).unwrap();
            stream.read_exact(&mut byte).unwrap();
        }
    })
}

/// Loop CPU ns per round trip on simmer.
fn simmer_run(with_timer: bool) -> f64 {
    let rt = simmer::Runtime::builder().no_trace().build().unwrap();
    rt.block_on(async move {
        let listener = simmer::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = client(listener.local_addr().unwrap());
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut timer = simmer::time::sleep(TIMER);
        let start = thread_cpu_ns();
        let mut byte = [0u8; 1];
        for _ in 0..ROUND_TRIPS {
            if with_timer {
                timer.reset(std::time::Instant::now() + TIMER);
                poll_once(Pin::new(&mut timer)).await;
            }
            stream.read_exact(&mut byte).await.unwrap();
            stream.write_all(&byte).await.unwrap();
        }
        let spent = thread_cpu_ns() - start;
        client.join().unwrap();
        spent as f64 / ROUND_TRIPS as f64
    })
}

/// Loop CPU ns per round trip on tokio's current_thread runtime.
fn tokio_run(with_timer: bool) -> f64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = client(listener.local_addr().unwrap());
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let timer = tokio::time::sleep(TIMER);
        tokio::pin!(timer);
        let start = thread_cpu_ns();
        let mut byte = [0u8; 1];
        for _ in 0..ROUND_TRIPS {
            if with_timer {
                timer.as_mut().reset(tokio::time::Instant::now() + TIMER);
                poll_once(timer.as_mut()).await;
            }
            stream.read_exact(&mut byte).await.unwrap();
            stream.write_all(&byte).await.unwrap();
        }
        let spent = thread_cpu_ns() - start;
        client.join().unwrap();
        spent as f64 / ROUND_TRIPS as f64
    })
}

/// Polls a timer once, so that it is registered with the task's waker, as a read under
/// a timeout does.
async fn poll_once<F: Future>(mut timer: Pin<&mut F>) {
    std::future::poll_fn(|cx| {
        let _ = timer.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench`-less arguments; only a
    // real `cargo bench` (which passes `--bench`) measures.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    pin_to(0);
    println!(
        "| loop CPU per round trip (one park and wake each) | simmer | tokio | simmer / tokio |"
    );
    println!("| --- | ---: | ---: | ---: |");
    for (label, with_timer) in [("no timer", false), ("a timer due in 2 ms", true)] {
        let mut simmer = Vec::new();
        let mut tokio = Vec::new();
        for _ in 0..RUNS {
            simmer.push(simmer_run(with_timer));
            tokio.push(tokio_run(with_timer));
        }
        let (s, t) = (median(simmer) / 1e3, median(tokio) / 1e3);
        println!("| {label} | {s:.2} µs | {t:.2} µs | **{:.2}x** |", s / t);
    }
}
