//! The task: one heap allocation holding a header, the future and later its output.
//!
//! A spawned future lives in a [`TaskCell<F>`]. Everything that refers to the task — the
//! run queue, wakers, the `JoinHandle`, the executor's list of live tasks — holds a
//! [`TaskRef`]: a pointer to the type-erased [`Header`] at the start of that cell. The
//! header's vtable knows the concrete future type, so the executor can poll, cancel and
//! free the task without knowing `F`.
//!
//! The task does not know who runs it: the header holds an `Arc<S>` of its owner (the
//! executor's thread-safe half, `shared.rs`), a type parameter, so this file needs only
//! `error.rs` below it. There is one owner type in the crate, so the parameter costs
//! nothing at run time.
//!
//! Threading: the future and its output are touched only on the loop thread (they need
//! not be `Send`). Wakers can travel to other threads, so the header's `state` and
//! `refs` are atomics and the header never exposes the future to them.

use std::cell::UnsafeCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::error::{panic_message, JoinError};

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

/// The type-erased start of every task allocation, owned by an `S`.
pub(crate) struct Header<S: 'static> {
    /// Flags (`SCHEDULED | RUNNING | COMPLETE | ABORTED | HAS_HANDLE`) in the low bits;
    /// above them, in units of `REF_ONE`, the counted references: wakers, the
    /// `JoinHandle` and the executor's live-task slot. Run-queue entries are not
    /// counted: a queued task is always live (see `executor.rs`).
    pub(crate) state: AtomicUsize,
    /// Functions that know the concrete future type.
    vtable: &'static Vtable<S>,
    /// Who runs the task: where wakes go (the executor's thread-safe half).
    pub(crate) owner: Arc<S>,
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
struct Vtable<S: 'static> {
    /// Polls the future; returns true once it has finished (output stored).
    poll: unsafe fn(NonNull<Header<S>>, &mut Context<'_>) -> bool,
    /// Drops the future and stores `JoinError::Aborted` as the output.
    cancel: unsafe fn(NonNull<Header<S>>),
    /// Moves the output into `*dst`, a `Poll<Result<T, JoinError>>`.
    take_output: unsafe fn(NonNull<Header<S>>, *mut ()),
    /// Drops whatever the cell still holds (future or output).
    drop_stage: unsafe fn(NonNull<Header<S>>),
    /// Frees the allocation.
    dealloc: unsafe fn(NonNull<Header<S>>),
}

/// What the cell holds over the task's life.
enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The allocation: header first (`repr(C)`), so a `*Header` is also a `*TaskCell<F>`.
#[repr(C)]
struct TaskCell<F: Future, S: 'static> {
    header: Header<S>,
    stage: UnsafeCell<Stage<F>>,
}

/// A pointer to a task's header. Copying it does not touch the refcount; code that
/// keeps one must own a counted reference (see `Header::refs`) or know the task is live.
pub(crate) struct TaskRef<S: 'static>(NonNull<Header<S>>);

// Written out: derived, they would ask `S: Clone` and `S: PartialEq`.
impl<S: 'static> Clone for TaskRef<S> {
    fn clone(&self) -> TaskRef<S> {
        *self
    }
}

impl<S: 'static> Copy for TaskRef<S> {}

impl<S: 'static> PartialEq for TaskRef<S> {
    fn eq(&self, other: &TaskRef<S>) -> bool {
        self.0 == other.0
    }
}

impl<S: 'static> Eq for TaskRef<S> {}

// SAFETY: a TaskRef only reaches the header's atomics and `owner` (Send + Sync) from
// other threads; the non-Send future is touched through it only on the loop thread
// (enforced by the executor, which is the only code that calls `poll`, `cancel` and
// friends).
unsafe impl<S: Send + Sync + 'static> Send for TaskRef<S> {}

impl<S: 'static> TaskRef<S> {
    /// Allocates a task holding `future`, with `refs` counted references already taken,
    /// marked `SCHEDULED` (the caller queues it) and `HAS_HANDLE`.
    pub(crate) fn allocate<F: Future + 'static>(
        future: F,
        owner: Arc<S>,
        id: u64,
        name: Option<TaskName>,
        refs: usize,
    ) -> TaskRef<S> {
        let cell = Box::new(TaskCell {
            header: Header {
                state: AtomicUsize::new(SCHEDULED | HAS_HANDLE | (refs * REF_ONE)),
                vtable: vtable_for::<F, S>(),
                owner,
                id,
                name,
                slot: UnsafeCell::new(usize::MAX),
                join_waker: UnsafeCell::new(None),
            },
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        // SAFETY: Box::into_raw never returns null.
        TaskRef(unsafe { NonNull::new_unchecked(Box::into_raw(cell).cast::<Header<S>>()) })
    }

    pub(crate) fn header(&self) -> &Header<S> {
        // SAFETY: whoever holds a TaskRef keeps the task alive (see the type's doc).
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn as_ptr(self) -> *const Header<S> {
        self.0.as_ptr()
    }

    /// # Safety
    /// `ptr` must come from `as_ptr` of a live task.
    pub(crate) unsafe fn from_ptr(ptr: *const Header<S>) -> TaskRef<S> {
        TaskRef(NonNull::new_unchecked(ptr as *mut Header<S>))
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
}

fn vtable_for<F: Future + 'static, S: 'static>() -> &'static Vtable<S> {
    &Vtable {
        poll: poll::<F, S>,
        cancel: cancel::<F, S>,
        take_output: take_output::<F, S>,
        drop_stage: drop_stage::<F, S>,
        dealloc: dealloc::<F, S>,
    }
}

/// # Safety
/// `ptr` must point at a live `TaskCell<F, S>`, accessed from the loop thread only.
unsafe fn stage<'a, F: Future, S: 'static>(ptr: NonNull<Header<S>>) -> &'a mut Stage<F> {
    &mut *(*ptr.cast::<TaskCell<F, S>>().as_ptr()).stage.get()
}

unsafe fn poll<F: Future, S: 'static>(ptr: NonNull<Header<S>>, cx: &mut Context<'_>) -> bool {
    let stage = stage::<F, S>(ptr);
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

unsafe fn cancel<F: Future, S: 'static>(ptr: NonNull<Header<S>>) {
    let stage = stage::<F, S>(ptr);
    if let Stage::Running(_) = stage {
        // A Drop impl that panics must not take the loop down with it.
        let _ = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
        *stage = Stage::Finished(Err(JoinError::Aborted));
    }
}

unsafe fn take_output<F: Future, S: 'static>(ptr: NonNull<Header<S>>, dst: *mut ()) {
    let dst = &mut *(dst as *mut Poll<Result<F::Output, JoinError>>);
    match std::mem::replace(stage::<F, S>(ptr), Stage::Consumed) {
        Stage::Finished(result) => *dst = Poll::Ready(result),
        _ => panic!("JoinHandle polled after it returned its output"),
    }
}

unsafe fn drop_stage<F: Future, S: 'static>(ptr: NonNull<Header<S>>) {
    let stage = stage::<F, S>(ptr);
    let _ = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
}

unsafe fn dealloc<F: Future, S: 'static>(ptr: NonNull<Header<S>>) {
    drop(Box::from_raw(ptr.cast::<TaskCell<F, S>>().as_ptr()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fits_in_one_cache_line() {
        // The README promises a 64-byte header; growing it costs every task.
        assert_eq!(std::mem::size_of::<Header<()>>(), 64);
    }
}
