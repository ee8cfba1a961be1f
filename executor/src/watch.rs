//! A bounded ring of recent polls and wakes, for live viewers (the HTTP layer's
//! `/_simmer/` page streams it as Server-Sent Events).
//!
//! Off until someone asks ([`crate::watch_events`]); then each poll and wake writes
//! one fixed-size entry, overwriting the oldest once [`RING`] are kept. Readers copy
//! out what they have not seen yet; a reader that fell behind by more than the ring
//! learns how many it missed. Nothing waits on a reader: a slow viewer drops samples,
//! it never blocks the loop.

use std::time::Instant;

use crate::trace::WakeSource;

/// Entries kept.
pub const RING: usize = 4096;

/// One poll or wake, as a viewer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopEvent {
    /// Position in the stream of events since watching began (0, 1, 2, ...).
    pub seq: u64,
    /// The task (0 for the `block_on` future).
    pub task: u64,
    /// Microseconds since watching began.
    pub at_us: u64,
    /// What happened.
    pub kind: LoopEventKind,
}

/// What a [`LoopEvent`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopEventKind {
    /// A poll that lasted this many microseconds.
    Poll {
        /// Its length, from `Instant` (not the coarse clock).
        micros: u64,
    },
    /// A wake, and what caused it.
    Wake(WakeSource),
}

/// The ring itself: loop thread only.
pub(crate) struct Ring {
    start: Instant,
    events: Vec<LoopEvent>,
    /// Events written so far; the next one's `seq`.
    written: u64,
}

impl Ring {
    pub(crate) fn new() -> Ring {
        Ring {
            start: Instant::now(),
            events: Vec::with_capacity(RING),
            written: 0,
        }
    }

    /// Microseconds since watching began.
    pub(crate) fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    pub(crate) fn push(&mut self, task: u64, at_us: u64, kind: LoopEventKind) {
        let event = LoopEvent {
            seq: self.written,
            task,
            at_us,
            kind,
        };
        let slot = (self.written % RING as u64) as usize;
        if slot == self.events.len() {
            self.events.push(event);
        } else {
            self.events[slot] = event;
        }
        self.written += 1;
    }

    /// Events from `seq` on (the oldest kept, if `seq` was overwritten), and the `seq`
    /// to ask for next time.
    pub(crate) fn since(&self, seq: u64) -> (Vec<LoopEvent>, u64) {
        let oldest = self.written.saturating_sub(self.events.len() as u64);
        let from = seq.clamp(oldest, self.written);
        let out = (from..self.written)
            .map(|s| self.events[(s % RING as u64) as usize])
            .collect();
        (out, self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_fell_behind_gets_the_newest_ring() {
        let mut ring = Ring::new();
        for i in 0..(RING as u64 + 10) {
            ring.push(i, i, LoopEventKind::Wake(WakeSource::Task));
        }
        let (events, next) = ring.since(0);
        assert_eq!(events.len(), RING);
        assert_eq!(events[0].seq, 10);
        assert_eq!(next, RING as u64 + 10);
        let (events, _) = ring.since(next - 3);
        assert_eq!(
            events.iter().map(|e| e.task).collect::<Vec<_>>(),
            [4103, 4104, 4105]
        );
    }
}
