//! Byte strings compared a word at a time: for the short strings of a request (a
//! path, a Host value) this is a few integer comparisons, where `==` on slices calls
//! `memcmp` (about 20 instructions before it compares anything, callgrind).

/// Whether two byte strings of the same length are equal, compared a word at a time:
/// full words from the front, then one last word that may overlap the one before it
/// (so no byte-by-byte tail). Under eight bytes, two overlapping half-words.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len >= 8 {
        let word = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().unwrap());
        let mut at = 0;
        while at + 8 < len {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        return word(a, len - 8) == word(b, len - 8);
    }
    if len >= 4 {
        let half = |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().unwrap());
        return half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_comparison_agrees_with_byte_comparison() {
        let text = b"abcdefghijklmnopqrstuvwxyz0123456789";
        for len in 0..text.len() {
            let a = &text[..len];
            assert!(same_bytes(a, a));
            for flip in 0..len {
                let mut b = a.to_vec();
                b[flip] ^= 1;
                assert!(!same_bytes(a, &b), "len {len}, byte {flip}");
            }
        }
        assert!(!same_bytes(b"ab", b"abc"));
    }
}
