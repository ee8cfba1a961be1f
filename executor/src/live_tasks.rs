//! What the loop keeps per task beside the task itself: its run-queue entry with the
//! time it was woken, and its slot in the list of live tasks with its poll figures.

use std::time::Duration;

use crate::shared::Task;

/// A run-queue entry: the task and the coarse time it was queued (for the
/// wake-to-poll histogram). Sixteen bytes; no reference count of its own (see
/// `executor.rs`).
pub(crate) struct Queued {
    pub(crate) task: Task,
    pub(crate) woken_at: u64,
}

/// An unfinished task's slot in the executor's live list.
pub(crate) struct LiveTask {
    /// The slot's counted reference.
    pub(crate) task: Task,
    /// Polls so far.
    pub(crate) polls: u64,
    /// Time those polls held the loop, coarse clock, in ns.
    pub(crate) held_ns: u64,
}

impl LiveTask {
    pub(crate) fn new(task: Task) -> LiveTask {
        LiveTask {
            task,
            polls: 0,
            held_ns: 0,
        }
    }

    pub(crate) fn info(&self) -> TaskInfo {
        let header = self.task.header();
        TaskInfo {
            id: header.id,
            name: header.name.as_deref().cloned(),
            polls: self.polls,
            held: Duration::from_nanos(self.held_ns),
        }
    }
}

/// One unfinished task, as [`crate::tasks`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task's number.
    pub id: u64,
    /// Its name, if it was spawned with [`crate::spawn_named`].
    pub name: Option<String>,
    /// Times it was polled.
    pub polls: u64,
    /// Time its polls held the loop in all (coarse clock).
    pub held: Duration,
}
