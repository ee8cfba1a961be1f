//! The loop: run ready tasks, then check I/O and timers, then sleep until woken.
//!
//! ```text
//! block_on(main) ─┬─► poll main if woken
//!                 ├─► run up to `event_interval` tasks from the local queue
//!                 └─► turn: park (sleep if nothing is ready, else check without
//!                     blocking), take tasks woken by other threads, requeue yielders
//! ```
//!
//! Invariants: a task is in at most one queue (its `SCHEDULED` bit); a queued task is
//! always live, because the `live` slab holds a counted reference until the task
//! finishes, and tasks finish only on this thread after being popped. That is why queue
//! entries need no reference count of their own.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll, RawWakerVTable, Wake, Waker};
use std::time::Duration;

use slab::Slab;

use crate::budget;
use crate::clock::{coarse_now, resolution};
use crate::config::{Config, SlowPoll};
use crate::join::JoinHandle;
use crate::live_tasks::{LiveTask, Queued, TaskInfo};
use crate::park::Park;
use crate::pool::{OffloadPool, Pool};
use crate::shared::{Shared, Task};
use crate::stats::{bump, register, Counters, LoopStats, Stats};
use crate::task::{TaskName, ABORTED, COMPLETE, HAS_HANDLE, REF_ONE, RUNNING, SCHEDULED};
use crate::trace::{Tracer, WakeSource};
use crate::waker::{self, Schedule};
use crate::watch::{LoopEvent, LoopEventKind, Ring};

/// Slow polls kept for [`recent_slow_polls`].
const RECENT_SLOW_POLLS: usize = 16;

thread_local! {
    /// The core of the executor running `block_on` on this thread, or null.
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
}

/// A single-threaded executor driving tasks on the thread that calls `block_on`.
///
/// Most programs use `simmer::Runtime`, which pairs it with the reactor as its [`Park`].
pub struct Executor {
    core: Box<Core>,
}

/// The loop thread's state. Reached through `CURRENT` while `block_on` runs.
pub(crate) struct Core {
    /// What other threads may touch: the remote queue and the parked flag.
    shared: Arc<Shared>,
    /// Where the loop sleeps: the reactor, or a condvar.
    park: RefCell<Box<dyn Park>>,
    /// Tasks ready to be polled, in wake order, each with the time it was woken.
    queue: RefCell<VecDeque<Queued>>,
    /// Every unfinished task; its slot holds one counted reference and its poll figures.
    live: RefCell<Slab<LiveTask>>,
    /// Wakers of tasks that yielded; woken after the next I/O check.
    deferred: RefCell<Vec<Waker>>,
    /// Statistics counters, the offload pool, and what other threads count; listed in
    /// the process-wide registry so any worker can report every loop.
    stats: Arc<LoopStats>,
    /// Settings.
    config: Config,
    /// Slow-poll threshold in ns (`u64::MAX` when off).
    slow_poll_ns: u64,
    /// Trace recorder, when tracing is on.
    tracer: Option<Tracer>,
    /// Ring of recent polls and wakes, once a viewer asked for it (`watch_events`).
    ring: RefCell<Option<Ring>>,
    /// Tracing is on or the ring is: polls and wakes are recorded. One flag, so that
    /// with neither the loop pays one branch per poll.
    recording: Cell<bool>,
    /// Next task number (0 is the `block_on` future).
    next_id: Cell<u64>,
    /// Coarse time at the end of the last poll or park: the start of the next poll.
    clock: Cell<u64>,
    /// Coarse time the last park returned: the loop delay runs from here to the next.
    park_returned: Cell<u64>,
    /// The last few slow polls, newest last, for the live page.
    recent_slow: RefCell<VecDeque<SlowPoll>>,
    /// The coarse clock's resolution in ns.
    clock_tick_ns: u64,
    /// What is waking tasks right now, for the trace (set by the reactor).
    wake_source: Cell<WakeSource>,
    /// What the poll in progress is doing (e.g. "GET /block"), if a future said so;
    /// shown in slow-poll warnings, cleared after each poll.
    poll_detail: Cell<Option<Rc<dyn fmt::Display>>>,
}

impl Executor {
    /// An executor that sleeps in `park` when no task is ready.
    pub fn new(park: Box<dyn Park>, config: Config) -> Executor {
        Executor::build(park, config, None)
    }

    /// Like [`Executor::new`], sending `offload` jobs to `pool`, which other executors
    /// may share (a server's workers do); the config's offload settings are unused.
    pub fn with_offload_pool(park: Box<dyn Park>, config: Config, pool: &OffloadPool) -> Executor {
        Executor::build(park, config, Some(pool.attach()))
    }

    fn build(park: Box<dyn Park>, config: Config, shared_pool: Option<Arc<Pool>>) -> Executor {
        let shared = Arc::new(Shared::new(park.unparker()));
        let tracer =
            (config.trace_path.clone()).and_then(|p| Tracer::start(p, config.name.as_deref()));
        let pool = shared_pool.unwrap_or_else(|| {
            Arc::new(Pool::new(
                config.offload_max_threads,
                config.offload_idle_timeout,
                tracer.as_ref().map(|t| Arc::clone(t.pool())),
            ))
        });
        let stats = Arc::new(LoopStats {
            name: config.name.clone(),
            counters: Counters::default(),
            shared: Arc::clone(&shared),
            pool,
        });
        register(&stats);
        let slow_poll_ns = config
            .slow_poll_threshold
            .map_or(u64::MAX, |d| d.as_nanos().min(u64::MAX as u128) as u64);
        Executor {
            core: Box::new(Core {
                shared,
                park: RefCell::new(park),
                queue: RefCell::new(VecDeque::with_capacity(64)),
                live: RefCell::new(Slab::new()),
                deferred: RefCell::new(Vec::new()),
                stats,
                config,
                slow_poll_ns,
                recording: Cell::new(tracer.is_some()),
                tracer,
                ring: RefCell::new(None),
                next_id: Cell::new(1),
                clock: Cell::new(0),
                park_returned: Cell::new(0),
                recent_slow: RefCell::new(VecDeque::new()),
                clock_tick_ns: resolution().as_nanos() as u64,
                wake_source: Cell::new(WakeSource::Task),
                poll_detail: Cell::new(None),
            }),
        }
    }

    /// Runs `future` to completion on this thread, running spawned tasks meanwhile.
    ///
    /// Tasks still unfinished when it returns stay in the executor and go on at the
    /// next `block_on`; they are dropped with the executor.
    ///
    /// # Panics
    /// If called while this thread is already inside `block_on` (that would block the
    /// loop); and if `future` itself panics.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = Enter::new(&self.core);
        let core = &*self.core;
        let main = Arc::new(MainWake {
            woken: AtomicBool::new(true),
            shared: Arc::clone(&core.shared),
        });
        let waker = Waker::from(Arc::clone(&main));
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        core.clock.set(coarse_now());
        core.park_returned.set(core.clock.get());
        loop {
            if main.woken.swap(false, Ordering::SeqCst) {
                if let Poll::Ready(output) = core.timed_poll(None, || future.as_mut().poll(&mut cx))
                {
                    return output;
                }
            }
            core.run_batch();
            core.turn(&main.woken);
        }
    }

    /// A snapshot of this executor's counters.
    pub fn stats(&self) -> Stats {
        self.core.stats()
    }

    /// Writes the trace recorded so far (tracing must be on); also done on drop.
    pub fn write_trace(&self) -> io::Result<()> {
        match &self.core.tracer {
            Some(tracer) => tracer.write(),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "tracing is off: set SIMMER_TRACE=path or the builder's trace path",
            )),
        }
    }
}

impl Core {
    /// Polls up to `event_interval` queued tasks.
    fn run_batch(&self) {
        for _ in 0..self.config.event_interval {
            let Some(Queued { task, woken_at }) = self.queue.borrow_mut().pop_front() else {
                break;
            };
            let waited = self.clock.get().saturating_sub(woken_at);
            self.stats.counters.wake_to_poll.record(waited);
            self.run_task(task);
        }
    }

    fn run_task(&self, task: Task) {
        let header = task.header();
        // Queued tasks have SCHEDULED set and RUNNING clear: flip both. Adding
        // RUNNING - SCHEDULED does exactly that (no carry past RUNNING), in one `xadd`
        // where `fetch_xor` would be a compare-and-swap loop.
        let previous = header
            .state
            .fetch_add(RUNNING - SCHEDULED, Ordering::AcqRel);
        debug_assert_eq!(previous & (SCHEDULED | RUNNING | COMPLETE), SCHEDULED);
        if previous & ABORTED != 0 {
            task.cancel();
            self.finish(task);
            return;
        }
        // A waker borrowing the queue's claim on the task: no refcount traffic.
        let waker = waker::borrowed_waker(task);
        let mut cx = Context::from_waker(&waker);
        if self.timed_poll(Some(task), || task.poll(&mut cx)) {
            self.finish(task);
        } else if header.state.fetch_sub(RUNNING, Ordering::AcqRel) & SCHEDULED != 0 {
            // Woken while it was running (RUNNING is set, so subtracting it cleared just
            // that bit): back of the queue.
            self.push(task);
        }
    }

    /// Records the task's end, hands the output to its `JoinHandle` and drops the
    /// executor's reference.
    fn finish(&self, task: Task) {
        let header = task.header();
        // HAS_HANDLE and COMPLETE change only on this thread, so this load is exact.
        let has_handle = header.state.load(Ordering::Acquire) & HAS_HANDLE != 0;
        if !has_handle {
            task.drop_stage(); // nobody will read the output
        }
        // SAFETY: `slot` was written at spawn on this thread and never changes.
        let slot = unsafe { *header.slot.get() };
        self.live.borrow_mut().remove(slot);
        bump(&self.stats.counters.tasks_finished, 1);
        let waiter = if has_handle {
            // SAFETY: join_waker is only used on the loop thread; the handle's
            // reference keeps the task alive past the release below.
            unsafe { (*header.join_waker.get()).take() }
        } else {
            None
        };
        // One atomic step: RUNNING -> COMPLETE, and drop the live slot's reference.
        // (RUNNING is set and COMPLETE clear, so the arithmetic flips exactly those.)
        task.transition_and_release(RUNNING + REF_ONE - COMPLETE);
        if let Some(waker) = waiter {
            waker.wake();
        }
    }

    /// Polls with a fresh coop budget, times the poll, and reports it if slow.
    fn timed_poll<R>(&self, task: Option<Task>, poll: impl FnOnce() -> R) -> R {
        // With tracing and watching off, this branch is all they cost.
        if self.recording.get() {
            return self.recorded_poll(task, poll);
        }
        self.measured_poll(task, poll)
    }

    /// A poll recorded in the trace and the watch ring, whichever is on.
    #[inline(never)]
    fn recorded_poll<R>(&self, task: Option<Task>, poll: impl FnOnce() -> R) -> R {
        let id = task.map_or(0, |t| t.header().id);
        let trace_start = self.tracer.as_ref().map(Tracer::now);
        let ring_start = self.ring.borrow().as_ref().map(Ring::now_us);
        let result = self.measured_poll(task, poll);
        if let (Some(tracer), Some(start)) = (&self.tracer, trace_start) {
            tracer.poll(id, start);
        }
        if let (Some(ring), Some(start)) = (&mut *self.ring.borrow_mut(), ring_start) {
            let micros = ring.now_us().saturating_sub(start);
            ring.push(id, start, LoopEventKind::Poll { micros });
        }
        result
    }

    /// Records a wake in the trace and the watch ring, whichever is on.
    #[cold]
    fn record_wake(&self, id: u64, source: WakeSource) {
        if let Some(tracer) = &self.tracer {
            tracer.wake(id, source);
        }
        if let Some(ring) = &mut *self.ring.borrow_mut() {
            let at = ring.now_us();
            ring.push(id, at, LoopEventKind::Wake(source));
        }
    }

    /// Runs `poll` with a fresh budget, then times it and counts it. Inlined into the
    /// loop, since it runs once per poll.
    #[inline(always)]
    fn measured_poll<R>(&self, task: Option<Task>, poll: impl FnOnce() -> R) -> R {
        // The budget is reset per poll; it is lifted when `block_on` returns.
        budget::reset();
        let result = poll();
        let counters = &self.stats.counters;
        bump(&counters.polls, 1);
        let now = coarse_now();
        let elapsed = now.saturating_sub(self.clock.replace(now));
        // Read as ticks of the coarse clock, a poll's length is right on average (a
        // 1 µs poll reads 0 mostly, one tick when it straddles one): the histogram
        // and the per-task time keep the raw figure.
        counters.poll_duration.record(elapsed);
        if let Some(task) = task {
            // SAFETY: `slot` was written at spawn on this thread and never changes.
            let slot = unsafe { *task.header().slot.get() };
            if let Some(live) = self.live.borrow_mut().get_mut(slot) {
                live.polls += 1;
                live.held_ns += elapsed;
            }
        }
        // The longest poll is a bound it certainly reached: one tick less.
        let held = elapsed.saturating_sub(self.clock_tick_ns);
        if held > counters.longest_poll_ns.load(Relaxed) {
            counters.longest_poll_ns.store(held, Relaxed);
        }
        if held >= self.slow_poll_ns {
            self.report_slow_poll(task, held);
        }
        // Usually empty: nothing to drop.
        drop(self.poll_detail.take());
        result
    }

    #[cold]
    fn report_slow_poll(&self, task: Option<Task>, held_ns: u64) {
        bump(&self.stats.counters.slow_polls, 1);
        let slow = SlowPoll {
            task_id: task.map_or(0, |t| t.header().id),
            task_name: task.and_then(|t| t.header().name.as_deref().cloned()),
            held: Duration::from_nanos(held_ns),
            threshold: self.config.slow_poll_threshold.unwrap_or_default(),
            // Taken, not borrowed: the poll is over and the detail with it.
            detail: self.poll_detail.take().map(|d| d.to_string()),
            loop_delay: self.stats.counters.loop_delay.snapshot(),
            loop_name: self.config.name.clone(),
        };
        (self.config.on_slow_poll)(&slow);
        let mut recent = self.recent_slow.borrow_mut();
        if recent.len() == RECENT_SLOW_POLLS {
            recent.pop_front();
        }
        recent.push_back(slow);
        drop(recent);
        // The report itself may be slow (a blocked stderr); do not blame the next poll.
        self.clock.set(coarse_now());
    }

    /// Between batches: sleep if nothing is ready, else look at I/O and timers without
    /// blocking; then collect remote wakes and requeue yielded tasks.
    fn turn(&self, main_woken: &AtomicBool) {
        let counters = &self.stats.counters;
        bump(&counters.loop_turns, 1);
        // `clock` was read as the last poll ended: the loop is about to enter the poll.
        let away = self.clock.get().saturating_sub(self.park_returned.get());
        counters.loop_delay.record(away);
        let idle = self.queue.borrow().is_empty()
            && self.deferred.borrow().is_empty()
            && !main_woken.load(Ordering::SeqCst);
        if idle && self.shared.begin_park(main_woken) {
            self.park.borrow_mut().park(None);
            self.shared.end_park();
        } else {
            self.park.borrow_mut().park(Some(Duration::ZERO));
        }
        let now = coarse_now();
        self.park_returned.set(now);
        self.clock.set(now);
        self.take_remote_wakes();
        self.wake_deferred();
    }

    fn take_remote_wakes(&self) {
        let mut queue = self.queue.borrow_mut();
        let before = queue.len();
        let woken_at = self.clock.get();
        let n = self
            .shared
            .drain_remote(|task| queue.push_back(Queued { task, woken_at }));
        if n == 0 {
            return;
        }
        bump(&self.stats.counters.remote_wakes, n as u64);
        if self.recording.get() {
            for queued in queue.range(before..) {
                self.record_wake(queued.task.header().id, WakeSource::Remote);
            }
        }
    }

    fn wake_deferred(&self) {
        let mut batch = std::mem::take(&mut *self.deferred.borrow_mut());
        if batch.is_empty() {
            return;
        }
        let source = self.wake_source.replace(WakeSource::Yield);
        for waker in batch.drain(..) {
            waker.wake();
        }
        self.wake_source.set(source);
        let mut deferred = self.deferred.borrow_mut();
        if deferred.is_empty() {
            *deferred = batch; // keep the capacity
        }
    }

    fn spawn<F>(&self, future: F, name: Option<TaskName>) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let id = self.next_id.replace(self.next_id.get() + 1);
        if let (Some(tracer), Some(name)) = (&self.tracer, &name) {
            tracer.name_task(id, name);
        }
        // Two counted references: the live slot and the JoinHandle.
        let task = Task::allocate(future, Arc::clone(&self.shared), id, name, 2);
        let slot = self.live.borrow_mut().insert(LiveTask::new(task));
        // SAFETY: the task is not yet visible to anyone else.
        unsafe { *task.header().slot.get() = slot };
        self.push(task);
        bump(&self.stats.counters.tasks_spawned, 1);
        JoinHandle::new(task)
    }

    /// Queues a task, stamped with the time of the poll or turn in progress.
    fn push(&self, task: Task) {
        let woken_at = self.clock.get();
        self.queue.borrow_mut().push_back(Queued { task, woken_at });
    }

    fn tasks(&self) -> Vec<TaskInfo> {
        self.live.borrow().iter().map(|(_, t)| t.info()).collect()
    }

    fn stats(&self) -> Stats {
        self.stats.snapshot()
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        let core = &*self.core;
        core.shared.close();
        core.stats.pool.release();
        core.queue.borrow_mut().clear();
        drop(std::mem::take(&mut *core.deferred.borrow_mut()));
        // Drop every unfinished future here, on the loop thread. Dropping one may
        // spawn nothing (no runtime is current) but may free other tasks' handles.
        loop {
            let tasks: Vec<Task> = core.live.borrow_mut().drain().map(|t| t.task).collect();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                task.cancel();
                let header = task.header();
                let previous = header.state.fetch_or(COMPLETE, Ordering::AcqRel);
                if previous & HAS_HANDLE == 0 {
                    task.drop_stage();
                }
                // SAFETY: loop thread; the waiter belongs to this dying executor.
                drop(unsafe { (*header.join_waker.get()).take() });
                task.dec_ref();
            }
        }
        core.queue.borrow_mut().clear();
        if let Some(tracer) = &core.tracer {
            // A pool thread records its job's span just after handing over the result:
            // give jobs still counted as running a moment (bounded) to record it.
            let deadline = std::time::Instant::now() + Duration::from_millis(200);
            while core.stats.pool.counts().1 > 0 && std::time::Instant::now() < deadline {
                std::thread::yield_now();
            }
            match tracer.write() {
                Ok(()) => crate::log_info!(
                    "simmer",
                    "simmer: trace written to {}",
                    tracer.path().display()
                ),
                Err(e) => crate::log_error!("simmer", "simmer: {e}"),
            }
        }
    }
}

/// Marks this thread as running `core` for the duration of a `block_on`.
struct Enter {
    previous: *const Core,
}

impl Enter {
    fn new(core: &Core) -> Enter {
        let previous = CURRENT.with(|current| current.replace(core));
        if !previous.is_null() {
            CURRENT.with(|current| current.set(previous));
            panic!(
                "block_on called inside a running simmer runtime: it would block the loop \
                 that drives every task; use `.await` or `simmer::spawn` instead"
            );
        }
        Enter { previous }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        budget::unlimited();
        CURRENT.with(|current| current.set(self.previous));
    }
}

/// The waker of the `block_on` future: a flag the loop checks each turn.
struct MainWake {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        // On the loop's own thread (e.g. a timer firing inside the reactor's turn) the
        // loop is about to look at the flag anyway: no eventfd write.
        let on_loop = with_core(|core| Arc::ptr_eq(&core.shared, &self.shared));
        if on_loop != Some(true) {
            self.shared
                .remote_main_wakes
                .fetch_add(1, Ordering::Relaxed);
            self.shared.unpark_if_parked();
        }
    }
}

/// Runs `f` with the current executor's core, if this thread is inside `block_on`.
fn with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| {
            let core = current.get();
            // SAFETY: CURRENT is non-null only while `block_on` on this thread borrows
            // the core (the Enter guard resets it before the borrow ends).
            (!core.is_null()).then(|| f(unsafe { &*core }))
        })
        .ok()
        .flatten()
}

/// Queues a woken task: locally when on its loop's thread, else via the shared queue.
fn enqueue_woken(task: Task) {
    let queued_here = with_core(|core| {
        if !ptr::eq(Arc::as_ptr(&core.shared), Arc::as_ptr(&task.header().owner)) {
            return false;
        }
        core.push(task);
        bump(&core.stats.counters.local_wakes, 1);
        if core.recording.get() {
            core.record_wake(task.header().id, core.wake_source.get());
        }
        true
    });
    if queued_here != Some(true) {
        task.header().owner.push_remote(task);
    }
}

/// The waker vtable of every task (one static: see [`Schedule::waker_vtable`]).
static TASK_WAKER: RawWakerVTable = waker::vtable::<Shared>();

impl Schedule for Shared {
    fn schedule(task: Task) {
        enqueue_woken(task);
    }

    fn waker_vtable() -> &'static RawWakerVTable {
        &TASK_WAKER
    }
}

/// Parks a yielding task's waker until after the next I/O and timer check.
pub(crate) fn defer(waker: &Waker) {
    let deferred = with_core(|core| core.deferred.borrow_mut().push(waker.clone()));
    if deferred.is_none() {
        // Not on a simmer loop: plain wake, the caller's executor decides.
        waker.wake_by_ref();
    }
}

/// The current runtime's offload pool.
pub(crate) fn current_pool() -> Option<Arc<Pool>> {
    with_core(|core| Arc::clone(&core.stats.pool))
}

/// Spawns a task on the current runtime; it starts running at the loop's next turn.
///
/// The future need not be `Send`: it never leaves this thread. Dropping the returned
/// handle detaches the task.
///
/// # Panics
/// When called outside `block_on` (there is no loop to run the task).
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    spawn_inner(future, None)
}

/// Like [`spawn`], with a name shown in slow-poll warnings and traces.
pub fn spawn_named<F>(name: impl Into<String>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    spawn_inner(future, Some(Box::new(name.into())))
}

fn spawn_inner<F: Future + 'static>(future: F, name: Option<TaskName>) -> JoinHandle<F::Output> {
    match with_core(move |core| core.spawn(future, name)) {
        Some(handle) => handle,
        None => panic!(
            "simmer::spawn called outside a runtime: call it from a future driven by \
             simmer::block_on (or Runtime::block_on)"
        ),
    }
}

/// Says what the poll in progress is doing (an HTTP server passes the request line), for
/// the slow-poll warning. Call it from inside a future's `poll`; it lasts until that
/// poll ends and costs nothing unless the poll turns out slow.
#[inline]
pub fn describe_current_poll(detail: Rc<dyn fmt::Display>) {
    with_core(|core| core.poll_detail.set(Some(detail)));
}

/// The current runtime's statistics, or `None` outside a runtime.
pub fn stats() -> Option<Stats> {
    with_core(Core::stats)
}

/// The current runtime's unfinished tasks with their names, polls and time held, or
/// `None` outside a runtime.
pub fn tasks() -> Option<Vec<TaskInfo>> {
    with_core(Core::tasks)
}

/// The current runtime's last few slow polls (up to 16), oldest first.
pub fn recent_slow_polls() -> Option<Vec<SlowPoll>> {
    with_core(|core| core.recent_slow.borrow().iter().cloned().collect())
}

/// Starts keeping the current runtime's recent polls and wakes in a ring of
/// [`crate::watch::RING`] entries (idempotent; it stays on); returns false outside a
/// runtime. Until someone calls this, watching costs nothing.
pub fn watch_events() -> bool {
    with_core(|core| {
        core.ring.borrow_mut().get_or_insert_with(Ring::new);
        core.recording.set(true);
    })
    .is_some()
}

/// The polls and wakes recorded from `seq` on (or from the oldest still kept), and the
/// `seq` to pass next time; `None` outside a runtime or before [`watch_events`].
pub fn events_since(seq: u64) -> Option<(Vec<LoopEvent>, u64)> {
    with_core(|core| core.ring.borrow().as_ref().map(|ring| ring.since(seq))).flatten()
}

/// True when this thread is inside a simmer `block_on`.
pub fn in_runtime() -> bool {
    with_core(|_| ()).is_some()
}

/// Hooks through which the reactor reports what it did; they feed [`Stats`] and the
/// trace. They do nothing outside a runtime.
pub mod report {
    use super::*;

    /// `n` I/O readiness events were delivered.
    pub fn io_events(n: u64) {
        with_core(|core| bump(&core.stats.counters.io_events, n));
    }

    /// `n` timers fired.
    pub fn timers_fired(n: u64) {
        with_core(|core| bump(&core.stats.counters.timers_fired, n));
    }

    /// A timer fired `late_ns` nanoseconds past its deadline.
    pub fn timer_lateness(late_ns: u64) {
        with_core(|core| core.stats.counters.timer_lateness.record(late_ns));
    }

    /// Runs `f` (which wakes tasks) with `source` recorded as the reason in the trace.
    pub fn waking_from<R>(source: WakeSource, f: impl FnOnce() -> R) -> R {
        let previous = with_core(|core| core.wake_source.replace(source));
        let result = f();
        if let Some(previous) = previous {
            with_core(|core| core.wake_source.set(previous));
        }
        result
    }

    /// The coarse clock's resolution (the precision of `Stats::longest_poll`).
    pub fn poll_clock_resolution() -> Duration {
        resolution()
    }
}
