//! Wakes from other threads, repeated wakes, and wakes of finished tasks.
mod common;

use std::cell::Cell;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Poll, Waker};

use simmer_executor::{spawn, yield_now};

#[test]
fn wake_from_a_std_thread_unparks_the_loop() {
    let ex = common::executor();
    let value = ex.block_on(async {
        let (tx, rx) = mpsc::channel::<Waker>();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let thread_done = done.clone();
        let thread = std::thread::spawn(move || {
            let waker = rx.recv().unwrap();
            thread_done.store(42, std::sync::atomic::Ordering::SeqCst);
            waker.wake();
        });
        let mut tx = Some(tx);
        let value = poll_fn(move |cx| {
            if let Some(tx) = tx.take() {
                tx.send(cx.waker().clone()).unwrap();
            }
            match done.load(std::sync::atomic::Ordering::SeqCst) {
                0 => Poll::Pending,
                v => Poll::Ready(v),
            }
        });
        let handle = spawn(value);
        let v = handle.await.unwrap();
        thread.join().unwrap();
        v
    });
    assert_eq!(value, 42);
    let stats = ex.stats();
    assert_eq!(stats.remote_wakes, 1);
    assert!(stats.unparks <= 1);
}

#[test]
fn task_woken_1000_times_before_it_runs_is_polled_once() {
    let ex = common::executor();
    ex.block_on(async {
        let polls = Rc::new(Cell::new(0u32));
        let waker_slot: Rc<Cell<Option<Waker>>> = Rc::new(Cell::new(None));
        let (p, w) = (polls.clone(), waker_slot.clone());
        let task = spawn(poll_fn(move |cx| {
            p.set(p.get() + 1);
            if p.get() == 1 {
                w.set(Some(cx.waker().clone()));
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        // Let it run once and hand over its waker.
        while polls.get() == 0 {
            yield_now().await;
        }
        let waker = waker_slot.take().unwrap();
        for _ in 0..1000 {
            waker.wake_by_ref();
        }
        task.await.unwrap();
        assert_eq!(polls.get(), 2, "1000 wakes queued the task once");
        // Waking a finished task does nothing harmful.
        waker.wake_by_ref();
        waker.wake();
    });
}

#[test]
fn wakes_from_many_threads_at_once_are_all_delivered() {
    let ex = common::executor();
    let finished = ex.block_on(async {
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<Waker>();
                let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let thread_flag = flag.clone();
                std::thread::spawn(move || {
                    let w = rx.recv().unwrap();
                    thread_flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    w.wake();
                });
                spawn(poll_fn(move |cx| {
                    if flag.load(std::sync::atomic::Ordering::SeqCst) {
                        return Poll::Ready(1);
                    }
                    let _ = tx.send(cx.waker().clone());
                    Poll::Pending
                }))
            })
            .collect();
        let mut n = 0;
        for h in handles {
            n += h.await.unwrap();
        }
        n
    });
    assert_eq!(finished, 64);
}

#[test]
fn remote_wakes_while_the_loop_is_busy_cost_no_unpark() {
    // A std thread wakes a task 1,000 times, each time waiting until the task has been
    // polled since the last wake. The loop is kept busy by a task that yields, so it
    // never parks: no wake needs a syscall to reach it, and every wake is delivered.
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    const ROUNDS: usize = 1_000;
    let ex = common::executor();
    let polls = Arc::new(AtomicUsize::new(0));
    ex.block_on(async {
        let (tx, rx) = mpsc::channel::<Waker>();
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_stop, thread_polls) = (stop.clone(), polls.clone());
        let waker_thread = std::thread::spawn(move || {
            let waker = rx.recv().unwrap();
            for round in 1..=ROUNDS {
                waker.wake_by_ref();
                while thread_polls.load(SeqCst) <= round {
                    std::thread::yield_now();
                }
            }
            thread_stop.store(true, SeqCst);
        });
        let (mut tx, task_polls) = (Some(tx), polls.clone());
        let woken = spawn(poll_fn(move |cx| {
            if let Some(tx) = tx.take() {
                tx.send(cx.waker().clone()).unwrap();
            }
            task_polls.fetch_add(1, SeqCst);
            Poll::<()>::Pending
        }));
        while !stop.load(SeqCst) {
            yield_now().await;
        }
        waker_thread.join().unwrap();
        woken.abort();
    });
    let stats = ex.stats();
    assert_eq!(polls.load(SeqCst), ROUNDS + 1, "every wake delivered once");
    assert_eq!(stats.unparks, 0, "{stats:?}");
    assert!(stats.remote_wakes > 0, "{stats:?}");
}
