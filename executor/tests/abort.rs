//! Aborting a task drops its future and reports `Aborted`.
mod common;

use std::cell::Cell;
use std::rc::Rc;

use simmer_executor::{spawn, yield_now, JoinError};

#[test]
fn abort_drops_the_future_and_reports_aborted() {
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let ex = common::executor();
    ex.block_on(async {
        let dropped = Rc::new(Cell::new(false));
        let steps = Rc::new(Cell::new(0u32));
        let (d, s) = (dropped.clone(), steps.clone());
        let handle = spawn(async move {
            let _flag = Flag(d);
            loop {
                s.set(s.get() + 1);
                yield_now().await;
            }
        });
        while steps.get() < 3 {
            yield_now().await;
        }
        assert!(!handle.is_finished());
        handle.abort();
        let steps_at_abort = steps.get();
        let result = handle.await;
        assert_eq!(result, Err(JoinError::Aborted));
        assert!(dropped.get(), "the aborted future was dropped");
        assert!(steps.get() <= steps_at_abort + 1);
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    let ex = common::executor();
    ex.block_on(async {
        let handle = spawn(async { 5 });
        while !handle.is_finished() {
            yield_now().await;
        }
        handle.abort();
        assert_eq!(handle.await, Ok(5));
    });
}
