//! `sleep`: a future that completes at a deadline, never before it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::TimerKey;
use crate::driver::Handle;

/// Waits until `duration` has passed (asyncio's `await asyncio.sleep(seconds)`).
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(
        Instant::now()
            .checked_add(duration)
            .unwrap_or_else(far_future),
    )
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// The future returned by [`sleep`] and [`sleep_until`]. Dropping it cancels the timer.
///
/// # Panics
/// When polled outside a simmer runtime (there is no reactor to keep time).
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// Registered on first poll: the reactor and the timer's key.
    timer: Option<(Handle, TimerKey)>,
}

impl Sleep {
    /// When this sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        match &self.timer {
            Some((handle, key)) => handle.inner.timers.borrow().is_fired(*key),
            None => Instant::now() >= self.deadline,
        }
    }

    /// Moves the deadline. A later deadline only updates the registered timer (no
    /// timer-heap work: resetting after every request is cheap); an earlier one
    /// re-registers it at the next poll.
    #[inline]
    pub fn reset(&mut self, deadline: Instant) {
        if let Some((handle, key)) = &self.timer {
            if deadline >= self.deadline
                && handle.inner.timers.borrow_mut().postpone(*key, deadline)
            {
                self.deadline = deadline;
                return;
            }
        }
        self.cancel();
        self.deadline = deadline;
    }

    /// Moves the deadline to `duration` after the reactor last woke up: the time the
    /// loop's current round of polls began, as nginx's cached clock. It reads no clock
    /// of its own (once the sleep has been polled), so it suits a timer reset on every
    /// request, such as a keep-alive timeout; the sleep may end early by as long as the
    /// round has run so far (microseconds, unless a poll blocked). Where that matters,
    /// use [`reset`](Sleep::reset) with `Instant::now()`.
    #[inline]
    pub fn reset_after(&mut self, duration: Duration) {
        let woke_at = match &self.timer {
            Some((handle, _)) => handle.inner.woke_at.get(),
            None => None,
        };
        let from = woke_at.unwrap_or_else(Instant::now);
        self.reset(from.checked_add(duration).unwrap_or_else(far_future));
    }

    #[inline(never)]
    fn cancel(&mut self) {
        if let Some((handle, key)) = self.timer.take() {
            handle.inner.timers.borrow_mut().remove(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &self.timer {
            Some((handle, key)) => handle
                .inner
                .timers
                .borrow_mut()
                .poll_timer(*key, cx.waker()),
            None => self.get_mut().register(cx),
        }
    }
}

impl Sleep {
    /// The first poll: done already, or registers the timer.
    #[inline(never)]
    fn register(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let handle = Handle::current().unwrap_or_else(|e| panic!("simmer::time: {e}"));
        let key = handle
            .inner
            .timers
            .borrow_mut()
            .insert(self.deadline, cx.waker().clone());
        self.timer = Some((handle, key));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// About 30 years from now: what `sleep(Duration::MAX)` means.
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}
