//! Chrome trace-event export (`SIMMER_TRACE=path`): open the file in Perfetto or
//! chrome://tracing to see every poll as a span and every wake as a mark.
//!
//! Events are kept in memory and written when the runtime is dropped (or on
//! [`crate::Executor::write_trace`]); after [`MAX_EVENTS`] the rest are counted, not
//! kept, so a long-running server cannot grow without bound. With tracing off the loop
//! pays one branch per poll.
//!
//! Loops in one process that trace to the same path (a server's workers) share one
//! file and one clock: each loop is a thread row of its own (`tid` 0, 1, 2… in the
//! order they started, named after the loop), and each loop that ends rewrites the
//! file with every row written so far, so the last one to end leaves all of them.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

pub use crate::wake_source::WakeSource;

/// Events kept per trace (about 50 MB); later ones are only counted.
pub const MAX_EVENTS: usize = 1_000_000;

/// One recorded event; times are nanoseconds since the trace started (written as
/// microseconds with integer arithmetic, which keeps float formatting out of every
/// binary that links the executor).
pub(crate) enum Event {
    Poll {
        task: u64,
        start: u64,
        duration: u64,
    },
    Wake {
        task: u64,
        source: WakeSource,
        at: u64,
    },
    Offload {
        thread: u64,
        start: u64,
        duration: u64,
    },
}

/// Pool threads record here; shared with the offload pool.
pub(crate) struct PoolTrace {
    pub(crate) start: Instant,
    pub(crate) events: Mutex<Vec<Event>>,
}

impl PoolTrace {
    /// Records one offloaded job that ran on pool thread `thread` from `began`.
    pub(crate) fn offload(&self, thread: u64, began: Instant) {
        let event = Event::Offload {
            thread,
            start: nanos(self.start, began),
            duration: began.elapsed().as_nanos() as u64,
        };
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }
}

/// One trace file, shared by the loops of this process that trace to its path.
struct TraceFile {
    path: PathBuf,
    /// The rows written so far, by loop row: (row, events not kept, rendered events).
    rows: Mutex<Vec<(u64, u64, String)>>,
    /// The next loop's row.
    next_row: std::sync::atomic::AtomicU64,
    /// The clock every row of the file is measured from.
    start: Instant,
}

/// Trace files in use (dead ones are pruned as the list is searched).
static FILES: Mutex<Vec<Weak<TraceFile>>> = Mutex::new(Vec::new());

impl TraceFile {
    /// The file for `path`, shared with the loops already tracing to it, or a new one.
    fn open(path: PathBuf) -> Arc<TraceFile> {
        let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
        files.retain(|f| f.strong_count() > 0);
        if let Some(file) = files
            .iter()
            .filter_map(Weak::upgrade)
            .find(|f| f.path == path)
        {
            return file;
        }
        let file = Arc::new(TraceFile {
            path,
            rows: Mutex::new(Vec::new()),
            next_row: std::sync::atomic::AtomicU64::new(0),
            start: Instant::now(),
        });
        files.push(Arc::downgrade(&file));
        file
    }
}

/// The loop's recorder.
pub(crate) struct Tracer {
    file: Arc<TraceFile>,
    /// This loop's thread row in the file (`tid`).
    row: u64,
    /// The row's label: the loop's name, or "simmer loop".
    row_name: String,
    events: RefCell<Vec<Event>>,
    /// Loop events not kept because `MAX_EVENTS` was reached.
    dropped: std::cell::Cell<u64>,
    /// Names of named tasks, in spawn (so id) order.
    names: RefCell<Vec<(u64, Box<str>)>>,
    pool: Arc<PoolTrace>,
}

impl Tracer {
    /// A recorder writing to `path`; `loop_name` labels its row.
    pub(crate) fn new(path: PathBuf, loop_name: Option<&str>) -> Tracer {
        let file = TraceFile::open(path);
        let row = file
            .next_row
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let start = file.start;
        Tracer {
            file,
            row,
            row_name: loop_name.unwrap_or("simmer loop").to_string(),
            events: RefCell::new(Vec::new()),
            dropped: std::cell::Cell::new(0),
            names: RefCell::new(Vec::new()),
            pool: Arc::new(PoolTrace {
                start,
                events: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A recorder for `path`, if tracing can start (always, with the `trace` feature).
    pub(crate) fn start(path: PathBuf, loop_name: Option<&str>) -> Option<Tracer> {
        Some(Tracer::new(path, loop_name))
    }

    /// Where the offload pool records its jobs.
    pub(crate) fn pool(&self) -> &Arc<PoolTrace> {
        &self.pool
    }

    /// Keeps `event` unless [`MAX_EVENTS`] are kept already (then only counts it).
    fn keep(&self, event: Event) {
        let mut events = self.events.borrow_mut();
        if events.len() < MAX_EVENTS {
            events.push(event);
        } else {
            self.dropped.set(self.dropped.get() + 1);
        }
    }

    pub(crate) fn now(&self) -> u64 {
        nanos(self.pool.start, Instant::now())
    }

    pub(crate) fn name_task(&self, task: u64, name: &str) {
        self.names.borrow_mut().push((task, name.into()));
    }

    pub(crate) fn poll(&self, task: u64, start: u64) {
        let duration = self.now().saturating_sub(start);
        self.keep(Event::Poll {
            task,
            start,
            duration,
        });
    }

    pub(crate) fn wake(&self, task: u64, source: WakeSource) {
        let at = self.now();
        self.keep(Event::Wake { task, source, at });
    }

    /// Writes everything recorded so far to the trace file, with the rows other loops
    /// sharing the file have written.
    pub(crate) fn write(&self) -> io::Result<()> {
        let mine = self.rows_json();
        let json = {
            let mut rows = self.file.rows.lock().unwrap_or_else(|e| e.into_inner());
            match rows.iter_mut().find(|(row, _, _)| *row == self.row) {
                Some(entry) => *entry = (self.row, self.dropped.get(), mine),
                None => rows.push((self.row, self.dropped.get(), mine)),
            }
            rows.sort_by_key(|(row, _, _)| *row);
            let dropped: u64 = rows.iter().map(|(_, dropped, _)| dropped).sum();
            let mut out = format!(
                "{{\"displayTimeUnit\":\"ms\",\"otherData\":{{\"dropped_events\":{dropped}}},\"traceEvents\":[\n"
            );
            for (i, (_, _, text)) in rows.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                out.push_str(text);
            }
            out.push_str("\n]}\n");
            out
        };
        std::fs::write(&self.file.path, json).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("writing trace {}: {e}", self.file.path.display()),
            )
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.file.path
    }

    /// This loop's events as trace-event lines (no enclosing array).
    fn rows_json(&self) -> String {
        let names = self.names.borrow();
        let name_of = |task: u64| {
            let i = names.binary_search_by_key(&task, |(id, _)| *id).ok()?;
            Some(&names[i].1)
        };
        let label = |task: u64| match name_of(task) {
            Some(name) => format!("task {task} ({})", escape(name)),
            None if task == 0 => "block_on".to_string(),
            None => format!("task {task}"),
        };
        let tid = self.row;
        // Pool threads of this loop's own pool: rows 1000, 1001… after the first loop's.
        let pool_rows = 1000 * (tid + 1);
        let mut out = format!(
            r#"{{"name":"thread_name","ph":"M","pid":1,"tid":{tid},"args":{{"name":"{}"}}}}"#,
            escape(&self.row_name)
        );
        let pool_events = self.pool.events.lock().unwrap_or_else(|e| e.into_inner());
        for event in self.events.borrow().iter().chain(pool_events.iter()) {
            out.push_str(",\n");
            match *event {
                Event::Poll { task, start, duration } => write!(
                    out,
                    r#"{{"name":"{}","cat":"poll","ph":"X","ts":{},"dur":{},"pid":1,"tid":{tid},"args":{{"task":{task}}}}}"#,
                    label(task),
                    Micros(start),
                    Micros(duration)
                ),
                Event::Wake { task, source, at } => write!(
                    out,
                    r#"{{"name":"wake {}","cat":"wake","ph":"i","s":"t","ts":{},"pid":1,"tid":{tid},"args":{{"task":{task},"source":"{}"}}}}"#,
                    label(task),
                    Micros(at),
                    source.label()
                ),
                Event::Offload { thread, start, duration } => write!(
                    out,
                    r#"{{"name":"offload","cat":"offload","ph":"X","ts":{},"dur":{},"pid":1,"tid":{}}}"#,
                    Micros(start),
                    Micros(duration),
                    pool_rows + thread
                ),
            }
            .expect("writing to a String cannot fail");
        }
        out
    }
}

fn nanos(start: Instant, at: Instant) -> u64 {
    at.saturating_duration_since(start).as_nanos() as u64
}

/// Nanoseconds as the microseconds the trace format wants: `12.345`.
struct Micros(u64);

impl std::fmt::Display for Micros {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// Escapes a task name for a JSON string.
fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).expect("String write"),
            c => out.push(c),
        }
    }
    out
}
