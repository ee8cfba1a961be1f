//! Two tasks handing a value back and forth through a one-slot channel.
mod common;

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use simmer_executor::spawn;

/// A one-slot channel: `send` waits for the slot to be empty, `recv` for it to be full.
#[derive(Default)]
struct Slot {
    value: Option<u64>,
    waiter: Option<Waker>,
}

async fn send(slot: &RefCell<Slot>, v: u64) {
    poll_fn(|cx| {
        let mut s = slot.borrow_mut();
        if s.value.is_some() {
            s.waiter = Some(cx.waker().clone());
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

async fn recv(slot: &RefCell<Slot>) -> u64 {
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
                s.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    })
    .await
}

#[test]
fn two_tasks_ping_pong_100_000_times() {
    const ROUNDS: u64 = 100_000;
    let ex = common::executor();
    let (sum, last) = ex.block_on(async {
        let ping = Rc::new(RefCell::new(Slot::default()));
        let pong = Rc::new(RefCell::new(Slot::default()));
        let (p1, p2) = (ping.clone(), pong.clone());
        let echo = spawn(async move {
            let mut sum = 0;
            for _ in 0..ROUNDS {
                let v = recv(&p1).await;
                sum += v;
                send(&p2, v + 1).await;
            }
            sum
        });
        let mut last = 0;
        for i in 0..ROUNDS {
            send(&ping, i).await;
            last = recv(&pong).await;
            assert_eq!(last, i + 1);
        }
        (echo.await.unwrap(), last)
    });
    assert_eq!(sum, ROUNDS * (ROUNDS - 1) / 2);
    assert_eq!(last, ROUNDS);
}
