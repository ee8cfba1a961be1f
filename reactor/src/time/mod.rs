//! Timers: `sleep`, `sleep_until`, `timeout` and `interval` (asyncio's `sleep` and
//! `wait_for`), all backed by one [`TimerQueue`] per reactor.

mod interval;
mod queue;
mod readable;
mod sleep;
mod timeout;

pub use interval::{interval, interval_at, Interval};
pub use queue::{TimerKey, TimerQueue};
pub use readable::Readable;
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, Elapsed, Timeout};
