//! `offload`: run blocking or CPU-heavy closures on a thread pool and await the result
//! (asyncio's `run_in_executor`, tokio's `spawn_blocking`).
//!
//! The closure runs on the current runtime's pool (`pool.rs`), catching a panic; the
//! result waits in a slot shared with the awaiting future, whose waker the job returns
//! to the pool thread to wake.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::{panic_message, JoinError};
use crate::pool::Job;

/// Where a job leaves its result for the awaiting task.
struct ResultSlot<T> {
    state: Mutex<SlotState<T>>,
}

struct SlotState<T> {
    result: Option<Result<T, JoinError>>,
    waker: Option<Waker>,
}

/// Runs `work` on the offload pool and returns an awaitable for its result.
///
/// Use it for anything that would hold the loop: blocking system calls, blocking
/// libraries (a SQLite query, the system's name resolver), or heavy computation. Inside
/// a runtime the job is queued at once, so it runs whether or not it is awaited yet;
/// a future created before the runtime started (`rt.block_on(offload(..))`) queues it
/// at its first poll. A panic in `work` comes back as [`JoinError::Panic`]. Dropping the
/// returned future does not stop the thread; the result is discarded. Polled outside a
/// simmer runtime the future resolves to [`JoinError::NoRuntime`].
pub fn offload<T, F>(work: F) -> Offload<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::new(ResultSlot {
        state: Mutex::new(SlotState {
            result: None,
            waker: None,
        }),
    });
    let job_slot = Arc::clone(&slot);
    let job: Job = Box::new(move || {
        let result = catch_unwind(AssertUnwindSafe(work))
            .map_err(|payload| JoinError::Panic(panic_message(payload)));
        let mut state = job_slot.state.lock().unwrap_or_else(|e| e.into_inner());
        state.result = Some(result);
        state.waker.take()
    });
    let mut offload = Offload {
        slot,
        unsubmitted: Some(job),
    };
    offload.submit();
    offload
}

/// The awaitable returned by [`offload`].
#[must_use = "await this to get the closure's result"]
pub struct Offload<T> {
    slot: Arc<ResultSlot<T>>,
    /// The job, until a runtime's pool has taken it.
    unsubmitted: Option<Job>,
}

impl<T> Offload<T> {
    /// Hands the job to the current runtime's pool, if there is one.
    fn submit(&mut self) {
        if let Some(pool) = crate::executor::current_pool() {
            if let Some(job) = self.unsubmitted.take() {
                pool.submit(job);
            }
        }
    }
}

impl<T> Unpin for Offload<T> {}

impl<T> Future for Offload<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.unsubmitted.is_some() {
            self.submit();
            if self.unsubmitted.is_some() {
                return Poll::Ready(Err(JoinError::NoRuntime));
            }
        }
        let mut state = self.slot.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(result) = state.result.take() {
            return Poll::Ready(result);
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
