//! Timers: order, never early, cancellation on drop, timeout, interval.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use simmer::time::{interval, sleep, sleep_until, timeout};
use simmer::Runtime;

#[test]
fn timers_fire_in_deadline_order_and_never_early() {
    let rt = Runtime::new().unwrap();
    let fired = rt.block_on(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let start = Instant::now();
        // Spawned in scrambled order; deadlines 1..=20 ms apart from start.
        let handles: Vec<_> = [7u64, 3, 19, 1, 12, 5, 20, 9, 2, 15]
            .into_iter()
            .map(|ms| {
                let order = order.clone();
                simmer::spawn(async move {
                    let deadline = start + Duration::from_millis(ms);
                    sleep_until(deadline).await;
                    let woke = Instant::now();
                    assert!(
                        woke >= deadline,
                        "timer {ms} ms fired {:?} early",
                        deadline - woke
                    );
                    order.borrow_mut().push(ms);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        Rc::try_unwrap(order).unwrap().into_inner()
    });
    assert_eq!(fired, vec![1, 2, 3, 5, 7, 9, 12, 15, 19, 20]);
    assert_eq!(rt.stats().timers_fired, 10);
}

#[test]
fn sleep_is_never_shorter_than_asked() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for micros in [1u64, 300, 999, 1_001, 2_500] {
            let asked = Duration::from_micros(micros);
            let start = Instant::now();
            sleep(asked).await;
            assert!(start.elapsed() >= asked, "sleep({asked:?}) returned early");
        }
    });
}

#[test]
fn a_reset_sleep_ends_at_its_new_deadline() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut idle = std::pin::pin!(sleep(ms(20)));
        // Register the timer, as a connection waiting for its next request does.
        assert!(timeout(ms(1), idle.as_mut()).await.is_err());
        // Pushed back twice: it must outlive both earlier deadlines.
        idle.as_mut().reset(start + ms(40));
        idle.as_mut().reset(start + ms(60));
        idle.as_mut().await;
        assert!(
            start.elapsed() >= ms(60),
            "ended {:?} after start",
            start.elapsed()
        );
        // Brought forward: re-registered at the earlier deadline.
        let restart = Instant::now();
        idle.as_mut().reset(restart + ms(5));
        idle.as_mut().await;
        assert!(restart.elapsed() >= ms(5));
    });
    // The 1 ms timeout, the postponed timer once, the re-registered one once.
    assert_eq!(rt.stats().timers_fired, 3);
}

#[test]
fn reset_after_counts_from_the_loops_wake_up_and_never_ends_early() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let ms = Duration::from_millis;
        // Not yet polled: no wake-up to count from, so it reads the clock.
        let mut idle = std::pin::pin!(sleep(ms(1)));
        let before = Instant::now();
        idle.as_mut().reset_after(ms(30));
        assert!(idle.deadline() >= before + ms(30));
        // Registered, and the loop has just woken (for the 1 ms timeout).
        assert!(timeout(ms(1), idle.as_mut()).await.is_err());
        let woken = Instant::now();
        // A poll that blocks (as a handler that calls a blocking function does) keeps
        // the loop from reading the clock again: the new deadline counts from the
        // wake-up, before the block, not from now.
        std::thread::sleep(ms(20));
        let now = Instant::now();
        idle.as_mut().reset_after(ms(50));
        assert!(idle.deadline() <= woken + ms(50));
        assert!(idle.deadline() < now + ms(50));
        idle.as_mut().await;
        assert!(
            Instant::now() >= idle.deadline(),
            "ended before its deadline"
        );
    });
}

#[test]
fn timeout_cancels_its_future() {
    struct Dropped(Rc<RefCell<bool>>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            *self.0.borrow_mut() = true;
        }
    }
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let dropped = Rc::new(RefCell::new(false));
        let flag = Dropped(dropped.clone());
        let slow = async move {
            let _flag = flag;
            sleep(Duration::from_secs(3600)).await;
            "never"
        };
        let result = timeout(Duration::from_millis(20), slow).await;
        assert!(result.is_err());
        assert!(*dropped.borrow(), "the timed-out future was dropped");
        // A fast future wins.
        assert_eq!(timeout(Duration::from_secs(3600), async { 5 }).await, Ok(5));
    });
    // The cancelled hour-long timer is gone: the runtime has nothing left pending.
    assert_eq!(rt.stats().tasks_alive, 0);
}

/// The loop parks with its kernel timer set for the earliest deadline it knows; a
/// sooner timer made while it was parked (here after a wake from another thread) must
/// set it again, and a cancelled timer must not end a later one early.
#[test]
fn a_sooner_timer_made_after_a_park_fires_on_time() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let long = simmer::spawn(sleep(Duration::from_secs(30)));
        // Parks with only the 30 s timer pending until the pool thread wakes the loop.
        simmer::offload(|| std::thread::sleep(Duration::from_millis(5)))
            .await
            .unwrap();
        let start = Instant::now();
        sleep(Duration::from_millis(20)).await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(20), "early: {waited:?}");
        assert!(
            waited < Duration::from_secs(5),
            "the 20 ms sleep waited for the 30 s timer: {waited:?}"
        );

        // A 10 ms timer the loop parks for, cancelled while parked: the wait it ends
        // early must not end the 50 ms sleep early, and must not stop it firing.
        let soon = simmer::spawn(sleep(Duration::from_millis(10)));
        simmer::offload(|| std::thread::sleep(Duration::from_millis(2)))
            .await
            .unwrap();
        soon.abort();
        let start = Instant::now();
        sleep(Duration::from_millis(50)).await;
        assert!(start.elapsed() >= Duration::from_millis(50));
        long.abort();
    });
}

#[test]
fn dropped_sleeps_do_not_fire() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for _ in 0..1000 {
            let s = sleep(Duration::from_millis(5));
            let _ = timeout(Duration::ZERO, s).await;
        }
        sleep(Duration::from_millis(20)).await;
    });
    assert_eq!(rt.stats().timers_fired, 1, "only the last sleep fired");
}

#[test]
fn interval_ticks_on_its_grid_and_skips_missed_ticks() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let period = Duration::from_millis(5);
        let mut every = interval(period);
        let first = every.tick().await;
        let second = every.tick().await;
        assert_eq!(second - first, period);
        // Hold the loop for 3.5 periods: the missed ticks are skipped, not bursted.
        std::thread::sleep(period * 7 / 2);
        let held_until = Instant::now();
        let late = every.tick().await; // the overdue tick, at once
        let next = every.tick().await;
        assert!(
            next > held_until,
            "the ticks missed while held were skipped"
        );
        assert!(next - late >= period * 2, "not bursted: {:?}", next - late);
        for t in [late, next] {
            assert_eq!(
                (t - first).as_nanos() % period.as_nanos(),
                0,
                "still on the grid"
            );
        }
        assert!(Instant::now() >= next, "never early");
    });
}

#[test]
#[should_panic(expected = "no simmer runtime")]
fn sleep_outside_a_runtime_panics_clearly() {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut s = std::pin::pin!(sleep(Duration::from_secs(1)));
    let _ = s.as_mut().poll(&mut cx);
}

use std::future::Future as _;
