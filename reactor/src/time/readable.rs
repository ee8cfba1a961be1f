//! Durations in messages, in whole units: `10 s`, `250 ms`, `1500 µs`.

use std::fmt;
use std::time::Duration;

/// Shows a `Duration` in the largest unit that divides it: `10 s`, `250 ms`, `1500 µs`.
///
/// Timeouts are set in such round figures, so this prints them as they were written.
/// (`{:?}` would print them too, but links float formatting into every binary that can
/// report a timeout; and the units are printed as `u64`, since formatting the `u128`s
/// that `as_millis` and `as_micros` return links a formatter of its own, about 1 KiB.)
#[derive(Clone, Copy, Debug)]
pub struct Readable(pub Duration);

impl fmt::Display for Readable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let whole = |units: u128, unit| u64::try_from(units).map(|n| (n, unit));
        let (n, unit) = if d.subsec_nanos() == 0 {
            (d.as_secs(), "s")
        } else if d.subsec_nanos() % 1_000_000 == 0 {
            whole(d.as_millis(), "ms").unwrap_or((d.as_secs(), "s"))
        } else {
            // Past u64 microseconds (584,000 years), whole seconds are close enough.
            whole(d.as_micros(), "µs").unwrap_or((d.as_secs(), "s"))
        };
        write!(f, "{n} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_largest_whole_unit() {
        let show = |d| Readable(d).to_string();
        assert_eq!(show(Duration::from_secs(10)), "10 s");
        assert_eq!(show(Duration::from_millis(1500)), "1500 ms");
        assert_eq!(show(Duration::from_millis(250)), "250 ms");
        assert_eq!(show(Duration::from_micros(1500)), "1500 µs");
        assert_eq!(show(Duration::ZERO), "0 s");
        assert_eq!(show(Duration::MAX), format!("{} s", u64::MAX));
    }
}
