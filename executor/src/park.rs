//! The seam between "what runs" and "what waits".
//!
//! The executor runs tasks until none is ready, then calls [`Park::park`]. The reactor
//! implements it with `mio::Poll` (sleep until I/O, a timer or a remote wake); the
//! executor's own tests use [`ThreadPark`], a mutex and a condvar.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Something the loop can sleep in until there is work.
pub trait Park {
    /// Waits for events. `None` means "until woken"; `Some(Duration::ZERO)` means
    /// "collect whatever is ready now and return without blocking" — the fairness check
    /// the loop makes between batches of polls. An implementation may return early.
    fn park(&mut self, timeout: Option<Duration>);

    /// A handle other threads use to end a `park` early.
    fn unparker(&self) -> Arc<dyn Unpark>;
}

/// The thread-safe half of a [`Park`]: ends a `park` that is in progress or about to
/// start (a wake is never lost, even if it lands just before the loop sleeps).
pub trait Unpark: Send + Sync {
    /// Wakes the parked loop.
    fn unpark(&self);
}

/// A [`Park`] made of a mutex and a condvar: for runtimes without I/O, and for tests.
#[derive(Default)]
pub struct ThreadPark {
    inner: Arc<ThreadUnpark>,
}

/// The unpark half of [`ThreadPark`].
#[derive(Default)]
pub struct ThreadUnpark {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl ThreadPark {
    /// A new parker with no pending notification.
    pub fn new() -> ThreadPark {
        ThreadPark::default()
    }
}

impl Park for ThreadPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let mut notified = self
            .inner
            .notified
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match timeout {
            None => {
                while !*notified {
                    notified = self
                        .inner
                        .condvar
                        .wait(notified)
                        .unwrap_or_else(|e| e.into_inner());
                }
            }
            Some(timeout) if !*notified && !timeout.is_zero() => {
                notified = self
                    .inner
                    .condvar
                    .wait_timeout(notified, timeout)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            Some(_) => {}
        }
        *notified = false;
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.inner.clone()
    }
}

impl Unpark for ThreadUnpark {
    fn unpark(&self) {
        *self.notified.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.condvar.notify_one();
    }
}
