//! A one-slot channel built from nothing but `Waker`s: `put` waits for the slot to be
//! empty, `take` for it to be full. Shared by the ping-pong benchmark (simmer and tokio
//! run the same code) and the executor's ping-pong test.

use std::cell::RefCell;
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// The slot and whoever waits on it.
#[derive(Default)]
pub struct Slot {
    value: Option<u64>,
    waiter: Option<Waker>,
}

/// Puts `v` in the slot once it is empty.
pub async fn put(slot: &RefCell<Slot>, v: u64) {
    poll_fn(|cx| {
        let mut s = slot.borrow_mut();
        if s.value.is_some() {
            store_waker(&mut s.waiter, cx.waker());
            return Poll::Pending;
        }
        s.value = Some(v);
        if let Some(w) = s.waiter.take() {
            w.wake();
        }
        Poll::Ready(())
    })
    .await
}

/// Takes the value once the slot is full.
pub async fn take(slot: &RefCell<Slot>) -> u64 {
    poll_fn(|cx| {
        let mut s = slot.borrow_mut();
        match s.value.take() {
            Some(v) => {
                if let Some(w) = s.waiter.take() {
                    w.wake();
                }
                Poll::Ready(v)
            }
            None => {
                store_waker(&mut s.waiter, cx.waker());
                Poll::Pending
            }
        }
    })
    .await
}

fn store_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(w) if w.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}
