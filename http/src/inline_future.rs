//! `InlineFuture`: a handler's future behind a type-erased front, stored in place
//! (no heap allocation) when it is small, boxed only when it is not.
//!
//! Why it exists. The router keeps handlers of many types in one table, so what a
//! handler returns must have one type too. The usual answer is
//! `Pin<Box<dyn Future<Output = Response>>>`: every request then costs a `malloc` for
//! its future and a `free` when it ends (about 110 instructions of a pipelined
//! request's 3,660, callgrind). But most handler futures are a few dozen bytes: the
//! `Request` they own and a state number. So this type works like a `Box<dyn Future>`
//! whose box is a fixed-size buffer inside the value itself (the "small-buffer
//! optimization" of C++'s `std::function`, or of the `smallbox` and `stackfuture`
//! crates): the future is written into the buffer, and two function pointers made for
//! its concrete type (`poll_as::<F>`, `drop_as::<F>`) stand in for the vtable that
//! `dyn` would have given. A future too large or too aligned for the buffer is boxed
//! first and the box (one pointer) goes into the buffer instead, so every handler
//! still works; only the large ones pay the allocation.
//!
//! Moving and pinning. A future may point into itself once it has been polled, so it
//! must not move after its first poll (that is what `Pin` promises it). An
//! `InlineFuture` moves freely until it is pinned (it is returned by value), and the
//! future inside has not been polled before that; `InlineFuture` is `!Unpin`, so once
//! pinned it stays put, and the future inside with it.

use std::future::Future;
use std::marker::PhantomPinned;
use std::mem::{align_of, size_of, MaybeUninit};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::response::Response;

/// Bytes of future stored in place. A plain `async fn(Request)` handler's future is
/// about 80 bytes; extractor handlers' futures are larger (they hold the extracted
/// values and the rejections) and mostly fit too. Larger ones are boxed.
const INLINE_BYTES: usize = 192;

/// The buffer, aligned for any future up to 16-byte alignment.
#[repr(C, align(16))]
struct Storage([MaybeUninit<u8>; INLINE_BYTES]);

/// A `Future<Output = Response>` of any type, stored in place when it fits; or none.
///
/// It is a slot: made empty, pinned where it will stay (a connection keeps one for
/// all its requests), then filled with each request's future by [`InlineFuture::set`],
/// which writes the future straight into the pinned buffer (no move of the buffer,
/// which is a few hundred bytes), and emptied when the response is taken.
pub(crate) struct InlineFuture {
    storage: Storage,
    /// `poll_as::<F>` for the type `F` written into `storage`.
    poll: unsafe fn(*mut u8, &mut Context<'_>) -> Poll<Response>,
    /// `drop_as::<F>` for the same type.
    drop: unsafe fn(*mut u8),
    /// `storage` holds a live future.
    full: bool,
    /// The future inside may point into itself once polled: never move it then.
    _pinned: PhantomPinned,
}

impl InlineFuture {
    /// A slot with no future in it.
    pub(crate) fn empty() -> InlineFuture {
        InlineFuture {
            storage: Storage([MaybeUninit::uninit(); INLINE_BYTES]),
            poll: poll_empty,
            drop: drop_nothing,
            full: false,
            _pinned: PhantomPinned,
        }
    }

    /// Puts the future `make` returns in the slot, which must be empty (see
    /// [`InlineFuture::clear`]): in place if it fits, else in a box (whose pointer is
    /// in place). The slot is checked before `make` runs, so the compiler can build
    /// the future straight into the buffer: with the check (which may panic) after
    /// it, the future is built aside and copied over.
    pub(crate) fn set<F: Future<Output = Response> + 'static>(
        self: Pin<&mut Self>,
        make: impl FnOnce() -> F,
    ) {
        assert!(!self.full, "set on a slot that holds a future");
        // Both sizes are constants, so each handler's code keeps only one branch.
        if fits::<F>() {
            self.set_in_place(make)
        } else {
            self.set_in_place(|| Box::pin(make()))
        }
    }

    fn set_in_place<F: Future<Output = Response> + 'static>(
        self: Pin<&mut Self>,
        make: impl FnOnce() -> F,
    ) {
        // A constant: the compiler keeps no check.
        assert!(fits::<F>(), "set_in_place with a future that does not fit");
        // SAFETY: nothing pinned is moved: the slot is empty (checked by `set`), and
        // the new future is written into the buffer where it will stay. The buffer is
        // at least `size_of::<F>()` bytes and aligned to 16, which is at least
        // `align_of::<F>()` (checked just above), so it can hold an
        // `F`. From here on `poll` and `drop` are the functions for `F`.
        unsafe {
            let this = self.get_unchecked_mut();
            this.storage.0.as_mut_ptr().cast::<F>().write(make());
            this.poll = poll_as::<F>;
            this.drop = drop_as::<F>;
            this.full = true;
        }
    }

    /// Drops the future in the slot, where it lies, leaving the slot empty.
    #[inline]
    pub(crate) fn clear(self: Pin<&mut Self>) {
        // SAFETY: the future (if any) is dropped in place, as pinning requires, and
        // the slot is marked empty first, so it is never touched again (not even if
        // its drop panics).
        unsafe {
            let this = self.get_unchecked_mut();
            if std::mem::replace(&mut this.full, false) {
                (this.drop)(this.storage.0.as_mut_ptr().cast())
            }
        }
    }
}

const fn fits<F>() -> bool {
    size_of::<F>() <= INLINE_BYTES && align_of::<F>() <= align_of::<Storage>()
}

/// Polls the `F` at `at`.
///
/// # Safety
/// `at` holds a live `F` that stays where it is until it is dropped (it is pinned).
unsafe fn poll_as<F: Future<Output = Response>>(
    at: *mut u8,
    cx: &mut Context<'_>,
) -> Poll<Response> {
    // SAFETY: the caller promises a live, pinned `F` at `at`.
    let future = unsafe { Pin::new_unchecked(&mut *at.cast::<F>()) };
    future.poll(cx)
}

/// Drops the `F` at `at` in place.
///
/// # Safety
/// `at` holds a live `F`, never used again after this.
unsafe fn drop_as<F>(at: *mut u8) {
    // SAFETY: the caller promises a live `F` that nothing uses afterwards.
    unsafe { std::ptr::drop_in_place(at.cast::<F>()) }
}

/// The `poll` of an empty slot: polling one is a bug in the caller.
unsafe fn poll_empty(_: *mut u8, _: &mut Context<'_>) -> Poll<Response> {
    panic!("polled an empty InlineFuture")
}

/// The `drop` of an empty slot.
unsafe fn drop_nothing(_: *mut u8) {}

impl Future for InlineFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: nothing is moved out of `self`; the future in the buffer is polled
        // where it lies, and it stays there because `self` is pinned (and `!Unpin`).
        // `poll` was made for the type stored (`set_in_place`), which is live until
        // cleared (an empty slot's `poll` panics without touching the buffer).
        unsafe {
            let this = self.get_unchecked_mut();
            (this.poll)(this.storage.0.as_mut_ptr().cast(), cx)
        }
    }
}

impl Drop for InlineFuture {
    fn drop(&mut self) {
        // SAFETY: a pinned slot is dropped where it lies; dropping it drops its future
        // in place, and an unpinned one was never filled (`set` needs a pin).
        unsafe { Pin::new_unchecked(self) }.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Waker;

    fn poll_once<F: Future<Output = Response> + 'static>(future: F) -> Poll<Response> {
        let mut slot = Box::pin(InlineFuture::empty());
        slot.as_mut().set(|| future);
        slot.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn small_futures_are_in_place_and_large_ones_boxed_and_both_run() {
        let small = async { Response::text("small") };
        assert!(size_of_val(&small) <= INLINE_BYTES);
        let big = [7u8; 1024];
        let large = async move { Response::bytes(big.to_vec()) };
        assert!(size_of_val(&large) > INLINE_BYTES, "this one is boxed");
        for (answer, len) in [(poll_once(small), 5), (poll_once(large), 1024)] {
            match answer {
                Poll::Ready(r) => assert_eq!(r.body().len(), Some(len)),
                Poll::Pending => panic!("ready future was pending"),
            }
        }
    }

    struct CountsDrop(Rc<Cell<u32>>);
    impl Drop for CountsDrop {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    /// A future that never finishes and counts its drop; in place in a slot.
    fn small_unfinished(drops: &Rc<Cell<u32>>) -> impl Future<Output = Response> {
        let held = CountsDrop(Rc::clone(drops));
        async move {
            let _held = held;
            std::future::pending::<()>().await;
            Response::text("never")
        }
    }

    /// The same, too large for the buffer: boxed in a slot.
    fn large_unfinished(drops: &Rc<Cell<u32>>) -> impl Future<Output = Response> {
        let held = CountsDrop(Rc::clone(drops));
        let padding = [0u8; 1024];
        async move {
            let _held = held;
            let _padding = padding;
            std::future::pending::<()>().await;
            Response::text("never")
        }
    }

    #[test]
    fn dropping_an_unfinished_future_drops_what_it_holds() {
        let drops = Rc::new(Cell::new(0));
        assert!(size_of_val(&small_unfinished(&drops)) <= INLINE_BYTES);
        assert!(size_of_val(&large_unfinished(&drops)) > INLINE_BYTES);
        assert_eq!(drops.get(), 2, "the two measured");
        assert!(poll_once(small_unfinished(&drops)).is_pending());
        assert!(poll_once(large_unfinished(&drops)).is_pending());
        assert_eq!(drops.get(), 4);
    }

    #[test]
    fn a_slot_drops_its_future_when_cleared_or_dropped_and_only_then() {
        let drops = Rc::new(Cell::new(0));
        let mut slot = Box::pin(InlineFuture::empty());
        let cx = &mut Context::from_waker(Waker::noop());
        slot.as_mut().set(|| small_unfinished(&drops));
        assert!(slot.as_mut().poll(cx).is_pending());
        assert_eq!(drops.get(), 0);
        slot.as_mut().clear();
        assert_eq!(drops.get(), 1, "clearing dropped the first");
        slot.as_mut().set(|| large_unfinished(&drops));
        assert!(slot.as_mut().poll(cx).is_pending());
        assert_eq!(drops.get(), 1);
        slot.as_mut().clear();
        assert_eq!(drops.get(), 2, "clearing dropped the second");
        slot.as_mut().clear();
        drop(slot);
        assert_eq!(drops.get(), 2, "an empty slot drops nothing");
        let mut slot = Box::pin(InlineFuture::empty());
        slot.as_mut().set(|| small_unfinished(&drops));
        drop(slot);
        assert_eq!(drops.get(), 3, "dropping a full slot dropped its future");
    }

    #[test]
    #[should_panic(expected = "set on a slot that holds a future")]
    fn a_full_slot_is_not_overwritten() {
        let mut slot = Box::pin(InlineFuture::empty());
        slot.as_mut().set(|| async { Response::text("first") });
        slot.as_mut().set(|| async { Response::text("second") });
    }
}
