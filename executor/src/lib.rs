//! # simmer-executor: what runs
//!
//! A single-threaded executor: futures become tasks, tasks wait in a run queue, the loop
//! polls them, and wakers put them back in the queue. It knows nothing about sockets or
//! time; when no task is ready it calls a [`Park`] — in a full simmer runtime that is
//! the reactor (`simmer-reactor`), which sleeps in `epoll` until I/O, a timer or another
//! thread wakes it.
//!
//! The pieces, one file each, listed below bottom-up: each file uses only those listed
//! before it, so they can be read in that order.
//! - groundwork: library messages (`diag.rs`), the coarse clock (`clock.rs`), log-scale
//!   histograms ([`Histogram`]), the [`Park`] trait, a task's [`JoinError`];
//! - the task: one allocation holding header, future and output (`task.rs`), generic
//!   over who runs it; wakers that are a counted pointer to it (`waker.rs`), handing a
//!   woken task to its owner; the owner's thread-safe half, where wakes from other
//!   threads go (`shared.rs`); the awaitable [`JoinHandle`] (`join.rs`);
//! - what the loop keeps beside: run-queue entries and live tasks, the trace and the
//!   watch ring, the coop budget's counter, the offload thread pool, [`Stats`] and
//!   [`Config`];
//! - the loop (`executor.rs`): [`Executor::block_on`], [`spawn`], fairness between tasks
//!   and I/O, panics caught per task; it implements `waker::Schedule`;
//! - on top, what tasks call from inside the loop: [`coop`], [`yield_now`], [`offload`].
//!
//! Diagnostics: [`Stats`] with log-scale [`Histogram`]s of the loop delay, timer
//! lateness, poll time and wake-to-poll time; the slow-poll detector ([`SlowPoll`]); a
//! Chrome trace; the live-task list and the ring of recent polls and wakes.
//!
//! Wakes from the loop's own thread push onto a local queue with no lock and no
//! syscall. Wakes from other threads go through a mutex-protected queue and unpark the
//! loop, which costs a syscall only when the loop is asleep.
#![deny(missing_docs)]

// Bottom-up: each group uses only the groups above it (rustfmt sorts within a group).

// Groundwork: messages, the clock, histograms, the Park trait, JoinError, the budget.
mod budget;
mod clock;
pub mod diag;
mod error;
mod histogram;
mod park;
mod wake_source;

// The task: one allocation, generic over its owner.
mod task;

// Its waker, and the owner's thread-safe half (the remote queue).
mod shared;
mod waker;

// The JoinHandle, and what the loop keeps beside its tasks.
mod config;
mod join;
mod live_tasks;
#[cfg(feature = "trace")]
mod trace;
#[cfg(not(feature = "trace"))]
#[path = "trace_off.rs"]
mod trace;

// The offload thread pool and the ring of recent events.
mod pool;
pub mod watch;

// Counters and histograms of every loop.
mod stats;

// The loop.
mod executor;

// What tasks call from inside the loop.
pub mod coop;
mod offload;
mod yield_now;

pub use config::{Config, SlowPoll, SlowPollHook};
pub use error::JoinError;
pub use executor::{
    describe_current_poll, events_since, in_runtime, recent_slow_polls, report, spawn, spawn_named,
    stats, tasks, watch_events, Executor,
};
pub use histogram::{Histogram, Recorder, BUCKETS as HISTOGRAM_BUCKETS};
pub use join::JoinHandle;
pub use live_tasks::TaskInfo;
pub use offload::{offload, Offload};
pub use park::{Park, ThreadPark, ThreadUnpark, Unpark};
pub use pool::OffloadPool;
pub use stats::{stats_all_loops, stats_by_loop, LoopReport, Stats};
#[cfg(feature = "trace")]
pub use trace::MAX_EVENTS as MAX_TRACE_EVENTS;
pub use wake_source::WakeSource;
pub use watch::{LoopEvent, LoopEventKind};
pub use yield_now::{yield_now, YieldNow};
