//! Fixed log-scale histograms of durations: the loop delay, timer lateness, poll time.
//!
//! A value in nanoseconds falls in one of [`BUCKETS`] buckets: 0–3 ns have one bucket
//! each, and every power of two above is split in four (4–4.99, 5–5.99, 6–6.99,
//! 7–7.99 × 2^k), so a bucket is never wider than a quarter of its lower bound.
//! Recording is a leading-zeros count, a shift and three stores: no allocation, no
//! locked instruction, a few nanoseconds. Values past 2^44 ns (about 4.9 hours) land
//! in the last bucket.
//!
//! The recorder ([`Recorder`]) is written only by its loop's thread; other threads
//! (a `/metrics` scrape on another worker) read it with relaxed loads, so the fields
//! are atomics used as plain cells: `load` then `store`, never `fetch_add`. A reader
//! may see a count one behind its sum; it never sees a torn value.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Highest power of two (in ns) with buckets of its own.
const TOP_OCTAVE: u32 = 43;

/// How many buckets a histogram has.
pub const BUCKETS: usize = 4 * TOP_OCTAVE as usize;

/// The bucket a value in nanoseconds falls in.
#[inline]
fn index(ns: u64) -> usize {
    if ns < 4 {
        return ns as usize;
    }
    let octave = (63 - ns.leading_zeros()).min(TOP_OCTAVE);
    let sub = if octave == TOP_OCTAVE && ns >> TOP_OCTAVE > 1 {
        3 // clamp: everything above the top bucket goes in it
    } else {
        (ns >> (octave - 2)) & 3
    };
    4 * (octave as usize - 1) + sub as usize
}

/// The smallest value (ns) that falls in bucket `i`.
fn lower_bound(i: usize) -> u64 {
    if i < 4 {
        return i as u64;
    }
    let octave = (i / 4 + 1) as u32;
    (4 + (i % 4) as u64) << (octave - 2)
}

/// The smallest value (ns) above bucket `i`: its exclusive upper bound.
fn upper_bound(i: usize) -> u64 {
    if i + 1 < BUCKETS {
        lower_bound(i + 1)
    } else {
        u64::MAX
    }
}

/// Adds `n` to a single-writer counter (a plain load and store; see the module docs).
#[inline]
pub(crate) fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

/// The recording side of a [`Histogram`]: one thread records, any thread may take a
/// snapshot. About 1.4 KB, allocated once; recording allocates nothing.
pub struct Recorder {
    buckets: [AtomicU64; BUCKETS],
    sum: AtomicU64,
    max: AtomicU64,
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }
}

impl Recorder {
    /// Records one value in nanoseconds. Only one thread may record into a given
    /// recorder (the loop that owns it); two writers would lose counts, never memory
    /// safety.
    /// Without the `histograms` feature it records nothing (snapshots stay empty).
    #[inline]
    pub fn record(&self, ns: u64) {
        if !cfg!(feature = "histograms") {
            return;
        }
        bump(&self.buckets[index(ns)], 1);
        bump(&self.sum, ns);
        if ns > self.max.load(Relaxed) {
            self.max.store(ns, Relaxed);
        }
    }

    /// The counts so far.
    pub fn snapshot(&self) -> Histogram {
        Histogram {
            counts: self.buckets.iter().map(|b| b.load(Relaxed)).collect(),
            sum_ns: self.sum.load(Relaxed),
            max_ns: self.max.load(Relaxed),
        }
    }
}

/// A snapshot of a log-scale histogram of durations (see [`crate::Stats`]).
///
/// Quantiles are read from the buckets: each is the upper end of the bucket the value
/// fell in (so at most a quarter above the true value), never more than [`max`](Self::max).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    /// Count per bucket, `BUCKETS` long.
    counts: Vec<u64>,
    sum_ns: u64,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

impl Histogram {
    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The sum of every value recorded.
    pub fn sum(&self) -> Duration {
        Duration::from_nanos(self.sum_ns)
    }

    /// The largest value recorded (exact, not bucketed).
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    /// The value below which a fraction `q` (0.0–1.0) of the values fall, to within a
    /// bucket; zero when nothing was recorded.
    pub fn quantile(&self, q: f64) -> Duration {
        let count = self.count();
        if count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let top = if i < 4 { i as u64 } else { upper_bound(i) - 1 };
                return Duration::from_nanos(top.min(self.max_ns));
            }
        }
        self.max()
    }

    /// The median.
    pub fn p50(&self) -> Duration {
        self.quantile(0.50)
    }

    /// The 90th percentile.
    pub fn p90(&self) -> Duration {
        self.quantile(0.90)
    }

    /// The 99th percentile.
    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    /// How many values were below `bound` (exact when `bound` is a power of two
    /// nanoseconds or below 4 ns: those are bucket edges; otherwise the bucket holding
    /// `bound` is left out).
    pub fn count_below(&self, bound: Duration) -> u64 {
        let bound = bound.as_nanos().min(u64::MAX as u128) as u64;
        self.counts
            .iter()
            .enumerate()
            .take_while(|&(i, _)| upper_bound(i) <= bound)
            .map(|(_, &n)| n)
            .sum()
    }

    /// The non-empty buckets, as (lower bound, upper bound, count), smallest first.
    pub fn buckets(&self) -> impl Iterator<Item = (Duration, Duration, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(i, &n)| {
                let lo = Duration::from_nanos(lower_bound(i));
                (lo, Duration::from_nanos(upper_bound(i)), n)
            })
    }

    /// Adds another histogram's counts to this one (to sum several loops).
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }
}

impl std::fmt::Display for Histogram {
    /// `n=120 p50=4ms p90=8ms p99=12ms max=15ms`, with whole units.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n={} p50={} p90={} p99={} max={}",
            self.count(),
            Short(self.p50()),
            Short(self.p90()),
            Short(self.p99()),
            Short(self.max())
        )
    }
}

/// A duration in whole ns, µs, ms or s, whichever keeps it under four digits.
pub(crate) struct Short(pub(crate) Duration);

impl std::fmt::Display for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ns = self.0.as_nanos();
        match ns {
            0..=9_999 => write!(f, "{ns}ns"),
            10_000..=9_999_999 => write!(f, "{}us", ns / 1_000),
            10_000_000..=9_999_999_999 => write!(f, "{}ms", ns / 1_000_000),
            _ => write!(f, "{}s", ns / 1_000_000_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_inside_its_bucket() {
        let mut v = 0u64;
        while v < 1 << 44 {
            let i = index(v);
            assert!(
                lower_bound(i) <= v && v < upper_bound(i),
                "{v} in bucket {i}"
            );
            v = v * 5 / 4 + 1;
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
        for i in 0..BUCKETS - 1 {
            assert_eq!(index(lower_bound(i)), i);
            assert_eq!(index(upper_bound(i) - 1), i);
        }
    }

    #[test]
    #[cfg(feature = "histograms")] // without it, recording does nothing
    fn quantiles_are_within_a_quarter() {
        let r = Recorder::default();
        for ms in 1..=100u64 {
            r.record(ms * 1_000_000);
        }
        let h = r.snapshot();
        assert_eq!(h.count(), 100);
        assert_eq!(h.max(), Duration::from_millis(100));
        for (q, want) in [(0.5, 50), (0.9, 90), (0.99, 99)] {
            let got = h.quantile(q).as_secs_f64() * 1000.0;
            assert!(
                got >= want as f64 && got <= want as f64 * 1.25,
                "q{q}: {got}"
            );
        }
        assert_eq!(h.count_below(Duration::from_nanos(1 << 25)), 33); // 33.5 ms
    }
}
