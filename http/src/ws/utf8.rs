//! Incremental UTF-8 checking for text messages that arrive in fragments.
//!
//! A fragment may end in the middle of a character, so each fragment is checked with
//! the incomplete tail (at most 3 bytes) carried over to the next. A message is
//! refused (close code 1007) as soon as a fragment proves it invalid, not at its end.

/// The state between fragments: how many bytes from the message's start are known
/// to be whole, valid characters. The rest (at most 3 bytes) is an unfinished one.
#[derive(Debug, Default)]
pub(crate) struct Utf8Check {
    checked: usize,
}

/// The text is not UTF-8.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

impl Utf8Check {
    /// Checks what `message` (all fragments so far) gained since the last call. `last`
    /// says the message is done, so an unfinished character is an error too.
    pub(crate) fn feed(&mut self, message: &[u8], last: bool) -> Result<(), InvalidUtf8> {
        match std::str::from_utf8(&message[self.checked..]) {
            Ok(_) => self.checked = message.len(),
            // Valid so far; the tail is the start of a character.
            Err(e) if e.error_len().is_none() && !last => self.checked += e.valid_up_to(),
            Err(_) => return Err(InvalidUtf8),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pieces: &[&[u8]]) -> Result<(), InvalidUtf8> {
        let mut state = Utf8Check::default();
        let mut message = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            message.extend_from_slice(piece);
            state.feed(&message, i + 1 == pieces.len())?;
        }
        Ok(())
    }

    #[test]
    fn a_character_split_across_fragments_is_fine() {
        let euro = "€".as_bytes(); // three bytes
        assert_eq!(
            check(&[b"price: ", &euro[..1], &euro[1..2], &euro[2..]]),
            Ok(())
        );
    }

    #[test]
    fn invalid_bytes_fail_at_once_and_an_unfinished_end_fails_last() {
        let mut state = Utf8Check::default();
        assert_eq!(state.feed(b"ok\xff", false), Err(InvalidUtf8));
        assert_eq!(check(&[b"ok", &"€".as_bytes()[..2]]), Err(InvalidUtf8));
    }
}
