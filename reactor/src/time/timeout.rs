//! `timeout`: give a future a deadline (asyncio's `wait_for`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{sleep, Sleep};

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deadline of {} elapsed", super::Readable(self.0))
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// Runs `future` for at most `duration`, counted from its first poll. If the deadline
/// passes first, the future is dropped (cancelled) and the result is `Err(Elapsed)`.
///
/// A future that is ready at its first poll costs no clock read and no timer: the
/// common case for a socket read or write with data already waiting.
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: None,
        duration,
    }
}

/// The future returned by [`timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    future: F,
    /// Started when `future` first returns `Pending`.
    sleep: Option<Sleep>,
    duration: Duration,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned (never moved out of `self`); `sleep`
        // and `duration` are Unpin and not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this` stays pinned.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let duration = this.duration;
        let sleep = this.sleep.get_or_insert_with(|| sleep(duration));
        match Pin::new(sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(this.duration))),
            Poll::Pending => Poll::Pending,
        }
    }
}
