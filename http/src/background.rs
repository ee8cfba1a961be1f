//! Background tasks: work a handler schedules to run after its response has been
//! written (FastAPI's `BackgroundTasks`, Starlette's `BackgroundTask`).
//!
//! ```no_run
//! use simmer_http::{BackgroundTasks, Router};
//!
//! async fn signup(tasks: BackgroundTasks) -> &'static str {
//!     tasks.add(async { /* send the welcome mail, on the loop */ });
//!     tasks.add_sync(|| { /* write the audit file, on the offload pool */ });
//!     "welcome"
//! }
//!
//! let router = Router::new().post("/signup", signup);
//! ```
//!
//! The tasks wait in the request's connection. Once the connection has written the
//! response, it starts one task on the loop that runs them in the order they were
//! added, each after the one before has finished: an async task on the loop, a
//! `add_sync` one on the offload pool. A task that fails (returns `Err`) or panics is
//! logged, and the next one still runs; the response has already gone, so nothing of
//! it reaches the client.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use crate::error::HttpError;
use crate::extract::FromRequestParts;
use crate::handler::CatchPanic;
use crate::request::Request;

/// Where a request's tasks wait for its response: in its connection (or, for
/// [`crate::TestClient`], its in-memory stand-in). Empty unless a handler asked.
pub(crate) type BackgroundSlot = Cell<Option<Rc<dyn Scheduled>>>;

/// A request's tasks as the connection sees them. A trait object, so that a program
/// whose handlers never schedule a task links none of the code that runs them (the
/// connection only calls through the vtable that [`BackgroundTasks`] makes).
pub(crate) trait Scheduled {
    /// The list itself, to add to.
    fn queue(self: Rc<Self>) -> Rc<TaskQueue>;

    /// The response for `request` (`GET /path`) is written: starts the tasks on the
    /// loop, in a task of their own.
    fn release(self: Rc<Self>, request: &dyn fmt::Display);

    /// Runs the tasks in place, to the last (for [`crate::TestClient`], which answers
    /// once they are done, as Starlette's does).
    fn run_now(self: Rc<Self>, request: &dyn fmt::Display) -> Pin<Box<dyn Future<Output = ()>>>;
}

/// A handle on the request's background tasks: an extractor (`tasks: BackgroundTasks`)
/// or [`Request::background`]. Clones add to the same list.
#[derive(Clone)]
pub struct BackgroundTasks {
    queue: Rc<TaskQueue>,
}

/// What a background task ends with: `()`, or a `Result` whose error is logged.
pub trait TaskOutcome {
    /// `Err` with the message to log, if the task failed.
    fn into_outcome(self) -> Result<(), String>;
}

impl TaskOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<T, E: fmt::Display> TaskOutcome for Result<T, E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map(drop).map_err(|e| e.to_string())
    }
}

/// One scheduled task.
enum Job {
    /// A future, polled on the loop.
    Local(Pin<Box<dyn Future<Output = Result<(), String>>>>),
    /// A plain function, run on the offload pool.
    Pool(Box<dyn FnOnce() -> Result<(), String> + Send>),
}

/// The tasks of one request.
#[derive(Default)]
pub(crate) struct TaskQueue {
    jobs: RefCell<VecDeque<Job>>,
    /// The response is written (or there is none to wait for): tasks may run.
    released: Cell<bool>,
    /// A runner is working through `jobs`.
    running: Cell<bool>,
    /// `background tasks of GET /path`, for the log and the task list.
    name: RefCell<String>,
}

impl BackgroundTasks {
    /// The request's list, made on first use.
    pub(crate) fn of(req: &Request) -> BackgroundTasks {
        let queue = match req.background_slot() {
            Some(slot) => {
                let queue = slot.take().map_or_else(Rc::default, Scheduled::queue);
                slot.set(Some(Rc::clone(&queue) as Rc<dyn Scheduled>));
                queue
            }
            // A request that came from no connection has no response to wait for.
            None => {
                let queue = Rc::new(TaskQueue::default());
                *queue.name.borrow_mut() = "background tasks".to_string();
                queue.released.set(true);
                queue
            }
        };
        BackgroundTasks { queue }
    }

    /// Schedules `task` to run on the loop after the response is written. Its output
    /// is `()` or a `Result`; an `Err` is logged.
    pub fn add<F>(&self, task: F)
    where
        F: Future + 'static,
        F::Output: TaskOutcome,
    {
        let job = async move { task.await.into_outcome() };
        self.queue.push(Job::Local(Box::pin(job)));
    }

    /// Schedules a plain function to run on the offload pool after the response is
    /// written (FastAPI runs a `def` background task in its thread pool): for blocking
    /// work. Its output is `()` or a `Result`; an `Err` is logged.
    pub fn add_sync<F, R>(&self, task: F)
    where
        F: FnOnce() -> R + Send + 'static,
        R: TaskOutcome,
    {
        self.queue
            .push(Job::Pool(Box::new(move || task().into_outcome())));
    }

    /// How many tasks wait to run.
    pub fn pending(&self) -> usize {
        self.queue.jobs.borrow().len()
    }
}

impl fmt::Debug for BackgroundTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundTasks")
            .field("pending", &self.pending())
            .finish()
    }
}

/// The request's background tasks, as an argument of any handler.
impl FromRequestParts for BackgroundTasks {
    fn from_request_parts(req: &Request) -> Result<Self, HttpError> {
        Ok(BackgroundTasks::of(req))
    }
}

impl Scheduled for TaskQueue {
    fn queue(self: Rc<Self>) -> Rc<TaskQueue> {
        self
    }

    fn release(self: Rc<Self>, request: &dyn fmt::Display) {
        *self.name.borrow_mut() = format!("background tasks of {request}");
        self.released.set(true);
        if !self.jobs.borrow().is_empty() && !self.running.get() {
            self.spawn_runner();
        }
    }

    fn run_now(self: Rc<Self>, request: &dyn fmt::Display) -> Pin<Box<dyn Future<Output = ()>>> {
        *self.name.borrow_mut() = format!("background tasks of {request}");
        self.released.set(true);
        let idle = !self.running.replace(true);
        Box::pin(async move {
            if idle {
                self.run().await;
            }
        })
    }
}

impl TaskQueue {
    fn push(self: &Rc<Self>, job: Job) {
        self.jobs.borrow_mut().push_back(job);
        if self.released.get() && !self.running.get() {
            self.spawn_runner(); // added after the response went: runs at once
        }
    }

    fn spawn_runner(self: &Rc<Self>) {
        self.running.set(true);
        let queue = Rc::clone(self);
        let name = self.name.borrow().clone();
        drop(simmer_executor::spawn_named(name, queue.run()));
    }

    /// Runs the tasks one after another; each failure or panic is logged.
    async fn run(self: Rc<Self>) {
        loop {
            let next = self.jobs.borrow_mut().pop_front();
            let Some(job) = next else { break };
            let outcome = match job {
                Job::Local(future) => CatchPanic(future)
                    .await
                    .unwrap_or_else(|panic| Err(format!("task panicked: {panic}"))),
                Job::Pool(work) => match simmer_executor::offload(work).await {
                    Ok(outcome) => outcome,
                    Err(e) => Err(e.to_string()),
                },
            };
            if let Err(e) = outcome {
                let name = self.name.borrow();
                simmer_executor::log_error!("simmer_http", "simmer-http: {name} failed: {e}");
            }
        }
        self.running.set(false);
    }
}
