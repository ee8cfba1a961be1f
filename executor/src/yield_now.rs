//! `yield_now`: let everything else — I/O and timers included — run once, then continue.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives up the loop for one turn (asyncio's `await asyncio.sleep(0)`).
///
/// The task is not requeued at once: its waker waits until the loop has checked I/O and
/// timers (without blocking), so a task that yields in a loop cannot starve sockets.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        crate::executor::defer(cx.waker());
        Poll::Pending
    }
}
