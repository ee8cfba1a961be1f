//! The timer store: a binary min-heap of deadlines over a slab of entries.
//!
//! Why a heap: inserting is a push onto a vector (O(1) on average for random
//! deadlines, O(log n) at worst, no allocation once warm), firing pops in deadline
//! order, and each pending timer costs a 16-byte heap item — a million fit in 16 MB.
//! Cancelling is O(1): the entry leaves the slab and its heap item goes stale, to be
//! skipped when popped; when stale items outnumber live ones the heap is rebuilt, so
//! churn (a `timeout` per request that the request beats) cannot grow it without bound.
//! `benches/timers.rs` measures it against a `BTreeMap` keyed by deadline.
//!
//! Postponing is O(1) too: only the entry's deadline moves. Its heap item keeps the
//! old, earlier deadline and, when it comes up, is pushed back at the entry's current
//! one. A keep-alive timer pushed back after every request thus touches the heap once
//! per timeout period, not once per request.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

/// Identifies a timer in its queue; keys of removed timers are recognised as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerKey {
    slot: u32,
    generation: u32,
}

impl TimerKey {
    /// Slot and generation packed into one word, as stored in heap items.
    fn packed(self) -> u64 {
        (u64::from(self.slot) << 32) | u64::from(self.generation)
    }

    fn unpack(packed: u64) -> TimerKey {
        TimerKey {
            slot: (packed >> 32) as u32,
            generation: packed as u32,
        }
    }
}

struct Entry {
    /// The deadline, checked again on fire (as ns since the queue's base), so a heap
    /// item that outlived its entry, or was postponed, can never fire a timer early.
    /// Kept as an `Instant` so that postponing compares and stores, with no conversion.
    deadline: Instant,
    /// Postponed since its heap item was pushed: the item's deadline is out of date.
    /// (Otherwise the item is exactly current, and checking it needs no conversion.)
    moved: bool,
    generation: u32,
    fired: bool,
    waker: Option<Waker>,
}

/// What a heap item stands for when it reaches the top.
enum Item {
    /// Its timer is pending at exactly this deadline.
    Current,
    /// Its timer was postponed to this deadline (ns): push it back there.
    Moved(u64),
    /// Its timer was removed or has fired: drop the item.
    Stale,
}

/// Pending timers ordered by deadline.
pub struct TimerQueue {
    /// Deadlines are stored as ns after this instant.
    base: Instant,
    entries: Slab<Entry>,
    /// (deadline ns, packed key): 16 bytes per pending timer.
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    next_generation: u32,
    /// Heap items whose entry was removed before firing.
    stale: usize,
}

impl Default for TimerQueue {
    fn default() -> TimerQueue {
        TimerQueue::new()
    }
}

impl TimerQueue {
    /// An empty queue.
    pub fn new() -> TimerQueue {
        TimerQueue {
            base: Instant::now(),
            entries: Slab::new(),
            heap: BinaryHeap::new(),
            next_generation: 0,
            stale: 0,
        }
    }

    /// Adds a timer that wakes `waker` at `deadline`.
    pub fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let ns = self.to_ns(deadline);
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1);
        let slot = self.entries.insert(Entry {
            deadline,
            generation,
            moved: false,
            fired: false,
            waker: Some(waker),
        });
        let key = TimerKey {
            slot: u32::try_from(slot).expect("fewer than 2^32 timers"),
            generation,
        };
        self.heap.push(Reverse((ns, key.packed())));
        key
    }

    /// `Ready` once the timer has fired; else makes `waker` the one it will wake (the
    /// future may have moved to another task). One lookup: what `Sleep` polls.
    #[inline]
    pub fn poll_timer(&mut self, key: TimerKey, waker: &Waker) -> Poll<()> {
        let Some(entry) = self.entry_mut(key) else {
            return Poll::Pending;
        };
        if entry.fired {
            return Poll::Ready(());
        }
        match &entry.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => entry.waker = Some(waker.clone()),
        }
        Poll::Pending
    }

    /// Replaces the waker of a pending timer (the future moved to another task).
    pub fn set_waker(&mut self, key: TimerKey, waker: &Waker) {
        if let Some(entry) = self.entry_mut(key) {
            match &entry.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => entry.waker = Some(waker.clone()),
            }
        }
    }

    /// Moves a pending timer's deadline to `deadline`, which must not be earlier than
    /// its current one; returns false (changing nothing) if the timer has fired, is
    /// gone, or `deadline` is earlier. No heap work: see the module docs.
    #[inline]
    pub fn postpone(&mut self, key: TimerKey, deadline: Instant) -> bool {
        match self.entry_mut(key) {
            Some(entry) if !entry.fired && deadline >= entry.deadline => {
                if deadline > entry.deadline {
                    entry.deadline = deadline;
                    entry.moved = true;
                }
                true
            }
            _ => false,
        }
    }

    /// True once the timer's deadline has passed and it was fired.
    pub fn is_fired(&self, key: TimerKey) -> bool {
        self.entry(key).is_some_and(|e| e.fired)
    }

    /// Forgets a timer (fired or not).
    pub fn remove(&mut self, key: TimerKey) {
        if let Some(fired) = self.entry(key).map(|e| e.fired) {
            self.entries.remove(key.slot as usize);
            if !fired {
                self.stale += 1;
                self.compact_if_mostly_stale();
            }
        }
    }

    /// Timers not yet fired.
    pub fn pending(&self) -> usize {
        self.heap.len() - self.stale
    }

    /// When the loop must next wake for timers. A postponed timer still counts at its
    /// old deadline: waking then finds nothing due and moves it (in `fire_expired`), so
    /// the answer may be early, by at most one wake per postponed timer, but never late.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, packed))) = self.heap.peek() {
            if let Item::Stale = self.item(packed) {
                self.heap.pop();
                self.stale -= 1;
                continue;
            }
            return Some(self.base + Duration::from_nanos(deadline));
        }
        None
    }

    /// Marks every timer due at `now` fired and collects its waker; returns how many.
    pub fn fire_expired(&mut self, now: Instant, wakers: &mut Vec<Waker>) -> usize {
        self.fire_expired_late(now, wakers, |_| {})
    }

    /// Like [`fire_expired`](Self::fire_expired), and tells `late` how many ns past its
    /// deadline each timer fired (the timer-lateness histogram).
    pub fn fire_expired_late(
        &mut self,
        now: Instant,
        wakers: &mut Vec<Waker>,
        mut late: impl FnMut(u64),
    ) -> usize {
        // Round down: a timer fires only when `now` has reached its deadline.
        let now = now.saturating_duration_since(self.base).as_nanos() as u64;
        let mut fired = 0;
        while let Some(&Reverse((deadline, packed))) = self.heap.peek() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            match self.item(packed) {
                Item::Current => {}
                Item::Moved(to) => {
                    self.entries[TimerKey::unpack(packed).slot as usize].moved = false;
                    self.heap.push(Reverse((to, packed)));
                    continue;
                }
                Item::Stale => {
                    self.stale -= 1;
                    continue;
                }
            }
            let entry = &mut self.entries[TimerKey::unpack(packed).slot as usize];
            entry.fired = true;
            wakers.extend(entry.waker.take());
            late(now - deadline);
            fired += 1;
        }
        fired
    }

    /// Deadline as whole ns after `base` (an `Instant` is itself ns-precise on Linux;
    /// a deadline before `base` becomes 0, due at once).
    fn to_ns(&self, deadline: Instant) -> u64 {
        to_ns(self.base, deadline)
    }

    /// What the heap item for `packed` stands for now. A live timer has exactly one
    /// heap item (an item whose slot was reused carries an older generation).
    fn item(&self, packed: u64) -> Item {
        match self.entry(TimerKey::unpack(packed)) {
            Some(e) if !e.fired && !e.moved => Item::Current,
            Some(e) if !e.fired => Item::Moved(self.to_ns(e.deadline)),
            _ => Item::Stale,
        }
    }

    fn entry(&self, key: TimerKey) -> Option<&Entry> {
        self.entries
            .get(key.slot as usize)
            .filter(|e| e.generation == key.generation)
    }

    #[inline]
    fn entry_mut(&mut self, key: TimerKey) -> Option<&mut Entry> {
        self.entries
            .get_mut(key.slot as usize)
            .filter(|e| e.generation == key.generation)
    }

    fn compact_if_mostly_stale(&mut self) {
        if self.stale > 1024 && self.stale * 2 > self.heap.len() {
            let mut heap = std::mem::take(&mut self.heap).into_vec();
            let entries = &mut self.entries;
            heap.retain_mut(|Reverse((deadline, packed))| {
                let key = TimerKey::unpack(*packed);
                match entries.get_mut(key.slot as usize) {
                    Some(e) if e.generation == key.generation && !e.fired => {
                        if e.moved {
                            e.moved = false;
                            *deadline = to_ns(self.base, e.deadline);
                        }
                        true
                    }
                    _ => false,
                }
            });
            self.heap = BinaryHeap::from(heap);
            self.stale = 0;
        }
    }
}

/// `deadline` as whole ns after `base`; 0 if before it, `u64::MAX` past ~584 years.
fn to_ns(base: Instant, deadline: Instant) -> u64 {
    let ns = deadline.saturating_duration_since(base).as_nanos();
    u64::try_from(ns).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_postponed_timer_fires_at_its_new_deadline_not_before() {
        let mut q = TimerQueue::new();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let key = q.insert(t0 + ms(10), noop());
        assert!(q.postpone(key, t0 + ms(50)));
        assert!(
            !q.postpone(key, t0 + ms(20)),
            "earlier is not a postponement"
        );
        // The loop wakes at the old deadline once, finds nothing due, and the timer moves.
        assert_eq!(q.next_deadline(), Some(t0 + ms(10)));
        let mut w = Vec::new();
        assert_eq!(q.fire_expired(t0 + ms(10), &mut w), 0);
        assert_eq!(q.next_deadline(), Some(t0 + ms(50)));
        assert_eq!(q.fire_expired(t0 + ms(49), &mut w), 0);
        assert_eq!(q.heap.len(), 1, "moved, not duplicated");
        assert_eq!(q.fire_expired(t0 + ms(50), &mut w), 1);
        assert!(q.is_fired(key));
        assert!(!q.postpone(key, t0 + ms(90)), "a fired timer stays fired");
    }

    #[test]
    fn compaction_keeps_postponed_timers_at_their_new_deadline() {
        let mut q = TimerQueue::new();
        let t0 = Instant::now();
        let kept = q.insert(t0, noop());
        assert!(q.postpone(kept, t0 + Duration::from_secs(3)));
        let churn: Vec<_> = (0..5_000).map(|_| q.insert(t0, noop())).collect();
        churn.into_iter().for_each(|k| q.remove(k));
        assert!(q.heap.len() < 2_500, "heap was compacted: {}", q.heap.len());
        let mut w = Vec::new();
        assert_eq!(q.fire_expired(t0 + Duration::from_secs(2), &mut w), 0);
        assert_eq!(q.fire_expired(t0 + Duration::from_secs(3), &mut w), 1);
    }

    #[test]
    fn poll_timer_keeps_the_newest_waker_and_is_ready_once_fired() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::task::Wake;

        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut q = TimerQueue::new();
        let t0 = Instant::now();
        let key = q.insert(t0 + Duration::from_millis(5), noop());
        let waker = Waker::from(Arc::clone(&count));
        assert!(q.poll_timer(key, &waker).is_pending());
        let mut w = Vec::new();
        assert_eq!(q.fire_expired(t0 + Duration::from_millis(5), &mut w), 1);
        w.drain(..).for_each(Waker::wake);
        assert_eq!(
            count.0.load(Ordering::Relaxed),
            1,
            "the waker given last was woken"
        );
        assert!(q.poll_timer(key, &waker).is_ready());
    }

    #[test]
    fn a_reused_slot_does_not_confuse_old_keys_or_fire_early() {
        let mut q = TimerQueue::new();
        let t0 = Instant::now();
        let old = q.insert(t0, noop());
        q.remove(old);
        // Same slot, later deadline: the old heap item (deadline t0) must not fire it.
        let new = q.insert(t0 + Duration::from_secs(5), noop());
        assert!(!q.is_fired(old));
        let mut w = Vec::new();
        assert_eq!(q.fire_expired(t0 + Duration::from_secs(1), &mut w), 0);
        assert!(!q.is_fired(new));
        q.remove(old); // no effect on the new timer in the same slot
        assert_eq!(q.pending(), 1);
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(5)));
    }
}
