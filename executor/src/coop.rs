//! Cooperative budget: how many I/O operations a task may complete in one poll.
//!
//! An always-ready socket would otherwise let its task loop forever without returning
//! to the executor. Every reactor resource calls [`poll_proceed`] before an operation;
//! after [`BUDGET`] of them in one poll the task is told `Pending` and requeued like a
//! [`crate::yield_now`]: after the loop's next I/O check, behind every task already
//! waiting, so others run first (tokio's coop does the same with the same number).

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may complete per poll.
pub const BUDGET: u16 = 128;

/// Outside a task poll the budget is unlimited.
const UNLIMITED: u16 = u16::MAX;

thread_local! {
    static REMAINING: Cell<u16> = const { Cell::new(UNLIMITED) };
}

/// Spends one unit of the current task's budget; when it is used up, returns `Pending`
/// and reschedules the task after the next I/O check.
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    REMAINING.with(|remaining| match remaining.get() {
        UNLIMITED => Poll::Ready(()),
        0 => {
            crate::executor::defer(cx.waker());
            Poll::Pending
        }
        n => {
            remaining.set(n - 1);
            Poll::Ready(())
        }
    })
}

/// Gives the task about to be polled a fresh budget.
pub(crate) fn reset() {
    REMAINING.with(|remaining| remaining.set(BUDGET));
}

/// Leaves task context: no limit for code outside a poll.
pub(crate) fn unlimited() {
    REMAINING.with(|remaining| remaining.set(UNLIMITED));
}
