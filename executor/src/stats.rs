//! Counters that make the schedule visible from code (`simmer::stats()`), and the
//! process-wide list of loops that lets one worker report them all.
//!
//! Each loop owns its counters and is their only writer: plain loads and stores on
//! atomics (see `histogram.rs`), no locked instruction on the hot path. A reader on
//! another thread takes a snapshot with relaxed loads. Formatting happens only in the
//! reader (`Stats`, the HTTP layer's `/metrics`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::histogram::{Histogram, Recorder};
use crate::pool::Pool;
use crate::shared::Shared;

pub(crate) use crate::histogram::bump;

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
    /// Per loop turn, the time the loop spent away from I/O and timers: from one
    /// `epoll_wait` returning to the next one being entered. The longest a ready socket
    /// or due timer could have waited; a blocking poll shows up here whole. Coarse
    /// clock (resolution [`poll_clock_resolution`](crate::report::poll_clock_resolution)).
    pub loop_delay: Histogram,
    /// Per fired timer, how late it fired past its deadline (exact: `Instant`).
    pub timer_lateness: Histogram,
    /// Per poll, how long it held the loop (coarse clock; a poll shorter than a tick
    /// reads as 0 or one tick, which averages out to its true length).
    pub poll_duration: Histogram,
    /// Per poll, the time the task waited in the run queue between its wake and the
    /// poll (coarse clock).
    pub wake_to_poll: Histogram,
}

/// The loop's own counters; written only by the loop thread (the two cross-thread
/// counters live in `Shared`).
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) tasks_spawned: AtomicU64,
    pub(crate) tasks_finished: AtomicU64,
    pub(crate) polls: AtomicU64,
    pub(crate) local_wakes: AtomicU64,
    pub(crate) remote_wakes: AtomicU64,
    pub(crate) io_events: AtomicU64,
    pub(crate) timers_fired: AtomicU64,
    pub(crate) loop_turns: AtomicU64,
    pub(crate) longest_poll_ns: AtomicU64,
    pub(crate) slow_polls: AtomicU64,
    pub(crate) loop_delay: Recorder,
    pub(crate) timer_lateness: Recorder,
    pub(crate) poll_duration: Recorder,
    pub(crate) wake_to_poll: Recorder,
}

/// What a snapshot reads: a loop's counters, its cross-thread counters and its pool.
pub(crate) struct LoopStats {
    /// The loop's name ([`crate::Config::name`]), for per-loop reports.
    pub(crate) name: Option<String>,
    pub(crate) counters: Counters,
    /// Holds the two counters other threads write (with `fetch_add`).
    pub(crate) shared: Arc<Shared>,
    pub(crate) pool: Arc<Pool>,
}

impl LoopStats {
    /// A snapshot of everything.
    pub(crate) fn snapshot(&self) -> Stats {
        let c = &self.counters;
        let (offload_queued, offload_running, offload_threads) = self.pool.counts();
        let spawned = c.tasks_spawned.load(Relaxed);
        Stats {
            tasks_spawned: spawned,
            tasks_alive: spawned.saturating_sub(c.tasks_finished.load(Relaxed)),
            polls: c.polls.load(Relaxed),
            local_wakes: c.local_wakes.load(Relaxed),
            remote_wakes: c.remote_wakes.load(Relaxed)
                + self.shared.remote_main_wakes.load(Relaxed),
            unparks: self.shared.unparks.load(Relaxed),
            io_events: c.io_events.load(Relaxed),
            timers_fired: c.timers_fired.load(Relaxed),
            loop_turns: c.loop_turns.load(Relaxed),
            offload_queued,
            offload_running,
            offload_threads,
            longest_poll: Duration::from_nanos(c.longest_poll_ns.load(Relaxed)),
            slow_polls: c.slow_polls.load(Relaxed),
            loop_delay: c.loop_delay.snapshot(),
            timer_lateness: c.timer_lateness.snapshot(),
            poll_duration: c.poll_duration.snapshot(),
            wake_to_poll: c.wake_to_poll.snapshot(),
        }
    }
}

impl Stats {
    /// Adds another loop's figures to these: counts and histograms add up, the longest
    /// poll is the longer one. Offload figures are added only when `same_pool` is false
    /// (loops sharing one pool would count it twice).
    pub fn merge(&mut self, other: &Stats, same_pool: bool) {
        self.tasks_spawned += other.tasks_spawned;
        self.tasks_alive += other.tasks_alive;
        self.polls += other.polls;
        self.local_wakes += other.local_wakes;
        self.remote_wakes += other.remote_wakes;
        self.unparks += other.unparks;
        self.io_events += other.io_events;
        self.timers_fired += other.timers_fired;
        self.loop_turns += other.loop_turns;
        if !same_pool {
            self.offload_queued += other.offload_queued;
            self.offload_running += other.offload_running;
            self.offload_threads += other.offload_threads;
        }
        self.longest_poll = self.longest_poll.max(other.longest_poll);
        self.slow_polls += other.slow_polls;
        self.loop_delay.merge(&other.loop_delay);
        self.timer_lateness.merge(&other.timer_lateness);
        self.poll_duration.merge(&other.poll_duration);
        self.wake_to_poll.merge(&other.wake_to_poll);
    }
}

/// Every live loop in the process (dead ones are pruned as the list is read).
static LOOPS: Mutex<Vec<Weak<LoopStats>>> = Mutex::new(Vec::new());

/// Adds a loop to the process-wide list (once, when its executor is built).
pub(crate) fn register(stats: &Arc<LoopStats>) {
    let mut loops = LOOPS.lock().unwrap_or_else(|e| e.into_inner());
    loops.retain(|weak| weak.strong_count() > 0);
    loops.push(Arc::downgrade(stats));
}

/// The figures of every simmer loop alive in this process, added up: what a
/// multi-worker server reports from whichever worker is asked. Reads each loop's
/// counters with relaxed loads; it never stops or waits for a loop.
pub fn stats_all_loops() -> Stats {
    let loops = live_loops();
    let mut total = Stats::default();
    for (i, lp) in loops.iter().enumerate() {
        let same_pool = loops[..i].iter().any(|o| Arc::ptr_eq(&o.pool, &lp.pool));
        total.merge(&lp.snapshot(), same_pool);
    }
    total
}

/// One loop's figures, as [`stats_by_loop`] lists them.
#[derive(Debug, Clone)]
pub struct LoopReport {
    /// The loop's name ([`crate::Config::name`]): `simmer-worker-N` for a server's
    /// workers, `simmer-acceptor` for its acceptor; `None` for an unnamed loop.
    pub name: Option<String>,
    /// Its counters, as its own [`crate::stats`] would report them.
    pub stats: Stats,
}

/// The figures of every simmer loop alive in this process, one entry per loop in the
/// order they were built: a multi-worker server's per-worker view (what
/// [`stats_all_loops`] adds up). Offload figures are the pool's, repeated on each loop
/// that shares it.
pub fn stats_by_loop() -> Vec<LoopReport> {
    live_loops()
        .iter()
        .map(|lp| LoopReport {
            name: lp.name.clone(),
            stats: lp.snapshot(),
        })
        .collect()
}

fn live_loops() -> Vec<Arc<LoopStats>> {
    let loops = LOOPS.lock().unwrap_or_else(|e| e.into_inner());
    loops.iter().filter_map(Weak::upgrade).collect()
}
