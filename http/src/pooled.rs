//! `Pooled`: a future kept in a heap block that comes from a per-thread pool.
//!
//! A connection's task is as large as the largest state its future can be in, and it
//! holds that much for as long as the connection is open — idle or not. Serving a
//! request needs a few kilobytes (the parsed head's positions, the handler's future, the
//! response being written); waiting for the next request needs a few dozen bytes. So
//! the connection loop waits in its own small future and runs the serving part as a
//! `Pooled` future: its block is taken from the thread's pool when bytes arrive and
//! given back when the connection goes idle again, a short grace after its last
//! response (see `conn.rs: GRACE`; nginx does the same with its buffers, at once).
//! Busy connections reuse blocks without calling the allocator; idle ones hold none.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// Free blocks kept per thread: enough for the connections busy at once.
const KEEP: usize = 64;

/// A future in a pooled heap block. It never moves once made (only the pointer does),
/// so it can be polled pinned.
pub(crate) struct Pooled<F> {
    future: NonNull<F>,
}

impl<F: Future> Pooled<F> {
    /// Makes a future with `make` in a block from the thread's pool (or a new one).
    ///
    /// Taking a maker rather than the future lets the compiler write the future's
    /// first state straight into the block: a future passed by value would be built on
    /// the stack and then copied whole, all of its largest state's bytes (about 100
    /// instructions per request for the connection's serving state, callgrind).
    #[inline(always)]
    pub(crate) fn new(make: impl FnOnce() -> F) -> Pooled<F> {
        let layout = Layout::new::<F>();
        let block = if layout.size() == 0 {
            NonNull::<F>::dangling().cast()
        } else {
            take_block(layout)
        };
        let future_ptr = block.cast::<F>();
        // SAFETY: the block is valid for writes of `layout`, which is `F`'s layout (or
        // `F` is zero-sized and any aligned, non-null pointer will do); nothing else
        // refers to a block taken from the pool. If `make` panics, the block is lost
        // to the pool (leaked), never used half-written.
        unsafe { future_ptr.as_ptr().write(make()) };
        Pooled { future: future_ptr }
    }
}

impl<F: Future> Future for Pooled<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` points at a live `F` that this `Pooled` alone owns; it stays
        // at that address until `drop`, so pinning it is sound even though `Pooled`
        // itself may move.
        let future = unsafe { Pin::new_unchecked(&mut *self.future.as_ptr()) };
        future.poll(cx)
    }
}

impl<F> Drop for Pooled<F> {
    fn drop(&mut self) {
        // SAFETY: the block holds a live `F`, written in `new`, dropped only here.
        unsafe { self.future.as_ptr().drop_in_place() };
        let layout = Layout::new::<F>();
        if layout.size() != 0 {
            give_block(layout, self.future.cast());
        }
    }
}

/// The thread's free blocks, each with its layout. In practice a thread pools one
/// layout (the connection's serving state), so only the last block is looked at: a
/// block of another layout is allocated and freed as usual.
struct BlockPool(Vec<(Layout, NonNull<u8>)>);

impl Drop for BlockPool {
    fn drop(&mut self) {
        for &(layout, block) in &self.0 {
            // SAFETY: every pooled block was allocated with its layout and is no
            // longer in use (it was given back).
            unsafe { dealloc(block.as_ptr(), layout) };
        }
    }
}

thread_local! {
    static POOL: RefCell<BlockPool> = const { RefCell::new(BlockPool(Vec::new())) };
}

/// A block for `layout` (not zero-sized): a pooled one if there is one.
#[inline]
fn take_block(layout: Layout) -> NonNull<u8> {
    let pooled = POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        match pool.0.last() {
            Some(&(last, _)) if last == layout => pool.0.pop().map(|(_, block)| block),
            _ => None,
        }
    });
    pooled.unwrap_or_else(|| {
        // SAFETY: `layout` has a non-zero size (checked by the caller).
        let block = unsafe { alloc(layout) };
        NonNull::new(block).unwrap_or_else(|| handle_alloc_error(layout))
    })
}

/// Gives a block back; past `KEEP` free blocks (or once the thread's pool is gone,
/// at thread exit) it is freed.
#[inline]
fn give_block(layout: Layout, block: NonNull<u8>) {
    let kept = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let keep = pool.0.len() < KEEP;
        if keep {
            pool.0.push((layout, block));
        }
        keep
    });
    if kept != Ok(true) {
        // SAFETY: the block was allocated with `layout` and is no longer in use.
        unsafe { dealloc(block.as_ptr(), layout) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// Polls a future that never waits to its end.
    fn run<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the test future waited"),
        }
    }

    /// A future that holds `held` until it finishes.
    async fn holding(held: Rc<()>, byte: u8) -> [u8; 300] {
        let _held = held;
        [byte; 300]
    }

    #[test]
    fn a_pooled_future_runs_drops_and_its_block_is_reused() {
        let dropped = Rc::new(());
        let first = Pooled::new(|| holding(Rc::clone(&dropped), 7));
        let first_block = first.future.as_ptr() as usize;
        assert_eq!(run(first), [7u8; 300]);
        assert_eq!(
            Rc::strong_count(&dropped),
            1,
            "the future's captures were dropped"
        );
        // A future of the same type gets the block just given back.
        let second = Pooled::new(|| holding(Rc::clone(&dropped), 8));
        assert_eq!(second.future.as_ptr() as usize, first_block);
        assert_eq!(run(second), [8u8; 300]);
        assert_eq!(Rc::strong_count(&dropped), 1);
    }

    #[test]
    fn a_pooled_future_dropped_unfinished_drops_its_state() {
        let dropped = Rc::new(());
        let held = Rc::clone(&dropped);
        let pending = Pooled::new(|| async move {
            let _held = held;
            std::future::pending::<()>().await;
        });
        drop(pending);
        assert_eq!(Rc::strong_count(&dropped), 1);
    }
}
