//! The timer store: a binary min-heap of deadlines over a slab of entries.
//!
//! Why a heap: inserting is O(log n) with no allocation once warm (a push onto a
//! vector), firing pops in deadline order, and a million pending timers cost 32 bytes
//! of heap each. Cancelling is O(1): the entry leaves the slab and its heap item goes
//! stale, to be skipped when popped; when stale items outnumber live ones the heap is
//! rebuilt, so churn (a `timeout` per request that rarely fires) cannot grow it without
//! bound. `benches/timers.rs` compares it with a `BTreeMap` keyed by deadline.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;
use std::time::Instant;

use slab::Slab;

/// Identifies a timer in its queue; stale keys (of removed timers) are detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerKey {
    slot: usize,
    seq: u64,
}

struct Entry {
    seq: u64,
    waker: Option<Waker>,
    fired: bool,
}

/// Pending timers ordered by deadline.
#[derive(Default)]
pub struct TimerQueue {
    entries: Slab<Entry>,
    heap: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    next_seq: u64,
    /// Heap items whose entry was removed before firing.
    stale: usize,
}

impl TimerQueue {
    /// An empty queue.
    pub fn new() -> TimerQueue {
        TimerQueue::default()
    }

    /// Adds a timer that wakes `waker` at `deadline`.
    pub fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = self.entries.insert(Entry {
            seq,
            waker: Some(waker),
            fired: false,
        });
        self.heap.push(Reverse((deadline, seq, slot)));
        TimerKey { slot, seq }
    }

    /// Replaces the waker of a pending timer (a future moved to another task).
    pub fn set_waker(&mut self, key: TimerKey, waker: &Waker) {
        if let Some(entry) = self.entry_mut(key) {
            match &entry.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => entry.waker = Some(waker.clone()),
            }
        }
    }

    /// True once the timer's deadline has passed and it was fired.
    pub fn is_fired(&self, key: TimerKey) -> bool {
        self.entries
            .get(key.slot)
            .is_some_and(|e| e.seq == key.seq && e.fired)
    }

    /// Forgets a timer (fired or not).
    pub fn remove(&mut self, key: TimerKey) {
        if self.entries.get(key.slot).is_some_and(|e| e.seq == key.seq) {
            let entry = self.entries.remove(key.slot);
            if !entry.fired {
                self.stale += 1;
                self.compact_if_mostly_stale();
            }
        }
    }

    /// Timers not yet fired.
    pub fn pending(&self) -> usize {
        self.heap.len() - self.stale
    }

    /// The earliest pending deadline.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, seq, slot))) = self.heap.peek().copied() {
            if self.is_live(seq, slot) {
                return Some(deadline);
            }
            self.heap.pop();
            self.stale -= 1;
        }
        None
    }

    /// Marks every timer due at `now` fired and collects its waker; returns how many.
    pub fn fire_expired(&mut self, now: Instant, wakers: &mut Vec<Waker>) -> usize {
        let mut fired = 0;
        while let Some(Reverse((deadline, seq, slot))) = self.heap.peek().copied() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            if !self.is_live(seq, slot) {
                self.stale -= 1;
                continue;
            }
            let entry = &mut self.entries[slot];
            entry.fired = true;
            wakers.extend(entry.waker.take());
            fired += 1;
        }
        fired
    }

    fn is_live(&self, seq: u64, slot: usize) -> bool {
        self.entries
            .get(slot)
            .is_some_and(|e| e.seq == seq && !e.fired)
    }

    fn entry_mut(&mut self, key: TimerKey) -> Option<&mut Entry> {
        self.entries.get_mut(key.slot).filter(|e| e.seq == key.seq)
    }

    fn compact_if_mostly_stale(&mut self) {
        if self.stale > 1024 && self.stale * 2 > self.heap.len() {
            let entries = &self.entries;
            self.heap.retain(|Reverse((_, seq, slot))| {
                entries
                    .get(*slot)
                    .is_some_and(|e| e.seq == *seq && !e.fired)
            });
            self.stale = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn fires_in_deadline_order_and_not_before() {
        let mut q = TimerQueue::new();
        let t0 = Instant::now();
        let late = q.insert(t0 + Duration::from_millis(30), noop());
        let early = q.insert(t0 + Duration::from_millis(10), noop());
        let mut w = Vec::new();
        assert_eq!(q.fire_expired(t0 + Duration::from_millis(9), &mut w), 0);
        assert_eq!(q.fire_expired(t0 + Duration::from_millis(10), &mut w), 1);
        assert!(q.is_fired(early) && !q.is_fired(late));
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_millis(30)));
    }

    #[test]
    fn removed_timers_never_fire_and_stale_items_are_compacted() {
        let mut q = TimerQueue::new();
        let t0 = Instant::now();
        let keys: Vec<_> = (0..10_000)
            .map(|i| q.insert(t0 + Duration::from_micros(i), noop()))
            .collect();
        for k in &keys[..9_000] {
            q.remove(*k);
        }
        assert_eq!(q.pending(), 1_000);
        assert!(q.heap.len() < 5_000, "heap was compacted: {}", q.heap.len());
        let mut w = Vec::new();
        assert_eq!(q.fire_expired(t0 + Duration::from_secs(1), &mut w), 1_000);
        assert_eq!(q.next_deadline(), None);
    }

    #[test]
    fn a_reused_slot_does_not_confuse_old_keys() {
        let mut q = TimerQueue::new();
        let t0 = Instant::now();
        let old = q.insert(t0, noop());
        q.remove(old);
        let new = q.insert(t0 + Duration::from_secs(5), noop());
        assert!(!q.is_fired(old));
        q.remove(old); // no effect on the new timer in the same slot
        assert_eq!(q.pending(), 1);
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(5)));
        q.remove(new);
    }
}
