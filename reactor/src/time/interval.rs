//! `interval`: ticks at a fixed period.

use std::future::{poll_fn, Future as _};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{sleep_until, Sleep};

/// Ticks every `period`, the first tick at once.
///
/// # Panics
/// If `period` is zero.
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "interval period must be greater than zero"
    );
    Interval {
        period,
        sleep: sleep_until(start),
    }
}

/// A stream of ticks. If the loop was held up past one or more ticks, the missed ticks
/// are skipped (not bursted): the next tick stays on the original grid.
pub struct Interval {
    period: Duration,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns when it was due.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.sleep.deadline();
        let now = Instant::now();
        let mut next = due + self.period;
        if next <= now {
            // Held up past one or more ticks: jump to the first tick still ahead.
            let behind = (now - due).as_nanos() / self.period.as_nanos();
            let periods = u32::try_from(behind + 1).unwrap_or(u32::MAX);
            next = due + self.period * periods;
        }
        self.sleep.reset(next);
        Poll::Ready(due)
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}
