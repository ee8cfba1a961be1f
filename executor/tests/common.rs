//! Helpers shared by the executor's tests: an executor parked on a condvar, no mio.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use simmer_executor::{Config, Executor, SlowPoll, ThreadPark};

/// An executor with default settings and a condvar park.
pub fn executor() -> Executor {
    Executor::new(Box::new(ThreadPark::new()), Config::default())
}

/// An executor whose slow-poll warnings are collected instead of printed.
pub fn executor_with_slow_polls(threshold: Duration) -> (Executor, Arc<Mutex<Vec<SlowPoll>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let config = Config {
        slow_poll_threshold: Some(threshold),
        on_slow_poll: Arc::new(move |slow: &SlowPoll| sink.lock().unwrap().push(slow.clone())),
        ..Config::default()
    };
    (Executor::new(Box::new(ThreadPark::new()), config), seen)
}
