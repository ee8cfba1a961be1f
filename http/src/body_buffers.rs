//! Byte buffers for response bodies built at run time (a JSON body, say), reused per
//! thread: a written response gives its buffer back, and the next body is serialized
//! into it. A JSON response then costs no `malloc` and no `free` (about 190
//! instructions of a pipelined `/json` request, callgrind), as the connection's head
//! and output buffer cost none.
//!
//! Only small buffers are kept, and only a few: a thread holds at most
//! `KEEP * MAX_KEPT` bytes of them however large the bodies it has sent.

use std::cell::RefCell;

/// Most buffers kept per thread.
const KEEP: usize = 16;
/// Largest capacity kept; a larger buffer is freed.
const MAX_KEPT: usize = 4096;
/// Capacity of a new buffer (what `serde_json::to_vec` starts with, too).
const FIRST_CAPACITY: usize = 128;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer: a kept one if there is one.
pub(crate) fn take() -> Vec<u8> {
    SPARE
        .with(|spare| spare.borrow_mut().pop())
        .unwrap_or_else(|| Vec::with_capacity(FIRST_CAPACITY))
}

/// Gives back a body's buffer once it has been written; kept if small and there is
/// room, else freed.
pub(crate) fn give(mut buffer: Vec<u8>) {
    if buffer.capacity() == 0 || buffer.capacity() > MAX_KEPT {
        return;
    }
    buffer.clear();
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < KEEP {
            spare.push(buffer);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_comes_back_empty_and_large_or_surplus_ones_are_freed() {
        let mut first = take();
        first.extend_from_slice(b"{\"a\":1}");
        let at = first.as_ptr();
        give(first);
        let again = take();
        assert_eq!(again.as_ptr(), at, "the same allocation");
        assert!(again.is_empty());
        give(Vec::with_capacity(MAX_KEPT + 1));
        assert_eq!(
            take().capacity(),
            FIRST_CAPACITY,
            "the large one was not kept"
        );
        for _ in 0..KEEP + 4 {
            give(Vec::with_capacity(64));
        }
        let kept = SPARE.with(|spare| spare.borrow().len());
        assert_eq!(kept, KEEP);
    }
}
