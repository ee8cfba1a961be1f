//! The offload pool: blocking work off the loop, panics, drops, idle threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use simmer::time::{interval, sleep};
use simmer::{offload, JoinError, Runtime};

#[test]
fn four_blocking_jobs_run_while_a_10ms_interval_keeps_ticking() {
    let rt = Runtime::new().unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let most_at_once = Arc::new(AtomicUsize::new(0));
    let (ticks_during_jobs, results) = rt.block_on(async {
        let jobs: Vec<_> = (0..4u64)
            .map(|n| {
                let (running, most) = (running.clone(), most_at_once.clone());
                offload(move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    std::thread::sleep(Duration::from_millis(200));
                    running.fetch_sub(1, SeqCst);
                    n * 10
                })
            })
            .collect();
        let all_done = simmer::spawn(async move {
            let mut results = Vec::new();
            for job in jobs {
                results.push(job.await.unwrap());
            }
            results
        });
        let mut every = interval(Duration::from_millis(10));
        let mut ticks = 0;
        while !all_done.is_finished() {
            every.tick().await;
            ticks += 1;
        }
        (ticks, all_done.await.unwrap())
    });
    assert_eq!(results, vec![0, 10, 20, 30]);
    assert_eq!(
        most_at_once.load(SeqCst),
        4,
        "the four jobs ran at the same time"
    );
    // 200 ms of blocking work at a 10 ms period is ~20 ticks; a blocked loop would
    // manage one or two.
    assert!(
        ticks_during_jobs >= 10,
        "the loop kept ticking: {ticks_during_jobs} ticks"
    );
    let stats = rt.stats();
    assert!(stats.remote_wakes >= 1, "{stats:?}");
}

#[test]
fn a_panicking_closure_comes_back_as_join_error() {
    let rt = Runtime::new().unwrap();
    let result = rt.block_on(offload(|| -> u32 { panic!("disk on fire") }));
    assert_eq!(result, Err(JoinError::Panic("disk on fire".into())));
    // The pool survives.
    assert_eq!(rt.block_on(offload(|| 3)), Ok(3));
}

#[test]
fn dropping_the_awaitable_discards_the_result_but_the_job_finishes() {
    let rt = Runtime::new().unwrap();
    let finished = Arc::new(AtomicBool::new(false));
    rt.block_on({
        let finished = finished.clone();
        async move {
            let job = offload(move || {
                std::thread::sleep(Duration::from_millis(30));
                finished.store(true, SeqCst);
                "discarded"
            });
            drop(job);
        }
    });
    rt.block_on(async {
        // Wait for the job (not for a fixed time): the flag flips when it ends.
        while !finished.load(SeqCst) {
            sleep(Duration::from_millis(5)).await;
        }
    });
    assert!(finished.load(SeqCst));
}

#[test]
fn idle_threads_exit_and_the_maximum_is_respected() {
    let rt = Runtime::builder()
        .offload_max_threads(2)
        .offload_idle_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                offload(move || {
                    most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
        assert!(simmer::stats().unwrap().offload_threads <= 2);
        // Idle threads leave after the idle timeout.
        while simmer::stats().unwrap().offload_threads > 0 {
            sleep(Duration::from_millis(10)).await;
        }
    });
    assert_eq!(most.load(SeqCst), 2, "never more than the maximum at once");
}

#[test]
fn offload_outside_a_runtime_says_so() {
    // Driven by a bare poll: no simmer runtime on this thread.
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut job = std::pin::pin!(offload(|| 1));
    match std::future::Future::poll(job.as_mut(), &mut cx) {
        std::task::Poll::Ready(Err(e)) => {
            assert_eq!(e, JoinError::NoRuntime);
            assert!(e.to_string().contains("outside a simmer runtime"), "{e}");
        }
        other => panic!("expected NoRuntime, got {other:?}"),
    }
}

#[test]
fn bad_configuration_is_rejected_with_a_reason() {
    let err = Runtime::builder()
        .offload_max_threads(0)
        .build()
        .err()
        .unwrap();
    assert!(err.to_string().contains("offload_max_threads"), "{err}");
    let err = Runtime::builder().event_interval(0).build().err().unwrap();
    assert!(err.to_string().contains("event_interval"), "{err}");
}
