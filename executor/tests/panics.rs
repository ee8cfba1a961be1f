//! A panicking task is reported through its JoinHandle; everything else goes on.
mod common;

use simmer_executor::{spawn, spawn_named, yield_now, JoinError};

#[test]
fn panic_is_reported_while_a_sibling_finishes() {
    let ex = common::executor();
    let (bad, good) = ex.block_on(async {
        let bad = spawn_named("doomed", async {
            yield_now().await;
            panic!("boom at step {}", 2);
        });
        let good = spawn(async {
            for _ in 0..10 {
                yield_now().await;
            }
            "sibling done"
        });
        (bad.await, good.await)
    });
    assert_eq!(bad, Err(JoinError::Panic("boom at step 2".to_string())));
    assert_eq!(good, Ok("sibling done"));
    // The executor is still usable afterwards.
    assert_eq!(ex.block_on(async { spawn(async { 7 }).await }), Ok(7));
}

#[test]
fn panic_in_a_detached_task_is_contained() {
    let ex = common::executor();
    let out = ex.block_on(async {
        drop(spawn(async { panic!("nobody is listening") }));
        for _ in 0..5 {
            yield_now().await;
        }
        spawn(async { 1 + 1 }).await
    });
    assert_eq!(out, Ok(2));
    assert_eq!(ex.stats().tasks_alive, 0);
}
