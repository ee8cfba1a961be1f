//! Why simmer keeps timers in a binary heap: `TimerQueue` against a `BTreeMap` keyed by
//! (deadline, id), the structure async-io uses, on the two workloads a server has.
//!
//! - fire: a million timers with random deadlines inserted, then all fired in order;
//! - churn: a million timers inserted and cancelled before they fire (a `timeout` per
//!   request that the request beats), with 10,000 long-lived timers in the queue;
//! - keep-alive: 10,000 connection timers each pushed back 100 times (once per
//!   request), with the loop asking for its next deadline every 16 resets. simmer
//!   postpones in place; the other two cancel and insert, as simmer did before.
//!
//! ```text
//! taskset -c 0 cargo bench --bench timers
//! ```

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use simmer_reactor::time::{TimerKey, TimerQueue};

const TIMERS: u64 = 1_000_000;

/// What both timer stores must do.
trait Timers: Default {
    type Key: Copy;
    fn insert(&mut self, deadline: Instant) -> Self::Key;
    fn remove(&mut self, key: Self::Key);
    fn fire_expired(&mut self, now: Instant, wakers: &mut Vec<Waker>) -> usize;
    fn pending(&self) -> usize;
    fn next_deadline(&mut self) -> Option<Instant>;
    /// Moves a timer to a later deadline.
    fn reset(&mut self, key: Self::Key, deadline: Instant) -> Self::Key {
        self.remove(key);
        self.insert(deadline)
    }
}

impl Timers for TimerQueue {
    type Key = TimerKey;
    fn insert(&mut self, deadline: Instant) -> TimerKey {
        TimerQueue::insert(self, deadline, Waker::noop().clone())
    }
    fn remove(&mut self, key: TimerKey) {
        TimerQueue::remove(self, key)
    }
    fn fire_expired(&mut self, now: Instant, wakers: &mut Vec<Waker>) -> usize {
        TimerQueue::fire_expired(self, now, wakers)
    }
    fn pending(&self) -> usize {
        TimerQueue::pending(self)
    }
    fn next_deadline(&mut self) -> Option<Instant> {
        TimerQueue::next_deadline(self)
    }
    fn reset(&mut self, key: TimerKey, deadline: Instant) -> TimerKey {
        assert!(self.postpone(key, deadline));
        key
    }
}

/// simmer's heap without postponement: a reset cancels and inserts.
#[derive(Default)]
struct HeapReinsert(TimerQueue);

impl Timers for HeapReinsert {
    type Key = TimerKey;
    fn insert(&mut self, deadline: Instant) -> TimerKey {
        self.0.insert(deadline, Waker::noop().clone())
    }
    fn remove(&mut self, key: TimerKey) {
        self.0.remove(key)
    }
    fn fire_expired(&mut self, now: Instant, wakers: &mut Vec<Waker>) -> usize {
        self.0.fire_expired(now, wakers)
    }
    fn pending(&self) -> usize {
        self.0.pending()
    }
    fn next_deadline(&mut self) -> Option<Instant> {
        self.0.next_deadline()
    }
}

/// The alternative: an ordered map from (deadline, id) to waker.
#[derive(Default)]
struct BTreeTimers {
    map: BTreeMap<(Instant, u64), Waker>,
    next_id: u64,
}

impl Timers for BTreeTimers {
    type Key = (Instant, u64);
    fn insert(&mut self, deadline: Instant) -> (Instant, u64) {
        let key = (deadline, self.next_id);
        self.next_id += 1;
        self.map.insert(key, Waker::noop().clone());
        key
    }
    fn remove(&mut self, key: (Instant, u64)) {
        self.map.remove(&key);
    }
    fn fire_expired(&mut self, now: Instant, wakers: &mut Vec<Waker>) -> usize {
        let later = self.map.split_off(&(now, u64::MAX));
        let fired = std::mem::replace(&mut self.map, later);
        let n = fired.len();
        wakers.extend(fired.into_values());
        n
    }
    fn pending(&self) -> usize {
        self.map.len()
    }
    fn next_deadline(&mut self) -> Option<Instant> {
        self.map
            .first_key_value()
            .map(|((deadline, _), _)| *deadline)
    }
}

fn deadlines(start: Instant) -> Vec<Instant> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..TIMERS)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            start + Duration::from_micros(x % 10_000_000)
        })
        .collect()
}

/// Inserts every deadline, then fires them all in `steps`.
fn insert_then_fire<T: Timers>(deadlines: &[Instant], steps: &[Instant]) {
    let mut q = T::default();
    for &d in deadlines {
        q.insert(d);
    }
    let mut wakers = Vec::new();
    let mut fired = 0;
    for &now in steps {
        fired += q.fire_expired(now, &mut wakers);
        wakers.clear();
    }
    assert_eq!(fired, deadlines.len());
}

/// Beside 10,000 far timers, inserts and at once cancels every deadline.
fn insert_and_cancel<T: Timers>(deadlines: &[Instant], far: Instant) {
    let mut q = T::default();
    for i in 0..10_000 {
        q.insert(far + Duration::from_micros(i));
    }
    for &d in deadlines {
        let key = q.insert(d);
        q.remove(key);
    }
    assert_eq!(q.pending(), 10_000);
}

/// 10,000 timers 5 s out, each pushed back 100 times by 1 ms steps; the loop asks for
/// its next deadline every 16 resets.
fn keep_alive_resets<T: Timers>(start: Instant) {
    let mut q = T::default();
    let idle = Duration::from_secs(5);
    let mut keys: Vec<T::Key> = (0..10_000).map(|_| q.insert(start + idle)).collect();
    let mut asked = 0;
    for round in 1..=100 {
        let deadline = start + idle + Duration::from_millis(round);
        for (i, key) in keys.iter_mut().enumerate() {
            *key = q.reset(*key, deadline);
            if i % 16 == 0 && q.next_deadline().is_some() {
                asked += 1;
            }
        }
    }
    assert_eq!(q.pending(), 10_000);
    assert_eq!(asked, 100 * 625);
}

fn fire_all(c: &mut Criterion) {
    let mut group = c.benchmark_group("1M timers inserted then fired");
    group.sample_size(10);
    let start = Instant::now();
    let deadlines = deadlines(start);
    let steps: Vec<Instant> = (1..=100)
        .map(|i| start + Duration::from_millis(100 * i))
        .collect();
    group.bench_function("heap (simmer)", |b| {
        b.iter(|| insert_then_fire::<TimerQueue>(&deadlines, &steps))
    });
    group.bench_function("btreemap", |b| {
        b.iter(|| insert_then_fire::<BTreeTimers>(&deadlines, &steps))
    });
    group.finish();
}

fn churn(c: &mut Criterion) {
    let mut group = c.benchmark_group("1M timers inserted and cancelled");
    group.sample_size(10);
    let start = Instant::now();
    let deadlines = deadlines(start);
    let far = start + Duration::from_secs(3600);
    group.bench_function("heap (simmer)", |b| {
        b.iter(|| insert_and_cancel::<TimerQueue>(&deadlines, far))
    });
    group.bench_function("btreemap", |b| {
        b.iter(|| insert_and_cancel::<BTreeTimers>(&deadlines, far))
    });
    group.finish();
}

fn keep_alive(c: &mut Criterion) {
    let mut group = c.benchmark_group("1M keep-alive timer resets");
    group.sample_size(10);
    group.bench_function("heap (simmer)", |b| {
        b.iter(|| keep_alive_resets::<TimerQueue>(Instant::now()))
    });
    group.bench_function("heap, cancel and insert", |b| {
        b.iter(|| keep_alive_resets::<HeapReinsert>(Instant::now()))
    });
    group.bench_function("btreemap", |b| {
        b.iter(|| keep_alive_resets::<BTreeTimers>(Instant::now()))
    });
    group.finish();
}

criterion_group!(benches, fire_all, churn, keep_alive);
criterion_main!(benches);
