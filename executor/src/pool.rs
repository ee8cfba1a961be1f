//! The thread pool behind [`crate::offload`]: jobs in a queue, threads that start on
//! demand, up to a maximum, and exit after sitting idle for a while. A job hands back
//! the waker of the task awaiting it; the pool thread wakes it (a remote wake, which
//! unparks the loop only if it is asleep).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::trace::PoolTrace;

/// A job runs the closure, stores its result and returns the waker of the task awaiting
/// it; the pool thread records the job in the trace first, then wakes the task (so the
/// trace written when the loop ends has the job's row).
pub(crate) type Job = Box<dyn FnOnce() -> Option<Waker> + Send>;

/// The pool of worker threads behind `offload`.
pub(crate) struct Pool {
    state: Mutex<PoolState>,
    work_ready: Condvar,
    max_threads: usize,
    idle_timeout: Duration,
    queued: AtomicU64,
    running: AtomicU64,
    threads: AtomicU64,
    next_thread: AtomicU64,
    trace: Option<Arc<PoolTrace>>,
    /// Executors and [`OffloadPool`] handles using the pool; the last to let go shuts
    /// it down.
    owners: AtomicU64,
}

struct PoolState {
    jobs: VecDeque<Job>,
    /// Threads waiting for a job on `work_ready`.
    idle: usize,
    /// Threads alive.
    threads: usize,
    shutdown: bool,
}

impl Pool {
    pub(crate) fn new(
        max_threads: usize,
        idle_timeout: Duration,
        trace: Option<Arc<PoolTrace>>,
    ) -> Pool {
        Pool {
            state: Mutex::new(PoolState {
                jobs: VecDeque::new(),
                idle: 0,
                threads: 0,
                shutdown: false,
            }),
            work_ready: Condvar::new(),
            max_threads: max_threads.max(1),
            idle_timeout,
            queued: AtomicU64::new(0),
            running: AtomicU64::new(0),
            threads: AtomicU64::new(0),
            next_thread: AtomicU64::new(0),
            trace,
            owners: AtomicU64::new(1),
        }
    }

    /// (queued, running, threads) right now.
    pub(crate) fn counts(&self) -> (u64, u64, u64) {
        (
            self.queued.load(Relaxed),
            self.running.load(Relaxed),
            self.threads.load(Relaxed),
        )
    }

    pub(crate) fn submit(self: &Arc<Self>, job: Job) {
        let mut state = self.lock();
        state.jobs.push_back(job);
        self.queued.fetch_add(1, Relaxed);
        // More jobs waiting than idle threads to take them: start one if allowed.
        if state.jobs.len() > state.idle && state.threads < self.max_threads {
            state.threads += 1;
            self.threads.fetch_add(1, Relaxed);
            let pool = Arc::clone(self);
            let number = self.next_thread.fetch_add(1, Relaxed);
            let spawned = std::thread::Builder::new()
                .name(format!("simmer-offload-{number}"))
                .spawn(move || pool.work(number));
            if spawned.is_err() {
                // The OS refused a thread: the job waits for an existing one.
                state.threads -= 1;
                self.threads.fetch_sub(1, Relaxed);
            }
        } else {
            self.work_ready.notify_one();
        }
    }

    /// A pool thread's life: take jobs until idle for `idle_timeout` or shut down.
    fn work(&self, number: u64) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                drop(state);
                self.queued.fetch_sub(1, Relaxed);
                self.running.fetch_add(1, Relaxed);
                let began = Instant::now();
                let waiter = job();
                if let Some(trace) = &self.trace {
                    trace.offload(number, began);
                }
                if let Some(waker) = waiter {
                    waker.wake();
                }
                self.running.fetch_sub(1, Relaxed);
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, waited) = self
                .work_ready
                .wait_timeout(state, self.idle_timeout)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            if waited.timed_out() && state.jobs.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        self.threads.fetch_sub(1, Relaxed);
    }

    /// One owner lets go; the last one shuts the pool down.
    pub(crate) fn release(&self) {
        if self.owners.fetch_sub(1, Relaxed) == 1 {
            self.shutdown();
        }
    }

    /// Lets idle threads exit; running jobs finish (their results are discarded).
    fn shutdown(&self) {
        self.lock().shutdown = true;
        self.work_ready.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An offload pool that several executors share: a server's workers send their blocking
/// jobs to one pool, bounded once for the whole process. Each job's result wakes the
/// task that offloaded it, on its own worker's loop (the waker knows its executor).
pub struct OffloadPool {
    pool: Arc<Pool>,
}

impl OffloadPool {
    /// A pool of at most `max_threads` threads (at least 1), each exiting after
    /// `idle_timeout` without work.
    pub fn new(max_threads: usize, idle_timeout: Duration) -> OffloadPool {
        OffloadPool {
            pool: Arc::new(Pool::new(max_threads, idle_timeout, None)),
        }
    }

    /// (queued jobs, running jobs, threads alive) right now.
    pub fn counts(&self) -> (u64, u64, u64) {
        self.pool.counts()
    }

    /// A new owner's claim on the pool (an executor that will release it on drop).
    pub(crate) fn attach(&self) -> Arc<Pool> {
        self.pool.owners.fetch_add(1, Relaxed);
        Arc::clone(&self.pool)
    }
}

impl Clone for OffloadPool {
    fn clone(&self) -> OffloadPool {
        OffloadPool {
            pool: self.attach(),
        }
    }
}

impl Drop for OffloadPool {
    fn drop(&mut self) {
        self.pool.release();
    }
}

impl std::fmt::Debug for OffloadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (queued, running, threads) = self.counts();
        f.debug_struct("OffloadPool")
            .field("queued", &queued)
            .field("running", &running)
            .field("threads", &threads)
            .finish()
    }
}
