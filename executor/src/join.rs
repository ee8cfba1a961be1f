//! `JoinHandle<T>`: the awaitable result of a spawned task (asyncio's `Task`).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use crate::error::JoinError;
use crate::shared::Task;
use crate::task::{ABORTED, COMPLETE, HAS_HANDLE, REF_ONE};

/// Owned permission to await a spawned task's output.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task panicked or was
/// aborted. Dropping it detaches the task: it keeps running and its output is dropped.
/// It is `!Send`: tasks and their handles live on the loop's thread.
#[must_use = "dropping a JoinHandle detaches the task; await it to get its output"]
pub struct JoinHandle<T> {
    task: Task,
    /// The output was moved out: nothing is left in the task to drop.
    output_taken: bool,
    _not_send: PhantomData<Rc<T>>,
}

impl<T> JoinHandle<T> {
    /// Wraps a task whose counted references include one for this handle.
    pub(crate) fn new(task: Task) -> JoinHandle<T> {
        JoinHandle {
            task,
            output_taken: false,
            _not_send: PhantomData,
        }
    }

    /// Asks the task to stop: its future is dropped the next time the loop reaches it,
    /// and awaiting this handle then gives `JoinError::Aborted`. No effect once finished.
    pub fn abort(&self) {
        let header = self.task.header();
        if header.state.fetch_or(ABORTED, Ordering::AcqRel) & COMPLETE == 0 {
            crate::waker::schedule(self.task);
        }
    }

    /// True once the task has finished (completed, panicked or been aborted).
    pub fn is_finished(&self) -> bool {
        self.task.header().state.load(Ordering::Acquire) & COMPLETE != 0
    }

    /// The task's number, as shown in diagnostics and traces.
    pub fn id(&self) -> u64 {
        self.task.header().id
    }

    /// The task's name, if it was spawned with one.
    pub fn name(&self) -> Option<&str> {
        self.task.header().name.as_deref().map(String::as_str)
    }
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.task.header();
        if header.state.load(Ordering::Acquire) & COMPLETE != 0 {
            let mut output = Poll::Pending;
            // SAFETY: JoinHandle is !Send, so this is the loop thread; T is the output
            // type the handle was created with; the task is COMPLETE.
            unsafe { self.task.take_output(&mut output) };
            self.output_taken = true;
            return output;
        }
        // SAFETY: join_waker is only touched on the loop thread (JoinHandle is !Send and
        // the executor completes tasks on the loop thread), never re-entrantly.
        let slot = unsafe { &mut *header.join_waker.get() };
        match slot {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = self.task.header();
        // COMPLETE changes only on this (the loop) thread, so this load is exact.
        if header.state.load(Ordering::Acquire) & COMPLETE != 0 && !self.output_taken {
            self.task.drop_stage(); // nobody will read the output now
        }
        // SAFETY: loop thread (see poll).
        drop(unsafe { (*header.join_waker.get()).take() });
        // One atomic step: clear HAS_HANDLE and drop this handle's reference.
        self.task.transition_and_release(HAS_HANDLE + REF_ONE);
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}
