//! The task: one heap allocation holding a header, the future and later its output.
//!
//! A spawned future lives in a [`TaskCell<F>`]. Everything that refers to the task — the
//! run queue, wakers, the `JoinHandle`, the executor's list of live tasks — holds a
//! [`TaskRef`]: a pointer to the type-erased [`Header`] at the start of that cell. The
//! header's vtable knows the concrete future type, so the executor can poll, cancel and
//! free the task without knowing `F`.
//!
//! Threading: the future and its output are touched only on the loop thread (they need
//! not be `Send`). Wakers can travel to other threads, so the header's `state` and
//! `refs` are atomics and the header never exposes the future to them.

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::join::JoinError;
use crate::shared::Shared;

/// The task sits in a run queue, or whoever set this bit is about to put it there.
pub(crate) const SCHEDULED: usize = 1;
/// The loop is polling the task right now; a wake only sets `SCHEDULED`.
pub(crate) const RUNNING: usize = 1 << 1;
/// The future is gone; the output (if any) waits for the `JoinHandle`.
pub(crate) const COMPLETE: usize = 1 << 2;
/// `JoinHandle::abort` asked for the future to be dropped at its next turn.
pub(crate) const ABORTED: usize = 1 << 3;
/// A `JoinHandle` still exists, so the output must be kept.
pub(crate) const HAS_HANDLE: usize = 1 << 4;
/// One counted reference. The count lives in the same word, above the flag bits, so a
/// state change and a reference drop can be one atomic operation.
pub(crate) const REF_ONE: usize = 1 << 6;

/// A task's name. A `Box<String>` is one pointer wide where `Box<str>` is two: it keeps
/// the header of every task (named or not) 8 bytes smaller, at the price of a second
/// allocation for named tasks only.
#[allow(clippy::box_collection)]
pub(crate) type TaskName = Box<String>;

/// How many counted references a state word holds.
pub(crate) fn ref_count(state: usize) -> usize {
    state / REF_ONE
}

/// The type-erased start of every task allocation.
pub(crate) struct Header {
    /// Flags (`SCHEDULED | RUNNING | COMPLETE | ABORTED | HAS_HANDLE`) in the low bits;
    /// above them, in units of `REF_ONE`, the counted references: wakers, the
    /// `JoinHandle` and the executor's live-task slot. Run-queue entries are not
    /// counted: a queued task is always live (see `executor.rs`).
    pub(crate) state: AtomicUsize,
    /// Functions that know the concrete future type.
    vtable: &'static Vtable,
    /// The executor's thread-safe half: where wakes from other threads go.
    pub(crate) shared: Arc<Shared>,
    /// Number shown in diagnostics; unique within the process.
    pub(crate) id: u64,
    /// Optional name shown in diagnostics.
    pub(crate) name: Option<TaskName>,
    /// Index in the executor's live-task slab. Written on the loop thread only.
    pub(crate) slot: UnsafeCell<usize>,
    /// Waker of whoever awaits the `JoinHandle`. Loop thread only.
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

/// Per-future-type operations, reached through `Header::vtable`.
struct Vtable {
    /// Polls the future; returns true once it has finished (output stored).
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> bool,
    /// Drops the future and stores `JoinError::Aborted` as the output.
    cancel: unsafe fn(NonNull<Header>),
    /// Moves the output into `*dst`, a `Poll<Result<T, JoinError>>`.
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops whatever the cell still holds (future or output).
    drop_stage: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    dealloc: unsafe fn(NonNull<Header>),
}

/// What the cell holds over the task's life.
enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The allocation: header first (`repr(C)`), so a `*Header` is also a `*TaskCell<F>`.
#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// A pointer to a task's header. Copying it does not touch the refcount; code that
/// keeps one must own a counted reference (see `Header::refs`) or know the task is live.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskRef(NonNull<Header>);

// SAFETY: a TaskRef only reaches the header's atomics and `shared` from other threads;
// the non-Send future is touched through it only on the loop thread (enforced by the
// executor, which is the only code that calls `poll`, `cancel` and friends).
unsafe impl Send for TaskRef {}

impl TaskRef {
    /// Allocates a task holding `future`, with `refs` counted references already taken,
    /// marked `SCHEDULED` (the caller queues it) and `HAS_HANDLE`.
    pub(crate) fn allocate<F: Future + 'static>(
        future: F,
        shared: Arc<Shared>,
        id: u64,
        name: Option<TaskName>,
        refs: usize,
    ) -> TaskRef {
        let cell = Box::new(TaskCell {
            header: Header {
                state: AtomicUsize::new(SCHEDULED | HAS_HANDLE | (refs * REF_ONE)),
                vtable: vtable_for::<F>(),
                shared,
                id,
                name,
                slot: UnsafeCell::new(usize::MAX),
                join_waker: UnsafeCell::new(None),
            },
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        // SAFETY: Box::into_raw never returns null.
        TaskRef(unsafe { NonNull::new_unchecked(Box::into_raw(cell).cast::<Header>()) })
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: whoever holds a TaskRef keeps the task alive (see the type's doc).
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn as_ptr(self) -> *const Header {
        self.0.as_ptr()
    }

    /// # Safety
    /// `ptr` must come from `as_ptr` of a live task.
    pub(crate) unsafe fn from_ptr(ptr: *const Header) -> TaskRef {
        TaskRef(NonNull::new_unchecked(ptr as *mut Header))
    }

    /// Takes one more counted reference.
    pub(crate) fn inc_ref(self) {
        self.header().state.fetch_add(REF_ONE, Ordering::Relaxed);
    }

    /// Gives up one counted reference, freeing the task when it was the last.
    pub(crate) fn dec_ref(self) {
        self.transition_and_release(REF_ONE);
    }

    /// Subtracts `delta` (flag changes plus one `REF_ONE`) from the state in one atomic
    /// operation, freeing the task if that was the last reference. Returns the state
    /// before.
    pub(crate) fn transition_and_release(self, delta: usize) -> usize {
        let previous = self.header().state.fetch_sub(delta, Ordering::AcqRel);
        if ref_count(previous) == 1 {
            // SAFETY: that was the last reference; nobody can reach the task any more.
            unsafe { (self.header().vtable.dealloc)(self.0) }
        }
        previous
    }

    /// Polls the future. Loop thread only, with `RUNNING` set.
    /// Returns true when the task has finished (output or panic stored).
    pub(crate) fn poll(self, cx: &mut Context<'_>) -> bool {
        // SAFETY: the executor calls this on the loop thread, never re-entrantly.
        unsafe { (self.header().vtable.poll)(self.0, cx) }
    }

    /// Drops the future and records `Aborted`. Loop thread only.
    pub(crate) fn cancel(self) {
        // SAFETY: loop thread, not while the future is being polled.
        unsafe { (self.header().vtable.cancel)(self.0) }
    }

    /// Drops the future or the output, whichever the task holds. Loop thread only.
    pub(crate) fn drop_stage(self) {
        // SAFETY: loop thread, not while the future is being polled.
        unsafe { (self.header().vtable.drop_stage)(self.0) }
    }

    /// Moves the output out into `dst`.
    ///
    /// # Safety
    /// Loop thread; `T` must be the task's output type; the task must be `COMPLETE`.
    pub(crate) unsafe fn take_output<T>(self, dst: &mut Poll<Result<T, JoinError>>) {
        (self.header().vtable.take_output)(self.0, dst as *mut _ as *mut ())
    }

    /// A `Waker` for this task that borrows the caller's reference: no refcount change.
    /// The returned value must not outlive that reference.
    pub(crate) fn borrowed_waker(self) -> ManuallyDrop<Waker> {
        // SAFETY: ManuallyDrop keeps the borrowed waker from giving up a reference it
        // never took; cloning it takes a real one (see `waker.rs`).
        ManuallyDrop::new(unsafe { Waker::from_raw(crate::waker::raw_waker(self.as_ptr())) })
    }
}

fn vtable_for<F: Future + 'static>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F>,
        cancel: cancel::<F>,
        take_output: take_output::<F>,
        drop_stage: drop_stage::<F>,
        dealloc: dealloc::<F>,
    }
}

/// # Safety
/// `ptr` must point at a live `TaskCell<F>`, accessed from the loop thread only.
unsafe fn stage<'a, F: Future>(ptr: NonNull<Header>) -> &'a mut Stage<F> {
    &mut *(*ptr.cast::<TaskCell<F>>().as_ptr()).stage.get()
}

unsafe fn poll<F: Future>(ptr: NonNull<Header>, cx: &mut Context<'_>) -> bool {
    let stage = stage::<F>(ptr);
    let Stage::Running(future) = stage else {
        return true;
    };
    // SAFETY: the future lives inside the heap cell and is never moved until dropped.
    let future = Pin::new_unchecked(future);
    let result = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(Poll::Pending) => return false,
        Ok(Poll::Ready(output)) => Ok(output),
        Err(payload) => Err(JoinError::Panic(panic_message(payload))),
    };
    *stage = Stage::Finished(result);
    true
}

unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    let stage = stage::<F>(ptr);
    if let Stage::Running(_) = stage {
        // A Drop impl that panics must not take the loop down with it.
        let _ = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
        *stage = Stage::Finished(Err(JoinError::Aborted));
    }
}

unsafe fn take_output<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    let dst = &mut *(dst as *mut Poll<Result<F::Output, JoinError>>);
    match std::mem::replace(stage::<F>(ptr), Stage::Consumed) {
        Stage::Finished(result) => *dst = Poll::Ready(result),
        _ => panic!("JoinHandle polled after it returned its output"),
    }
}

unsafe fn drop_stage<F: Future>(ptr: NonNull<Header>) {
    let stage = stage::<F>(ptr);
    let _ = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
}

unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    drop(Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()));
}

/// Turns a panic payload into the message users see in `JoinError::Panic`.
pub(crate) fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "task panicked with a non-string payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fits_in_one_cache_line() {
        // The README promises a 64-byte header; growing it costs every task.
        assert_eq!(std::mem::size_of::<Header>(), 64);
    }
}
