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

/// A `Future<Output = Response>` of any type, stored in place when it fits.
pub(crate) struct InlineFuture {
    storage: Storage,
    /// `poll_as::<F>` for the type `F` written into `storage`.
    poll: unsafe fn(*mut u8, &mut Context<'_>) -> Poll<Response>,
    /// `drop_as::<F>` for the same type.
    drop: unsafe fn(*mut u8),
    /// The future inside may point into itself once polled: never move it then.
    _pinned: PhantomPinned,
}

impl InlineFuture {
    /// Wraps `future`: in place if it fits, else in a box (whose pointer is in place).
    pub(crate) fn new<F: Future<Output = Response> + 'static>(future: F) -> InlineFuture {
        // Both sizes are constants, so each handler's code keeps only one branch.
        if fits::<F>() {
            InlineFuture::in_place(future)
        } else {
            InlineFuture::in_place(Box::pin(future))
        }
    }

    fn in_place<F: Future<Output = Response> + 'static>(future: F) -> InlineFuture {
        assert!(
            fits::<F>(),
            "in_place called with a future that does not fit"
        );
        let mut this = InlineFuture {
            storage: Storage([MaybeUninit::uninit(); INLINE_BYTES]),
            poll: poll_as::<F>,
            drop: drop_as::<F>,
            _pinned: PhantomPinned,
        };
        // SAFETY: the buffer is at least `size_of::<F>()` bytes and aligned to 16, which
        // is at least `align_of::<F>()` (checked just above), so it can hold an `F`.
        // Nothing was in it. From here on `poll` and `drop` are the functions for `F`.
        unsafe { this.storage.0.as_mut_ptr().cast::<F>().write(future) };
        this
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

impl Future for InlineFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: nothing is moved out of `self`; the future in the buffer is polled
        // where it lies, and it stays there because `self` is pinned (and `!Unpin`).
        // `poll` was made for the type stored (`in_place`), which is live until drop.
        unsafe {
            let this = self.get_unchecked_mut();
            (this.poll)(this.storage.0.as_mut_ptr().cast(), cx)
        }
    }
}

impl Drop for InlineFuture {
    fn drop(&mut self) {
        // SAFETY: the buffer holds the live future `drop` was made for (`in_place`);
        // it is dropped where it lies, as pinning requires, and never touched again.
        unsafe { (self.drop)(self.storage.0.as_mut_ptr().cast()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Waker;

    fn poll_once(f: InlineFuture) -> Poll<Response> {
        let mut f = Box::pin(f);
        f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn small_futures_are_in_place_and_large_ones_boxed_and_both_run() {
        let small = async { Response::text("small") };
        assert!(size_of_val(&small) <= INLINE_BYTES);
        let big = [7u8; 1024];
        let large = async move { Response::bytes(big.to_vec()) };
        assert!(size_of_val(&large) > INLINE_BYTES, "this one is boxed");
        for (f, len) in [
            (InlineFuture::new(small), 5),
            (InlineFuture::new(large), 1024),
        ] {
            match poll_once(f) {
                Poll::Ready(r) => assert_eq!(r.body().len(), Some(len)),
                Poll::Pending => panic!("ready future was pending"),
            }
        }
    }

    #[test]
    fn dropping_an_unfinished_future_drops_what_it_holds() {
        struct CountsDrop(Rc<Cell<u32>>);
        impl Drop for CountsDrop {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let drops = Rc::new(Cell::new(0));
        for size in [1usize, 4096] {
            let held = CountsDrop(Rc::clone(&drops));
            let padding = vec![0u8; size];
            let f = InlineFuture::new(async move {
                let _held = held;
                let _padding = padding;
                std::future::pending::<()>().await;
                Response::text("never")
            });
            assert!(poll_once(f).is_pending());
        }
        assert_eq!(drops.get(), 2);
    }
}
