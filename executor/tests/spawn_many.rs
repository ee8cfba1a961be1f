//! Spawning many tasks and joining them all.
mod common;

use simmer_executor::{spawn, yield_now};

#[test]
fn ten_thousand_tasks_spawned_and_joined() {
    let ex = common::executor();
    let total = ex.block_on(async {
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    i * 2
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..10_000u64).map(|i| i * 2).sum::<u64>());
    let stats = ex.stats();
    assert_eq!(stats.tasks_spawned, 10_000);
    assert_eq!(stats.tasks_alive, 0);
    assert!(
        stats.polls >= 20_000,
        "each task polled at least twice: {stats:?}"
    );
}

#[test]
fn detached_task_keeps_running() {
    let ex = common::executor();
    let flag = std::rc::Rc::new(std::cell::Cell::new(false));
    let seen = flag.clone();
    ex.block_on(async move {
        drop(spawn(async move {
            yield_now().await;
            seen.set(true);
        }));
        while !flag.get() {
            yield_now().await;
        }
    });
}

#[test]
fn tasks_left_at_drop_are_dropped_on_the_loop_thread() {
    struct Guard(std::rc::Rc<std::cell::Cell<u32>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let drops = std::rc::Rc::new(std::cell::Cell::new(0));
    let ex = common::executor();
    #[allow(clippy::async_yields_async)] // the JoinHandle is the result, not awaited
    let handle = ex.block_on({
        let drops = drops.clone();
        async move {
            let handle = spawn(async move {
                let _guard = Guard(drops);
                std::future::pending::<()>().await
            });
            yield_now().await; // the task runs and creates its guard
            handle
        }
    });
    assert_eq!(drops.get(), 0);
    drop(ex);
    assert_eq!(
        drops.get(),
        1,
        "the pending task's future was dropped with the executor"
    );
    assert!(handle.is_finished());
}

#[test]
#[should_panic(expected = "outside a runtime")]
fn spawn_outside_a_runtime_panics_clearly() {
    drop(spawn(async {}));
}
