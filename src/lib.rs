//! # simmer
//!
//! An async runtime written to be read: a single-threaded, waker-based executor
//! ([`simmer_executor`]), a mio reactor with timers and TCP ([`simmer_reactor`]), and a
//! thread pool for blocking work ([`offload`]). One thread runs many tasks; nothing waits
//! idle — like a chef who chops vegetables while the pot simmers.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! simmer::block_on(async {
//!     let pot = simmer::spawn(async {
//!         simmer::time::sleep(Duration::from_millis(50)).await; // asyncio.sleep(0.05)
//!         "soup"
//!     });
//!     let sum = simmer::offload(|| (0..1_000_000u64).sum::<u64>()).await.unwrap();
//!     println!("{} and {sum}", pot.await.unwrap());
//! });
//! ```
//!
//! | Python / asyncio              | simmer                                  |
//! | ----------------------------- | --------------------------------------- |
//! | `asyncio.run(main())`         | [`block_on`]                            |
//! | `asyncio.create_task(coro)`   | [`spawn`] → [`JoinHandle`]              |
//! | `await asyncio.sleep(s)`      | [`time::sleep`]                         |
//! | `asyncio.wait_for(aw, s)`     | [`time::timeout`]                       |
//! | `loop.run_in_executor(...)`   | [`offload`]                             |
//! | `asyncio.sleep(0)`            | [`yield_now`]                           |
#![deny(missing_docs)]

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use simmer_executor::{Config, Executor};
use simmer_reactor::{Handle, Reactor};

pub use simmer_executor::{
    coop, offload, recent_slow_polls, spawn, spawn_named, stats_all_loops, stats_by_loop, tasks,
    yield_now, Histogram, JoinError, JoinHandle, LoopReport, Offload, SlowPoll, Stats, TaskInfo,
    WakeSource,
};
pub use simmer_executor::{Executor as RawExecutor, Park, ThreadPark, Unpark};

/// Timers: [`time::sleep`], [`time::sleep_until`], [`time::timeout`], [`time::interval`].
pub mod time {
    pub use simmer_reactor::time::{
        interval, interval_at, sleep, sleep_until, timeout, Elapsed, Interval, Sleep, Timeout,
    };
}

/// The HTTP/1.1 server: router, middleware, requests and responses (`simmer-http`).
#[cfg(feature = "http")]
pub use simmer_http as http;

/// The non-blocking PostgreSQL client (`simmer-postgres`).
#[cfg(feature = "postgres")]
pub use simmer_postgres as postgres;

/// SQLite (rusqlite), for blocking database work on the offload pool.
#[cfg(feature = "sqlite")]
pub use rusqlite;

#[cfg(feature = "sqlite")]
pub mod sqlite;

/// TCP: [`net::TcpListener`], [`net::TcpStream`], [`net::lookup_host`].
pub mod net {
    pub use simmer_reactor::net::{lookup_host, TcpListener, TcpStream};
}

/// An executor paired with a reactor: everything needed to run async code.
///
/// Dropping it drops every unfinished task (on this thread) and, if tracing is on,
/// writes the trace file.
pub struct Runtime {
    // Field order matters: tasks (owned by the executor) are dropped before the reactor
    // they are registered with.
    executor: Executor,
    reactor: Handle,
}

impl Runtime {
    /// A runtime with default settings (see [`Builder`]).
    pub fn new() -> io::Result<Runtime> {
        Runtime::builder().build()
    }

    /// Settings for a new runtime.
    pub fn builder() -> Builder {
        Builder {
            config: Config::default(),
        }
    }

    /// Runs `future` to completion, driving spawned tasks, I/O and timers meanwhile.
    ///
    /// # Panics
    /// When called from inside a runtime, and when `future` panics.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        let _reactor = self.reactor.enter();
        self.executor.block_on(future)
    }

    /// This runtime's counters.
    pub fn stats(&self) -> Stats {
        self.executor.stats()
    }

    /// Writes the trace recorded so far (tracing must be on); it is also written on drop.
    pub fn write_trace(&self) -> io::Result<()> {
        self.executor.write_trace()
    }
}

/// Builds a [`Runtime`]. Every setting has a default suited to a server.
#[derive(Debug, Clone)]
pub struct Builder {
    config: Config,
}

impl Builder {
    /// Polls between non-blocking I/O checks (default 61, as tokio). Must be at least 1.
    pub fn event_interval(mut self, polls: u32) -> Builder {
        self.config.event_interval = polls;
        self
    }

    /// Warn about any poll longer than `threshold` (default 100 ms).
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.config.slow_poll_threshold = Some(threshold);
        self
    }

    /// Turn the slow-poll detector off.
    pub fn no_slow_poll_warnings(mut self) -> Builder {
        self.config.slow_poll_threshold = None;
        self
    }

    /// Send slow-poll reports to `hook` instead of stderr.
    pub fn on_slow_poll(mut self, hook: impl Fn(&SlowPoll) + Send + Sync + 'static) -> Builder {
        self.config.on_slow_poll = Arc::new(hook);
        self
    }

    /// Record a Chrome trace and write it to `path` (default: `$SIMMER_TRACE`, if set).
    pub fn trace_path(mut self, path: impl Into<PathBuf>) -> Builder {
        self.config.trace_path = Some(path.into());
        self
    }

    /// Do not trace, even if `SIMMER_TRACE` is set.
    pub fn no_trace(mut self) -> Builder {
        self.config.trace_path = None;
        self
    }

    /// Most offload threads alive at once (default 64). Must be at least 1.
    pub fn offload_max_threads(mut self, threads: usize) -> Builder {
        self.config.offload_max_threads = threads;
        self
    }

    /// How long an idle offload thread waits for work before exiting (default 10 s).
    pub fn offload_idle_timeout(mut self, idle: Duration) -> Builder {
        self.config.offload_idle_timeout = idle;
        self
    }

    /// Creates the runtime, or explains which setting is wrong.
    pub fn build(self) -> io::Result<Runtime> {
        let invalid = |msg: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, msg.to_string()));
        if self.config.event_interval == 0 {
            return invalid("event_interval must be at least 1 poll");
        }
        if self.config.offload_max_threads == 0 {
            return invalid("offload_max_threads must be at least 1");
        }
        if self.config.slow_poll_threshold == Some(Duration::ZERO) {
            return invalid(
                "slow_poll_threshold must be above zero (use no_slow_poll_warnings to turn it off)",
            );
        }
        let reactor = Reactor::new()?;
        let executor = Executor::new(Box::new(reactor.park()), self.config);
        Ok(Runtime {
            executor,
            reactor: reactor.handle(),
        })
    }
}

/// Runs `future` on a new default runtime (asyncio's `asyncio.run`).
///
/// # Panics
/// If the runtime cannot be created (no epoll), when called inside a runtime, and when
/// `future` panics.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let runtime = Runtime::new().unwrap_or_else(|e| panic!("simmer: cannot start a runtime: {e}"));
    runtime.block_on(future)
}

/// The current runtime's counters, or `None` outside a runtime.
pub fn stats() -> Option<Stats> {
    simmer_executor::stats()
}
