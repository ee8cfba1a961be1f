//! A byte buffer for response bodies built at run time (a JSON body, say), reused per
//! thread: a written response gives its buffer back, and the next body is serialized
//! into it. A JSON response then costs no `malloc` and no `free` (about 190
//! instructions of a pipelined `/json` request, callgrind), as the connection's head
//! and output buffer cost none.
//!
//! One spare is enough: a response's body is copied into the connection's output
//! buffer as soon as the response is ready, and given back then, before the next
//! handler runs. A body made while the spare is out (two handlers building
//! responses at once) gets a new buffer, and the second one given back is freed. A
//! single slot is a swap where a list of spares would be a borrow, a pop and a push
//! (about 20 instructions a request, callgrind). A large buffer is not kept.

use std::cell::Cell;

/// Largest capacity kept; a larger buffer is freed.
const MAX_KEPT: usize = 4096;
/// Capacity of a new buffer (what `serde_json::to_vec` starts with, too).
#[cfg(feature = "json")]
const FIRST_CAPACITY: usize = 128;

thread_local! {
    /// The spare buffer, or an empty `Vec` (no allocation) while it is out.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// An empty buffer: the spare if it is in (for `Response::json`).
#[cfg(feature = "json")]
#[inline]
pub(crate) fn take() -> Vec<u8> {
    let spare = SPARE.take();
    if spare.capacity() == 0 {
        return Vec::with_capacity(FIRST_CAPACITY);
    }
    spare
}

/// Gives back a body's buffer once it has been written: it becomes the spare if it
/// is not too large (a spare already there is freed).
pub(crate) fn give(mut buffer: Vec<u8>) {
    if buffer.capacity() == 0 || buffer.capacity() > MAX_KEPT {
        return;
    }
    buffer.clear();
    drop(SPARE.replace(buffer));
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_comes_back_empty_and_a_large_one_is_freed() {
        let mut first = take();
        first.extend_from_slice(b"{\"a\":1}");
        let at = first.as_ptr();
        give(first);
        let again = take();
        assert_eq!(again.as_ptr(), at, "the same allocation");
        assert!(again.is_empty());
        let while_out = take();
        assert_ne!(while_out.as_ptr(), at, "a new one while the spare is out");
        give(again);
        give(Vec::with_capacity(MAX_KEPT + 1));
        let kept = take();
        assert_eq!(kept.as_ptr(), at, "the large one was not kept");
        drop((kept, while_out));
    }
}
