//! `GET /metrics` in the Prometheus text format: the runtime's counters and histograms,
//! and per-route request counts and durations.
//!
//! ```no_run
//! # use simmer_http::{Router, Server};
//! # async fn hello(_req: simmer_http::Request) -> &'static str { "hi" }
//! let router = Router::new().get("/", hello).metrics("/metrics");
//! ```
//!
//! Counting costs nothing until asked: each router (one per worker loop) owns a table
//! of plain integers, indexed by route, method and status class, and a duration
//! histogram per route, written by its own loop only (loads and stores on atomics, no
//! locked instruction, no allocation). A scrape — served by whichever worker got the
//! connection — walks every table registered in the process, adds them up and formats
//! the text. Labels are route patterns (`/items/{id}`), never raw paths, so the number
//! of series is bounded by the routes you wrote.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use simmer_executor::{Histogram, Recorder, Stats};

use crate::method::Method;
use crate::request::Request;
use crate::response::Response;
use crate::router::Router;

/// Methods with a label of their own; the rest count as `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other",
];

/// Status classes: 1xx to 5xx.
const CLASSES: usize = 5;

/// Histogram bucket edges written to `/metrics`: 2^10 ns (about 1 µs) to 2^34 ns
/// (about 17 s), every power of two; each is an exact edge of simmer's own buckets.
const EDGES: std::ops::RangeInclusive<u32> = 10..=34;

/// The label of requests that matched no route (404s, 405s).
const UNMATCHED: &str = "unmatched";

impl Router {
    /// Serves `GET path` (usually `/metrics`) in the Prometheus text format and counts
    /// every request by route pattern, method and status class, with a duration
    /// histogram per route. Counting is per worker loop, in plain integers; the scrape
    /// adds up every worker in the process.
    pub fn metrics(mut self, path: &str) -> Router {
        self.count_requests = true;
        self.get(path, scrape)
    }
}

/// One router's counters (one router per worker loop).
pub(crate) struct RouteMetrics {
    /// Route patterns by route index; the last entry is [`UNMATCHED`].
    patterns: Vec<String>,
    /// Requests, at `(route * METHODS.len() + method) * CLASSES + class`.
    requests: Vec<AtomicU64>,
    /// Request durations, by route index (the last one: unmatched).
    durations: Vec<Recorder>,
}

/// Every router counting requests in this process.
static ROUTERS: Mutex<Vec<Weak<RouteMetrics>>> = Mutex::new(Vec::new());

impl RouteMetrics {
    /// Counters for these route patterns, registered for scrapes.
    pub(crate) fn register<'a>(patterns: impl Iterator<Item = &'a str>) -> Arc<RouteMetrics> {
        let mut patterns: Vec<String> = patterns.map(str::to_string).collect();
        patterns.push(UNMATCHED.to_string());
        let metrics = Arc::new(RouteMetrics {
            requests: (0..patterns.len() * METHODS.len() * CLASSES)
                .map(|_| AtomicU64::new(0))
                .collect(),
            durations: patterns.iter().map(|_| Recorder::default()).collect(),
            patterns,
        });
        let mut routers = ROUTERS.lock().unwrap_or_else(|e| e.into_inner());
        routers.retain(|r| r.strong_count() > 0);
        routers.push(Arc::downgrade(&metrics));
        metrics
    }

    /// Counts one request: route index (`None`: unmatched), method, status, duration.
    /// On the serving loop only.
    /// `method` comes from [`method_index`].
    pub(crate) fn record(&self, route: Option<usize>, method: usize, status: u16, took: Duration) {
        let route = route.unwrap_or(self.patterns.len() - 1);
        let class = (status / 100).clamp(1, 5) as usize - 1;
        let i = (route * METHODS.len() + method) * CLASSES + class;
        let counter = &self.requests[i];
        counter.store(counter.load(Relaxed) + 1, Relaxed);
        self.durations[route].record(took.as_nanos() as u64);
    }
}

/// The method's place in [`METHODS`].
pub(crate) fn method_index(method: &Method) -> usize {
    match method {
        Method::Get => 0,
        Method::Head => 1,
        Method::Post => 2,
        Method::Put => 3,
        Method::Delete => 4,
        Method::Patch => 5,
        Method::Options => 6,
        _ => 7,
    }
}

thread_local! {
    /// This loop's open-connection gauge, listed in `CONNECTIONS` while the thread lives.
    static OPEN: Cell<Option<Arc<AtomicU64>>> = const { Cell::new(None) };
}

/// Every loop's open-connection gauge, with its thread's name (`simmer-worker-N`).
static CONNECTIONS: Mutex<Vec<(Option<String>, Weak<AtomicU64>)>> = Mutex::new(Vec::new());

/// Runs `f` on this thread's open-connection gauge, creating it on first use.
fn with_open_gauge(f: impl FnOnce(&AtomicU64)) {
    OPEN.with(|cell| {
        let gauge = cell.take().unwrap_or_else(|| {
            let gauge = Arc::new(AtomicU64::new(0));
            let mut all = CONNECTIONS.lock().unwrap_or_else(|e| e.into_inner());
            all.retain(|(_, g)| g.strong_count() > 0);
            let thread = std::thread::current().name().map(str::to_string);
            all.push((thread, Arc::downgrade(&gauge)));
            gauge
        });
        f(&gauge);
        cell.set(Some(gauge));
    });
}

/// A connection was accepted on this loop.
pub(crate) fn connection_opened() {
    with_open_gauge(|g| g.store(g.load(Relaxed) + 1, Relaxed));
}

/// A connection on this loop closed.
pub(crate) fn connection_closed() {
    with_open_gauge(|g| g.store(g.load(Relaxed).saturating_sub(1), Relaxed));
}

/// The `/metrics` handler.
async fn scrape(_req: Request) -> Response {
    Response::text(render(&simmer_executor::stats_all_loops()))
        .with_content_type("text/plain; version=0.0.4; charset=utf-8")
}

/// Everything, in the Prometheus text format.
pub(crate) fn render(stats: &Stats) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let counters: [(&str, &str, u64); 9] = [
        ("tasks_spawned_total", "Tasks spawned.", stats.tasks_spawned),
        ("polls_total", "Polls of tasks.", stats.polls),
        (
            "local_wakes_total",
            "Wakes on the loop's own thread.",
            stats.local_wakes,
        ),
        (
            "remote_wakes_total",
            "Wakes from other threads.",
            stats.remote_wakes,
        ),
        (
            "unparks_total",
            "Sleeping loops woken by another thread.",
            stats.unparks,
        ),
        (
            "io_events_total",
            "I/O readiness events delivered.",
            stats.io_events,
        ),
        ("timers_fired_total", "Timers fired.", stats.timers_fired),
        (
            "loop_turns_total",
            "Loop turns (I/O and timer checks).",
            stats.loop_turns,
        ),
        (
            "slow_polls_total",
            "Polls over the slow-poll threshold.",
            stats.slow_polls,
        ),
    ];
    for (name, help, value) in counters {
        metric_head(&mut out, name, help, "counter");
        writeln!(out, "simmer_{name} {value}").ok();
    }
    let open_by_thread: Vec<(Option<String>, u64)> = {
        let all = CONNECTIONS.lock().unwrap_or_else(|e| e.into_inner());
        all.iter()
            .filter_map(|(name, g)| Some((name.clone(), g.upgrade()?.load(Relaxed))))
            .collect()
    };
    let open: u64 = open_by_thread.iter().map(|(_, n)| n).sum();
    let gauges: [(&str, &str, u64); 5] = [
        (
            "tasks_alive",
            "Tasks spawned and not finished.",
            stats.tasks_alive,
        ),
        (
            "offload_queued",
            "Offloaded jobs waiting for a thread.",
            stats.offload_queued,
        ),
        (
            "offload_running",
            "Offloaded jobs running.",
            stats.offload_running,
        ),
        (
            "offload_threads",
            "Offload pool threads alive.",
            stats.offload_threads,
        ),
        ("http_open_connections", "Open HTTP connections.", open),
    ];
    for (name, help, value) in gauges {
        metric_head(&mut out, name, help, "gauge");
        writeln!(out, "simmer_{name} {value}").ok();
    }
    metric_head(
        &mut out,
        "longest_poll_seconds",
        "Longest single poll (a lower bound).",
        "gauge",
    );
    writeln!(
        out,
        "simmer_longest_poll_seconds {}",
        Seconds(stats.longest_poll)
    )
    .ok();
    let histograms: [(&str, &str, &Histogram); 4] = [
        (
            "loop_delay_seconds",
            "Per loop turn, time away from I/O and timers.",
            &stats.loop_delay,
        ),
        (
            "timer_lateness_seconds",
            "Per timer, how late it fired.",
            &stats.timer_lateness,
        ),
        (
            "poll_duration_seconds",
            "Per poll, how long it held the loop.",
            &stats.poll_duration,
        ),
        (
            "wake_to_poll_seconds",
            "Per poll, time from wake to poll.",
            &stats.wake_to_poll,
        ),
    ];
    for (name, help, h) in histograms {
        metric_head(&mut out, name, help, "histogram");
        histogram(&mut out, name, "", h);
    }
    render_by_loop(&mut out, &open_by_thread);
    render_http(&mut out);
    out
}

/// A few figures per named loop (a server's workers and acceptor), labelled
/// `loop="simmer-worker-N"`: how the work spreads, and which worker is stuck.
fn render_by_loop(out: &mut String, open_by_thread: &[(Option<String>, u64)]) {
    let loops: Vec<(String, Stats)> = simmer_executor::stats_by_loop()
        .into_iter()
        .filter_map(|l| Some((l.name?, l.stats)))
        .collect();
    type Figure = fn(&Stats) -> u64;
    let figures: [(&str, &str, &str, Figure); 3] = [
        ("loop_polls_total", "Polls, by loop.", "counter", |s| {
            s.polls
        }),
        (
            "loop_slow_polls_total",
            "Polls over the slow-poll threshold, by loop.",
            "counter",
            |s| s.slow_polls,
        ),
        (
            "loop_tasks_alive",
            "Tasks spawned and not finished, by loop.",
            "gauge",
            |s| s.tasks_alive,
        ),
    ];
    for (name, help, kind, figure) in figures {
        metric_head(out, name, help, kind);
        for (loop_name, stats) in &loops {
            let label = Escaped(loop_name);
            writeln!(out, "simmer_{name}{{loop=\"{label}\"}} {}", figure(stats)).ok();
        }
    }
    metric_head(
        out,
        "loop_http_open_connections",
        "Open HTTP connections, by loop.",
        "gauge",
    );
    for (thread, open) in open_by_thread {
        if let Some(thread) = thread {
            let label = Escaped(thread);
            writeln!(
                out,
                "simmer_loop_http_open_connections{{loop=\"{label}\"}} {open}"
            )
            .ok();
        }
    }
}

/// Request counts and durations, summed over every router by route pattern.
fn render_http(out: &mut String) {
    let routers: Vec<Arc<RouteMetrics>> = {
        let all = ROUTERS.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().filter_map(Weak::upgrade).collect()
    };
    let mut requests: BTreeMap<(&str, usize, usize), u64> = BTreeMap::new();
    let mut durations: BTreeMap<&str, Histogram> = BTreeMap::new();
    for router in &routers {
        for (route, pattern) in router.patterns.iter().enumerate() {
            let base = route * METHODS.len() * CLASSES;
            for (i, counter) in router.requests[base..base + METHODS.len() * CLASSES]
                .iter()
                .enumerate()
            {
                let n = counter.load(Relaxed);
                if n > 0 {
                    *requests
                        .entry((pattern, i / CLASSES, i % CLASSES))
                        .or_default() += n;
                }
            }
            let h = router.durations[route].snapshot();
            if h.count() > 0 {
                durations.entry(pattern).or_default().merge(&h);
            }
        }
    }
    metric_head(
        out,
        "http_requests_total",
        "HTTP requests by method, route pattern and status class.",
        "counter",
    );
    for ((route, method, class), n) in &requests {
        writeln!(
            out,
            "simmer_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}xx\"}} {n}",
            METHODS[*method],
            Escaped(route),
            class + 1
        )
        .ok();
    }
    metric_head(
        out,
        "http_request_duration_seconds",
        "HTTP request durations by route pattern (handler and router, without middleware).",
        "histogram",
    );
    for (route, h) in &durations {
        let label = format!("route=\"{}\"", Escaped(route));
        histogram(out, "http_request_duration_seconds", &label, h);
    }
}

fn metric_head(out: &mut String, name: &str, help: &str, kind: &str) {
    writeln!(
        out,
        "# HELP simmer_{name} {help}\n# TYPE simmer_{name} {kind}"
    )
    .ok();
}

/// One histogram's `_bucket`, `_sum` and `_count` lines; `labels` go before `le`.
fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) {
    let sep = if labels.is_empty() { "" } else { "," };
    for edge in EDGES {
        let bound = Duration::from_nanos(1 << edge);
        writeln!(
            out,
            "simmer_{name}_bucket{{{labels}{sep}le=\"{}\"}} {}",
            Seconds(bound),
            h.count_below(bound)
        )
        .ok();
    }
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    writeln!(
        out,
        "simmer_{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
        h.count()
    )
    .ok();
    writeln!(out, "simmer_{name}_sum{braces} {}", Seconds(h.sum())).ok();
    writeln!(out, "simmer_{name}_count{braces} {}", h.count()).ok();
}

/// A duration as decimal seconds, with integer arithmetic: `0.000001024`.
struct Seconds(Duration);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (secs, nanos) = (self.0.as_secs(), self.0.subsec_nanos());
        if nanos == 0 {
            return write!(f, "{secs}");
        }
        let digits = format!("{nanos:09}");
        write!(f, "{secs}.{}", digits.trim_end_matches('0'))
    }
}

/// A label value with `\`, `"` and newlines escaped.
struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                '\n' => f.write_str("\\n")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_written_without_floats() {
        assert_eq!(
            Seconds(Duration::from_nanos(1 << 10)).to_string(),
            "0.000001024"
        );
        assert_eq!(Seconds(Duration::from_millis(1500)).to_string(), "1.5");
        assert_eq!(Seconds(Duration::from_secs(3)).to_string(), "3");
        assert_eq!(Escaped("a\"b\\c").to_string(), "a\\\"b\\\\c");
    }
}
