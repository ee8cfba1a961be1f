//! A cheap clock for timing every poll.
//!
//! `Instant::now()` costs about 25 ns; the loop reads the clock once per poll, which
//! would double the cost of a task switch. On Linux the coarse monotonic clock is read
//! from the vDSO in about 3 ns, at the kernel tick's resolution (1–4 ms): plenty for
//! spotting polls of 100 ms. Elsewhere it falls back to `Instant`.

use std::time::Duration;

/// Nanoseconds on a monotonic clock with tick resolution.
#[cfg(target_os = "linux")]
pub(crate) fn coarse_now() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE exists on every
    // Linux since 2.6.32 and this call cannot fail with valid arguments.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Nanoseconds since the first call, from `Instant`.
#[cfg(not(target_os = "linux"))]
pub(crate) fn coarse_now() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The clock's resolution, for messages that quote a measured time.
pub(crate) fn resolution() -> Duration {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: as in `coarse_now`.
        unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }
    #[cfg(not(target_os = "linux"))]
    Duration::from_nanos(1)
}
