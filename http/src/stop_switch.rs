//! A switch flipped once and awaited from several threads: the one that stops every
//! worker (seen by each worker's accept loop and the acceptor), and the stop requests
//! the supervisor waits for.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

/// Shared by the supervisor, every worker and the acceptor. Each waiter has a seat
/// number, so re-polling replaces its waker instead of piling them up.
#[derive(Clone)]
pub(crate) struct StopSwitch {
    inner: Arc<Inner>,
}

struct Inner {
    stopped: AtomicBool,
    waiters: Mutex<Vec<Option<Waker>>>,
}

impl StopSwitch {
    /// A switch with `seats` waiters.
    pub(crate) fn new(seats: usize) -> StopSwitch {
        StopSwitch {
            inner: Arc::new(Inner {
                stopped: AtomicBool::new(false),
                waiters: Mutex::new(vec![None; seats]),
            }),
        }
    }

    /// Flips the switch and wakes every waiter; true if this call flipped it (later
    /// flips do nothing and return false).
    pub(crate) fn stop(&self) -> bool {
        if self.inner.stopped.swap(true, Ordering::SeqCst) {
            return false;
        }
        let wakers: Vec<Waker> = self.lock().iter_mut().filter_map(Option::take).collect();
        wakers.into_iter().for_each(Waker::wake);
        true
    }

    /// Resolves once the switch is flipped; `seat` is the caller's number.
    pub(crate) async fn stopped(&self, seat: usize) {
        poll_fn(|cx| {
            if self.inner.stopped.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            self.lock()[seat] = Some(cx.waker().clone());
            // Flipped between the check and the store: do not miss it.
            if self.inner.stopped.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            Poll::Pending
        })
        .await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<Waker>>> {
        self.inner.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }
}
