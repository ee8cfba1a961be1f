//! Counters that make the schedule visible from code (`simmer::stats()`).

use std::cell::Cell;
use std::time::Duration;

/// A snapshot of a runtime's counters since it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Tasks spawned.
    pub tasks_spawned: u64,
    /// Tasks spawned and not yet finished.
    pub tasks_alive: u64,
    /// Polls of tasks and of the `block_on` future.
    pub polls: u64,
    /// Wakes on the loop's own thread (a task or the reactor waking a task).
    pub local_wakes: u64,
    /// Wakes that arrived from other threads (offload pool, user threads).
    pub remote_wakes: u64,
    /// Times another thread had to unpark a sleeping loop (each one a syscall).
    pub unparks: u64,
    /// I/O readiness events delivered by the reactor.
    pub io_events: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Times the loop stopped running tasks to check I/O and timers, or to sleep.
    pub loop_turns: u64,
    /// Offloaded jobs waiting for a pool thread.
    pub offload_queued: u64,
    /// Offloaded jobs running now.
    pub offload_running: u64,
    /// Offload pool threads alive now.
    pub offload_threads: u64,
    /// Longest single poll seen: a lower bound, measured with the coarse clock (to within
    /// its resolution, 1–4 ms on Linux).
    pub longest_poll: Duration,
    /// Polls that went over the slow-poll threshold.
    pub slow_polls: u64,
}

/// The loop's own counters: plain cells, touched only on the loop thread.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) tasks_spawned: Cell<u64>,
    pub(crate) tasks_finished: Cell<u64>,
    pub(crate) polls: Cell<u64>,
    pub(crate) local_wakes: Cell<u64>,
    pub(crate) remote_wakes: Cell<u64>,
    pub(crate) io_events: Cell<u64>,
    pub(crate) timers_fired: Cell<u64>,
    pub(crate) loop_turns: Cell<u64>,
    pub(crate) longest_poll_ns: Cell<u64>,
    pub(crate) slow_polls: Cell<u64>,
}

/// Adds `n` to a counter cell.
pub(crate) fn bump(cell: &Cell<u64>, n: u64) {
    cell.set(cell.get() + n);
}
