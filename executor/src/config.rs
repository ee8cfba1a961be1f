//! Settings for an [`crate::Executor`], with the defaults a server wants.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::histogram::Histogram;

/// A poll that held the loop longer than the slow-poll threshold.
#[derive(Debug, Clone)]
pub struct SlowPoll {
    /// The task's number (0 for the `block_on` future).
    pub task_id: u64,
    /// The task's name, if it has one.
    pub task_name: Option<String>,
    /// How long the poll held the loop at least (coarse clock: 1–4 ms resolution).
    pub held: Duration,
    /// The threshold it went over.
    pub threshold: Duration,
    /// What the task was doing, if it said (an HTTP request: "GET /block?ms=1000").
    pub detail: Option<String>,
    /// The loop-delay histogram as the slow poll ended (this poll not yet in it).
    pub loop_delay: Histogram,
    /// The loop's name ([`Config::name`]), e.g. `simmer-worker-1` for a server worker.
    pub loop_name: Option<String>,
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("simmer: slow poll: ")?;
        match (&self.task_name, self.task_id) {
            (Some(name), id) => write!(f, "task {id} \"{name}\"")?,
            (None, 0) => f.write_str("the block_on future")?,
            (None, id) => write!(f, "task {id}")?,
        }
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        if let Some(name) = &self.loop_name {
            write!(f, " on {name}")?;
        }
        write!(
            f,
            " held the loop for at least {} ms in one poll (threshold {} ms); \
             no other task, socket or timer ran meanwhile. Move blocking or CPU-heavy work \
             to simmer::offload(|| ...).await.",
            self.held.as_millis() as u64,
            self.threshold.as_millis() as u64,
        )?;
        if cfg!(feature = "histograms") {
            write!(f, " Loop delay so far: {}", self.loop_delay)?;
        }
        Ok(())
    }
}

/// What to do with a slow poll; the default logs it (`log` facade, else stderr).
pub type SlowPollHook = Arc<dyn Fn(&SlowPoll) + Send + Sync>;

/// Executor settings. Build with `Config::default()` and change fields.
#[derive(Clone)]
pub struct Config {
    /// Polls between two non-blocking checks of I/O and timers (tokio uses 61).
    pub event_interval: u32,
    /// Warn about polls longer than this; `None` turns the detector off. Default 100 ms.
    pub slow_poll_threshold: Option<Duration>,
    /// Called for every slow poll. Default: print the warning to stderr.
    pub on_slow_poll: SlowPollHook,
    /// Write a Chrome trace-event file here when the executor is dropped.
    pub trace_path: Option<PathBuf>,
    /// Most offload threads alive at once. Default 64.
    pub offload_max_threads: usize,
    /// An offload thread with nothing to do exits after this. Default 10 s.
    pub offload_idle_timeout: Duration,
    /// The loop's name in slow-poll warnings (a server's workers are `simmer-worker-N`).
    /// Default `None`.
    pub name: Option<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            event_interval: 61,
            slow_poll_threshold: Some(Duration::from_millis(100)),
            on_slow_poll: Arc::new(|slow: &SlowPoll| crate::log_warn!("simmer", "{slow}")),
            trace_path: std::env::var_os("SIMMER_TRACE")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            offload_max_threads: 64,
            offload_idle_timeout: Duration::from_secs(10),
            name: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("event_interval", &self.event_interval)
            .field("slow_poll_threshold", &self.slow_poll_threshold)
            .field("trace_path", &self.trace_path)
            .field("offload_max_threads", &self.offload_max_threads)
            .field("offload_idle_timeout", &self.offload_idle_timeout)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
