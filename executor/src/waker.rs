//! The waker vtable for tasks: a waker is a counted pointer to the task header.
//!
//! A wake marks the task `SCHEDULED` and, if that is news and the task is not being
//! polled, hands it to its owner's [`Schedule::schedule`]. The executor implements that
//! (in `executor.rs`): on the loop thread it pushes the task onto the local run queue
//! (no lock, no syscall); from any other thread it goes through the shared queue and
//! unparks the loop. The `SCHEDULED` bit makes sure a task is queued at most once.
//!
//! The owner is a type parameter, not a trait object: with the one owner type the crate
//! has, a wake is a direct call, as if this file called the executor by name.

use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering;
use std::task::{RawWaker, RawWakerVTable, Waker};

use crate::task::{Header, TaskRef, COMPLETE, RUNNING, SCHEDULED};

/// Who runs tasks and takes them back when they are woken.
pub(crate) trait Schedule: Sized + 'static {
    /// Queues `task`, which a wake just marked `SCHEDULED`.
    fn schedule(task: TaskRef<Self>);

    /// The waker vtable of this owner's tasks: `&VTABLE` for a
    /// `static VTABLE: RawWakerVTable = vtable::<Self>()`. A static, unlike a constant,
    /// has one address, so `Waker::will_wake` recognises a clone of the task's waker.
    fn waker_vtable() -> &'static RawWakerVTable;
}

/// The waker functions for tasks owned by `S`, for `S`'s static (see
/// [`Schedule::waker_vtable`]).
pub(crate) const fn vtable<S: Schedule>() -> RawWakerVTable {
    RawWakerVTable::new(clone::<S>, wake::<S>, wake_by_ref::<S>, drop_waker::<S>)
}

/// A raw waker for the task at `ptr` (the caller decides whether it owns a reference).
fn raw_waker<S: Schedule>(ptr: *const Header<S>) -> RawWaker {
    RawWaker::new(ptr.cast(), S::waker_vtable())
}

/// A `Waker` for `task` that borrows the caller's reference: no refcount change. The
/// returned value must not outlive that reference.
pub(crate) fn borrowed_waker<S: Schedule>(task: TaskRef<S>) -> ManuallyDrop<Waker> {
    // SAFETY: ManuallyDrop keeps the borrowed waker from giving up a reference it never
    // took; cloning it takes a real one (`clone` below).
    ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(task.as_ptr())) })
}

/// Marks the task scheduled and, if that is news and it is not running, queues it.
pub(crate) fn schedule<S: Schedule>(task: TaskRef<S>) {
    let previous = task.header().state.fetch_or(SCHEDULED, Ordering::AcqRel);
    // Already queued, finished, or being polled (the loop requeues it after the poll).
    if previous & (SCHEDULED | RUNNING | COMPLETE) != 0 {
        return;
    }
    S::schedule(task);
}

unsafe fn clone<S: Schedule>(ptr: *const ()) -> RawWaker {
    // SAFETY (caller): the waker being cloned holds or borrows a live reference.
    let task = TaskRef::<S>::from_ptr(ptr.cast());
    task.inc_ref();
    raw_waker(task.as_ptr())
}

unsafe fn wake<S: Schedule>(ptr: *const ()) {
    let task = TaskRef::<S>::from_ptr(ptr.cast());
    schedule(task);
    task.dec_ref();
}

unsafe fn wake_by_ref<S: Schedule>(ptr: *const ()) {
    schedule(TaskRef::<S>::from_ptr(ptr.cast()));
}

unsafe fn drop_waker<S: Schedule>(ptr: *const ()) {
    TaskRef::<S>::from_ptr(ptr.cast()).dec_ref();
}
