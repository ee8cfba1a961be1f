//! Timers on one thread: `sleep`, `timeout` and `interval` interleaving.
//!
//! ```text
//! cargo run --example timers
//! ```
//!
//! Three tasks wait on timers at once; the output shows them finishing in deadline
//! order, not in the order they started, and a `timeout` cancelling a slow sleep.

use std::time::{Duration, Instant};

use simmer::time::{interval, sleep, timeout};

fn main() {
    let start = Instant::now();
    let at = move || start.elapsed().as_millis();
    simmer::block_on(async move {
        let slow = simmer::spawn(async move {
            sleep(Duration::from_millis(120)).await;
            println!("{:>4} ms  slow sleep (120 ms) done", at());
        });
        let fast = simmer::spawn(async move {
            sleep(Duration::from_millis(40)).await;
            println!("{:>4} ms  fast sleep (40 ms) done", at());
        });
        let ticker = simmer::spawn(async move {
            let mut every = interval(Duration::from_millis(30));
            for n in 0..4 {
                every.tick().await;
                println!("{:>4} ms  tick {n}", at());
            }
        });
        let cut_short = timeout(Duration::from_millis(60), sleep(Duration::from_secs(10))).await;
        println!(
            "{:>4} ms  timeout(60 ms, sleep(10 s)) -> {cut_short:?}",
            at()
        );
        for task in [slow, fast, ticker] {
            task.await.expect("timer task");
        }
        println!(
            "{:>4} ms  all done; stats: {:?}",
            at(),
            simmer::stats().unwrap()
        );
    });
}
