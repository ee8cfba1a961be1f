//! The waker vtable for tasks: a waker is a counted pointer to the task header.
//!
//! `wake` on the loop thread pushes the task onto the local run queue (no lock, no
//! syscall); from any other thread it goes through the shared queue and unparks the
//! loop. Either way the `SCHEDULED` bit makes sure a task is queued at most once.

use std::task::{RawWaker, RawWakerVTable};

use crate::task::{Header, TaskRef, COMPLETE, RUNNING, SCHEDULED};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A raw waker for the task at `ptr` (the caller decides whether it owns a reference).
pub(crate) fn raw_waker(ptr: *const Header) -> RawWaker {
    RawWaker::new(ptr.cast(), &VTABLE)
}

/// Marks the task scheduled and, if that is news and it is not running, queues it.
pub(crate) fn schedule(task: TaskRef) {
    let previous = task
        .header()
        .state
        .fetch_or(SCHEDULED, std::sync::atomic::Ordering::AcqRel);
    // Already queued, finished, or being polled (the loop requeues it after the poll).
    if previous & (SCHEDULED | RUNNING | COMPLETE) != 0 {
        return;
    }
    crate::executor::enqueue_woken(task);
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY (caller): the waker being cloned holds or borrows a live reference.
    let task = TaskRef::from_ptr(ptr.cast());
    task.inc_ref();
    raw_waker(ptr.cast())
}

unsafe fn wake(ptr: *const ()) {
    let task = TaskRef::from_ptr(ptr.cast());
    schedule(task);
    task.dec_ref();
}

unsafe fn wake_by_ref(ptr: *const ()) {
    schedule(TaskRef::from_ptr(ptr.cast()));
}

unsafe fn drop_waker(ptr: *const ()) {
    TaskRef::from_ptr(ptr.cast()).dec_ref();
}
