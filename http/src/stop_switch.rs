//! One switch that stops every worker: flipped once (by a signal, or because a worker
//! died), seen by each worker's accept loop and the acceptor.

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

    /// Flips the switch and wakes every waiter (later flips do nothing).
    pub(crate) fn stop(&self) {
        if self.inner.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        let wakers: Vec<Waker> = self.lock().iter_mut().filter_map(Option::take).collect();
        wakers.into_iter().for_each(Waker::wake);
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
