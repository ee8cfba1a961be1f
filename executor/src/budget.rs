//! The cooperative budget's counter: how many I/O operations the task being polled may
//! still complete (see [`crate::coop`] for what happens when it runs out). The loop
//! gives each poll a fresh budget; outside a poll there is no limit.

use std::cell::Cell;

/// Operations a task may complete per poll.
pub const BUDGET: u16 = 128;

/// Outside a task poll the budget is unlimited.
const UNLIMITED: u16 = u16::MAX;

thread_local! {
    static REMAINING: Cell<u16> = const { Cell::new(UNLIMITED) };
}

/// Spends one unit of the current task's budget; false when it was used up.
#[inline]
pub(crate) fn spend() -> bool {
    REMAINING.with(|remaining| match remaining.get() {
        UNLIMITED => true,
        0 => false,
        n => {
            remaining.set(n - 1);
            true
        }
    })
}

/// Gives the task about to be polled a fresh budget.
#[inline]
pub(crate) fn reset() {
    REMAINING.with(|remaining| remaining.set(BUDGET));
}

/// Leaves task context: no limit for code outside a poll.
pub(crate) fn unlimited() {
    REMAINING.with(|remaining| remaining.set(UNLIMITED));
}
