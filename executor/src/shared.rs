//! The part of the executor other threads may touch: the remote run queue and the
//! "loop is parked" flag that decides whether a remote wake needs a syscall.
//!
//! The handshake that loses no wake: the loop stores `parked = true`, then looks at
//! `has_remote`; a waker stores its task and `has_remote = true`, then swaps `parked`
//! to false and unparks only if it was true. All four are `SeqCst`, so at least one
//! side sees the other's store. A burst of wakes while the loop runs costs no syscall.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use crate::park::Unpark;
use crate::task::TaskRef;

/// A task of a simmer executor: owned by its loop's `Shared`.
pub(crate) type Task = TaskRef<Shared>;

/// Thread-safe executor state, shared by the loop and every task's header (it is the
/// tasks' owner: `executor.rs` implements `waker::Schedule` for it).
pub(crate) struct Shared {
    /// Tasks woken from other threads, waiting to join the local run queue.
    remote: Mutex<RemoteQueue>,
    /// Cheap check for "remote queue not empty" without taking the lock.
    has_remote: AtomicBool,
    /// The loop is parked (or about to be); a wake must unpark it.
    parked: AtomicBool,
    /// Ends the park (the reactor writes its eventfd here).
    unparker: Arc<dyn Unpark>,
    /// How many times the loop was unparked from another thread.
    pub(crate) unparks: AtomicU64,
    /// Wakes of the `block_on` future from other threads (task wakes are counted as
    /// they are drained from the remote queue).
    pub(crate) remote_main_wakes: AtomicU64,
}

struct RemoteQueue {
    tasks: Vec<Task>,
    /// Set when the executor shuts down: later wakes are ignored.
    closed: bool,
}

impl Shared {
    pub(crate) fn new(unparker: Arc<dyn Unpark>) -> Shared {
        Shared {
            remote: Mutex::new(RemoteQueue {
                tasks: Vec::new(),
                closed: false,
            }),
            has_remote: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            unparker,
            unparks: AtomicU64::new(0),
            remote_main_wakes: AtomicU64::new(0),
        }
    }

    /// Queues a task woken on another thread and unparks the loop if it sleeps.
    pub(crate) fn push_remote(&self, task: Task) {
        {
            let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
            if remote.closed {
                return;
            }
            remote.tasks.push(task);
            self.has_remote.store(true, SeqCst);
        }
        self.unpark_if_parked();
    }

    /// Unparks the loop only if it is parked: at most one syscall per park.
    pub(crate) fn unpark_if_parked(&self) {
        if self.parked.swap(false, SeqCst) {
            self.unparks
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.unparker.unpark();
        }
    }

    /// Loop side of the handshake: announce the park, then return whether it may
    /// sleep (no remote wake arrived and `other_work` is false).
    pub(crate) fn begin_park(&self, other_work: &AtomicBool) -> bool {
        self.parked.store(true, SeqCst);
        if self.has_remote.load(SeqCst) || other_work.load(SeqCst) {
            self.parked.store(false, SeqCst);
            return false;
        }
        true
    }

    /// Loop side: the park is over.
    pub(crate) fn end_park(&self) {
        self.parked.store(false, SeqCst);
    }

    /// Hands remotely woken tasks to `take`, in wake order; returns how many.
    pub(crate) fn drain_remote(&self, mut take: impl FnMut(Task)) -> usize {
        if !self.has_remote.load(SeqCst) {
            return 0;
        }
        let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        self.has_remote.store(false, SeqCst);
        let n = remote.tasks.len();
        remote.tasks.drain(..).for_each(&mut take);
        n
    }

    /// Stops accepting remote wakes and forgets queued ones (the executor is going away).
    pub(crate) fn close(&self) {
        let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        remote.closed = true;
        remote.tasks.clear();
        self.has_remote.store(false, SeqCst);
    }
}
