//! Cooperative budget: how many I/O operations a task may complete in one poll.
//!
//! An always-ready socket would otherwise let its task loop forever without returning
//! to the executor. Every reactor resource calls [`poll_proceed`] before an operation;
//! after [`BUDGET`] of them in one poll the task is told `Pending` and requeued like a
//! [`crate::yield_now`]: after the loop's next I/O check, behind every task already
//! waiting, so others run first (tokio's coop does the same with the same number).

use std::task::{Context, Poll};

pub use crate::budget::BUDGET;

/// Spends one unit of the current task's budget; when it is used up, returns `Pending`
/// and reschedules the task after the next I/O check.
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    if crate::budget::spend() {
        return Poll::Ready(());
    }
    crate::executor::defer(cx.waker());
    Poll::Pending
}
