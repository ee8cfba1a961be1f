//! Two tasks handing a value back and forth through a one-slot channel.
mod common;

use std::cell::RefCell;
use std::rc::Rc;

use simmer_executor::spawn;

#[path = "../../benches/support/one_slot.rs"]
mod one_slot;
use one_slot::{put as send, take as recv, Slot};

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
