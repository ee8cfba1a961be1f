//! The loop-delay, timer-lateness, poll and wake-to-poll histograms, the live task
//! list and the process-wide sum, on a real runtime with real timers.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use simmer::time::sleep;
use simmer::Runtime;

/// A poll that blocks the loop for 80 ms shows up whole in the loop delay, in the
/// poll-time histogram, and as lateness of the timer that was due meanwhile.
#[test]
fn a_blocking_poll_shows_in_loop_delay_and_timer_lateness() {
    // The timer must come due while the loop is blocked. If this thread is descheduled
    // for longer than 5 ms between setting the timer and starting the block, the timer
    // fires first; the timer task sees that (the block had not begun) and the run is
    // repeated on a fresh runtime rather than judged.
    let rt = (0..20)
        .find_map(|_| {
            let rt = Runtime::builder().no_slow_poll_warnings().build().unwrap();
            assert_eq!(rt.stats().loop_delay.count(), 0);
            let fired_during_block = rt.block_on(async {
                let block_began = Rc::new(Cell::new(false));
                let seen_by_timer = block_began.clone();
                let timer = simmer::spawn_named("timer", async move {
                    sleep(Duration::from_millis(5)).await;
                    seen_by_timer.get()
                });
                let blocker = simmer::spawn_named("blocker", async move {
                    simmer::yield_now().await;
                    block_began.set(true);
                    std::thread::sleep(Duration::from_millis(80)); // holds the loop
                });
                blocker.await.unwrap();
                timer.await.unwrap()
            });
            fired_during_block.then_some(rt)
        })
        .expect("in 20 runs the 5 ms timer never came due during the 80 ms block");
    let s = rt.stats();
    assert!(s.loop_delay.count() >= 2, "{:?}", s.loop_delay);
    // The coarse clock reads at most one tick (≤ 4 ms) short.
    assert!(
        s.loop_delay.max() >= Duration::from_millis(70),
        "{}",
        s.loop_delay
    );
    assert!(
        s.poll_duration.max() >= Duration::from_millis(70),
        "{}",
        s.poll_duration
    );
    assert_eq!(s.poll_duration.count(), s.polls);
    // The 5 ms timer came due while the loop was blocked for 80 ms.
    assert_eq!(s.timer_lateness.count(), s.timers_fired);
    assert!(
        s.timer_lateness.max() >= Duration::from_millis(60),
        "{}",
        s.timer_lateness
    );
    assert!(s.wake_to_poll.count() >= 3, "{}", s.wake_to_poll);
    // Quantiles are ordered and bounded by the maximum.
    let h = &s.loop_delay;
    assert!(
        h.p50() <= h.p90() && h.p90() <= h.p99() && h.p99() <= h.max(),
        "{h}"
    );
}

#[test]
fn live_tasks_are_listed_with_their_polls() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let worker = simmer::spawn_named("ticker", async {
            for _ in 0..3 {
                sleep(Duration::from_millis(1)).await;
            }
            sleep(Duration::from_secs(3600)).await;
        });
        sleep(Duration::from_millis(20)).await;
        let tasks = simmer::tasks().unwrap();
        let ticker = tasks
            .iter()
            .find(|t| t.name.as_deref() == Some("ticker"))
            .unwrap_or_else(|| panic!("ticker not listed: {tasks:?}"));
        assert_eq!(ticker.polls, 4, "{ticker:?}");
        worker.abort();
    });
}

#[test]
fn every_loop_in_the_process_is_summed() {
    use std::sync::{Arc, Barrier};
    // Both loops have spawned their tasks before either reads; neither is dropped
    // before both have read.
    let spawned = Arc::new(Barrier::new(2));
    let read = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (spawned, read) = (spawned.clone(), read.clone());
            std::thread::spawn(move || {
                let rt = Runtime::builder().no_slow_poll_warnings().build().unwrap();
                let total = rt.block_on(async {
                    for _ in 0..50 {
                        simmer::spawn(async {}).await.unwrap();
                    }
                    spawned.wait(); // blocks this loop; nothing else runs on it
                    simmer::stats_all_loops()
                });
                read.wait();
                (rt.stats().tasks_spawned, total.tasks_spawned)
            })
        })
        .collect();
    for t in threads {
        let (mine, total) = t.join().unwrap();
        assert_eq!(mine, 50);
        // Other tests' runtimes in this process only add to the sum.
        assert!(total >= 100, "{total}");
    }
}
