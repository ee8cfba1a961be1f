//! Four myths about async, each tested with a measurement and printed as a table.
//!
//! ```text
//! cargo run --release --example myths            # SIMMER_MYTHS_QUICK=1: a short run
//! ```
//!
//! 1. "Async is faster": not for CPU-bound work. The same sum run inline, in async
//!    tasks on the loop, and offloaded to the pool, for several concurrent "requests".
//! 2. "One blocking call only slows its own request": it stops every request. This one
//!    runs `examples/blocking.rs` (built beside this example) and prints its table.
//! 3. "Async tasks run in parallel": they share one thread and take turns. Thread ids
//!    and overlapping time spans of tasks against offloaded jobs.
//! 4. "Every route should be async": a blocking call (a driver without async support)
//!    belongs in a plain function on the pool, not in an async handler on the loop.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use simmer::{offload, spawn, Runtime};

/// The CPU-bound "request": a sum that the optimizer cannot skip.
fn sum(n: u64) -> u64 {
    (0..n).fold(0u64, |acc, i| acc.wrapping_add(std::hint::black_box(i) * i))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let quick = std::env::var_os("SIMMER_MYTHS_QUICK").is_some();
    let rt = Runtime::builder()
        .no_slow_poll_warnings()
        .build()
        .expect("runtime");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "simmer myths, measured ({cores} cores{})\n",
        if quick { ", quick run" } else { "" }
    );
    myth_cpu_bound(&rt, if quick { 2_000_000 } else { 20_000_000 });
    myth_blocking_call();
    myth_parallel(&rt, if quick { 2_000_000 } else { 10_000_000 });
    myth_every_route_async(&rt, if quick { 10 } else { 50 });
}

/// Myth 1: the same CPU-bound work, three ways, for `requests` concurrent requests.
fn myth_cpu_bound(rt: &Runtime, n: u64) {
    let requests = 4;
    println!("1. Async is not faster for CPU-bound work: {requests} requests, each sum(0..{n})");
    println!(
        "   {:<34} {:>12} {:>16}",
        "how", "all done in", "first answer at"
    );
    let start = Instant::now();
    let mut first = None;
    for _ in 0..requests {
        std::hint::black_box(sum(n));
        first.get_or_insert(start.elapsed());
    }
    let inline = start.elapsed();
    row("inline, one after another", inline, first.unwrap());
    let (all, first) = rt.block_on(async move {
        let start = Instant::now();
        let first = Arc::new(Mutex::new(None::<Duration>));
        let tasks: Vec<_> = (0..requests)
            .map(|_| {
                let first = first.clone();
                spawn(async move {
                    std::hint::black_box(sum(n));
                    first.lock().unwrap().get_or_insert(start.elapsed());
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let first = first.lock().unwrap().unwrap();
        (start.elapsed(), first)
    });
    row("async tasks on the loop", all, first);
    let on_loop = all;
    let (all, first) = rt.block_on(async move {
        let start = Instant::now();
        let first = Arc::new(Mutex::new(None::<Duration>));
        let tasks: Vec<_> = (0..requests)
            .map(|_| {
                let first = first.clone();
                spawn(async move {
                    offload(move || std::hint::black_box(sum(n))).await.unwrap();
                    first.lock().unwrap().get_or_insert(start.elapsed());
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let first = first.lock().unwrap().unwrap();
        (start.elapsed(), first)
    });
    row("offloaded to the pool", all, first);
    let ratio = |d: Duration| d.as_secs_f64() / inline.as_secs_f64();
    println!(
        "   async / inline = {:.2}x, offloaded / inline = {:.2}x. Async tasks do the same sums on",
        ratio(on_loop),
        ratio(all)
    );
    println!("   the same one thread (a shared machine moves these figures by tens of percent);");
    println!("   while one runs the loop serves nothing else. The pool uses every core.\n");
}

fn row(how: &str, all: Duration, first: Duration) {
    println!("   {how:<34} {:>12} {:>16}", ms(all), ms(first));
}

/// Myth 2: run `examples/blocking.rs` and show what it measured.
fn myth_blocking_call() {
    println!(
        "2. A blocking call inside a handler stops every other request (examples/blocking.rs)"
    );
    let blocking = std::env::current_exe()
        .expect("own path")
        .with_file_name(format!("blocking{}", std::env::consts::EXE_SUFFIX));
    match std::process::Command::new(&blocking).output() {
        Ok(out) => {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                println!("   {line}");
            }
        }
        Err(e) => println!(
            "   could not run {} ({e}): `cargo run --release --example blocking`",
            blocking.display()
        ),
    }
    println!();
}

/// Myth 3: four tasks and four offloaded jobs record their thread and time span.
fn myth_parallel(rt: &Runtime, n: u64) {
    println!("3. Async tasks share one thread; they take turns, they do not run in parallel");
    println!(
        "   {:<26} {:>8} {:>16} {:>14}",
        "4 jobs as", "threads", "spans overlapping", "all done in"
    );
    type Spans = Arc<Mutex<Vec<(std::thread::ThreadId, Instant, Instant)>>>;
    let report = |how: &str, spans: &Spans, took: Duration| {
        let spans = spans.lock().unwrap();
        let threads: BTreeSet<String> = spans.iter().map(|s| format!("{:?}", s.0)).collect();
        let overlapping = spans
            .iter()
            .enumerate()
            .filter(|(i, a)| {
                spans
                    .iter()
                    .enumerate()
                    .any(|(j, b)| *i != j && a.1 < b.2 && b.1 < a.2)
            })
            .count();
        println!(
            "   {how:<26} {:>8} {:>16} {:>14}",
            threads.len(),
            format!("{overlapping} of {}", spans.len()),
            ms(took)
        );
    };
    let job = |spans: Spans| {
        move || {
            let begin = Instant::now();
            std::hint::black_box(sum(n));
            spans
                .lock()
                .unwrap()
                .push((std::thread::current().id(), begin, Instant::now()));
        }
    };
    let spans: Spans = Arc::default();
    let took = rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let work = job(spans.clone());
                spawn(async move {
                    simmer::yield_now().await; // all four are spawned and waiting
                    work();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    });
    report("async tasks (spawn)", &spans, took);
    let spans: Spans = Arc::default();
    let took = rt.block_on(async {
        let start = Instant::now();
        let jobs: Vec<_> = (0..4).map(|_| offload(job(spans.clone()))).collect();
        for j in jobs {
            j.await.unwrap();
        }
        start.elapsed()
    });
    report("offloaded jobs (offload)", &spans, took);
    println!("   The tasks ran on one thread, one after another: no two spans overlap. The");
    println!("   offloaded jobs ran on pool threads at the same time.\n");
}

/// Myth 4: a blocking 20 ms call in `requests` concurrent requests, three ways.
fn myth_every_route_async(rt: &Runtime, requests: usize) {
    let call = Duration::from_millis(20);
    println!(
        "4. Not every route should be async: {requests} concurrent requests, each a 20 ms call"
    );
    println!(
        "   {:<44} {:>12} {:>12}",
        "the route is", "all done in", "loop held"
    );
    let runs: [(&str, u8); 3] = [
        ("async fn calling a blocking driver", 0),
        ("plain fn run on the pool (offload)", 1),
        ("async fn awaiting an async driver (sleep)", 2),
    ];
    for (how, kind) in runs {
        let before = rt.stats();
        let took = rt.block_on(async move {
            let start = Instant::now();
            let tasks: Vec<_> = (0..requests)
                .map(|_| {
                    spawn(async move {
                        match kind {
                            0 => std::thread::sleep(call),
                            1 => offload(move || std::thread::sleep(call)).await.unwrap(),
                            _ => simmer::time::sleep(call).await,
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            start.elapsed()
        });
        let after = rt.stats();
        let held = after
            .poll_duration
            .sum()
            .saturating_sub(before.poll_duration.sum());
        println!("   {how:<44} {:>12} {:>12}", ms(took), ms(held));
    }
    println!("   A blocking call in an async handler serializes every request and holds the");
    println!("   loop the whole time. As a plain function on the pool it runs beside the others;");
    println!("   only a driver that is itself async belongs in an async handler.");
}
