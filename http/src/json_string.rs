//! JSON string literals, written as serde_json writes them: the control characters,
//! `"` and `\\` escaped (`\\n`, `\\t`, ... where JSON has a short form, else
//! `\\u00XX`), everything else as it is. Used by the JSON bodies of `json_write` and
//! the error bodies of `error.rs`.
//!
//! serde_json looks at a string one byte at a time to find what needs escaping (about
//! nine instructions a byte, callgrind). Most strings in a response need none, so this
//! first checks eight bytes at a time whether the string is clean and copies it whole
//! if it is; only a string that needs escaping is walked, again a word at a time to the
//! next byte that does.

/// `text` as a JSON string, quotes included, appended to a `String` (the error
/// bodies). Out of line: it is called from several places on error paths.
pub(crate) fn push_string(out: &mut String, text: &str) {
    // SAFETY: `write_string` appends `text`, which is UTF-8, cut only before or after
    // ASCII bytes (the ones it escapes), and ASCII escape sequences: the string stays
    // UTF-8.
    write_string(unsafe { out.as_mut_vec() }, text);
}

/// `text` as a JSON string, quotes included.
#[inline]
pub(crate) fn write_string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if (4..=16).contains(&bytes.len()) && is_clean(bytes) {
        write_short_clean(out, bytes);
        return;
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    write_escaped(out, bytes);
    out.push(b'"');
}

/// `"bytes"` for 4 to 16 bytes that need no escaping, the usual name or short value:
/// built in an array from two overlapping copies of a fixed size, then appended
/// whole and the surplus cut off. Each step has a size known when compiling, so
/// this is a few moves where a copy of a length known only at run time calls
/// `memcpy` (about 25 instructions a string, callgrind).
#[inline]
fn write_short_clean(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = bytes.len();
    let mut quoted = [0u8; 18];
    if len >= 8 {
        quoted[1..9].copy_from_slice(&bytes[..8]);
        quoted[len - 7..len + 1].copy_from_slice(&bytes[len - 8..]);
    } else {
        quoted[1..5].copy_from_slice(&bytes[..4]);
        quoted[len - 3..len + 1].copy_from_slice(&bytes[len - 4..]);
    }
    quoted[0] = b'"';
    quoted[len + 1] = b'"';
    let end = out.len() + len + 2;
    out.extend_from_slice(&quoted);
    out.truncate(end);
}

/// `bytes` (UTF-8) with what JSON requires escaped: copied whole when nothing needs
/// it, the common case, else a byte at a time.
#[inline]
pub(crate) fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    if is_clean(bytes) {
        out.extend_from_slice(bytes);
    } else {
        write_escaping(out, bytes);
    }
}

/// The slow way, out of line so that the clean case stays small: the next byte that
/// needs escaping found a word at a time, the clean run before it copied whole, the
/// byte escaped.
#[cold]
#[inline(never)]
fn write_escaping(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut clean_from = 0;
    let mut at = 0;
    while at < bytes.len() {
        if let Some(word) = bytes.get(at..at + 8) {
            let flagged = escape_flags(u64::from_le_bytes(word.try_into().unwrap()));
            if flagged == 0 {
                at += 8;
                continue;
            }
            // The lowest flag is the first byte that needs escaping.
            at += flagged.trailing_zeros() as usize / 8;
        } else if ESCAPE[bytes[at] as usize] == 0 {
            at += 1;
            continue;
        }
        out.extend_from_slice(&bytes[clean_from..at]);
        write_escape(out, bytes[at]);
        at += 1;
        clean_from = at;
    }
    out.extend_from_slice(&bytes[clean_from..]);
}

/// The escape sequence for one byte that needs it.
fn write_escape(out: &mut Vec<u8>, byte: u8) {
    match ESCAPE[byte as usize] {
        b'u' => {
            let hex = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(&[hex[usize::from(byte >> 4)], hex[usize::from(byte & 0xf)]]);
        }
        escape => out.extend_from_slice(&[b'\\', escape]),
    }
}

/// What a byte becomes after a backslash in a JSON string (`u` for `\u00XX`), or 0
/// if it stands for itself: the control characters, `"` and `\`, as serde_json.
static ESCAPE: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Whether no byte of `bytes` needs escaping, checked eight at a time: whole words
/// from the front, then a last word that may overlap the one before it; four to
/// seven bytes as two overlapping halves in one word.
#[inline]
fn is_clean(bytes: &[u8]) -> bool {
    let len = bytes.len();
    if len >= 8 {
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        let mut at = 0;
        while at + 8 < len {
            if needs_escape(word(at)) {
                return false;
            }
            at += 8;
        }
        return !needs_escape(word(len - 8));
    }
    if len >= 4 {
        let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        return !needs_escape(u64::from(half(0)) | u64::from(half(len - 4)) << 32);
    }
    bytes.iter().all(|&b| ESCAPE[b as usize] == 0)
}

/// Whether any of a word's eight bytes is below 0x20, a `"` or a `\`.
fn needs_escape(word: u64) -> bool {
    escape_flags(word) != 0
}

/// The word's bytes that need escaping, flagged: a byte's high bit is set if it is
/// below 0x20, a `"` or a `\`. With `ONES` (0x01 in every byte) and `HIGH` (0x80 in
/// every byte), `(x - ONES * n) & !x & HIGH` flags the bytes of `x` below `n` (for `n`
/// up to 0x80), and a byte equal to `c` is a zero byte of `x ^ ONES * c`. A borrow
/// can flag a byte above a flagged one wrongly, never one below it: the lowest flag
/// is always right, and so is "no flag at all".
fn escape_flags(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let control = below(word, 0x20);
    let quote = below(word ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(word ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `write_string` writes `text` as serde_json does, and returns it.
    fn same_as_serde_json(text: &str) -> String {
        let mut ours = b"before ".to_vec();
        write_string(&mut ours, text);
        let ours = String::from_utf8(ours[b"before ".len()..].to_vec()).unwrap();
        assert_eq!(ours, serde_json::to_string(text).unwrap());
        let mut pushed = String::from("before ");
        push_string(&mut pushed, text);
        assert_eq!(pushed["before ".len()..], ours);
        ours
    }

    #[test]
    fn every_byte_and_every_length_is_escaped_as_serde_json_escapes_it() {
        for byte in 0..=0x7fu8 {
            for len in 0..20 {
                for at in 0..len {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    same_as_serde_json(std::str::from_utf8(&text).unwrap());
                }
            }
        }
        // Two that need escaping, anywhere in strings long enough for several words.
        for len in 2..40 {
            for first in 0..len {
                for second in first + 1..len {
                    for (a, b) in [(b'"', b'\n'), (0x01, 0x01), (b'\\', b'"')] {
                        let mut text = vec![b'z'; len];
                        text[first] = a;
                        text[second] = b;
                        same_as_serde_json(std::str::from_utf8(&text).unwrap());
                    }
                }
            }
        }
        for text in [
            "",
            "é",
            "naïve café",
            "日本語のテキスト",
            "🦀 crab 🦀",
            "\u{7f}\u{80}",
        ] {
            same_as_serde_json(text);
        }
        assert_eq!(same_as_serde_json("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\u0001""#);
    }

    #[test]
    fn a_word_is_flagged_exactly_when_one_of_its_bytes_needs_escaping() {
        for byte in 0..=0xffu8 {
            for at in 0..8 {
                let mut word = [b'x'; 8];
                word[at] = byte;
                // A clean byte next to the one tested, on either side, as borrows
                // carry upwards.
                assert_eq!(
                    needs_escape(u64::from_le_bytes(word)),
                    ESCAPE[byte as usize] != 0,
                    "byte {byte:#x} at {at}"
                );
            }
        }
    }

    #[test]
    fn the_lowest_flag_is_the_first_byte_that_needs_escaping() {
        // Every pair of positions, every kind of byte at each: the first special
        // byte is found, whatever comes after it.
        let kinds = [b'a', 0x00, 0x1f, b'"', b'\\', 0x7f, 0xff, b' '];
        for first in 0..8 {
            for second in 0..8 {
                for &a in &kinds {
                    for &b in &kinds {
                        let mut word = [b'x'; 8];
                        word[first] = a;
                        word[second] = b;
                        let expected = word.iter().position(|&c| ESCAPE[c as usize] != 0);
                        let flags = escape_flags(u64::from_le_bytes(word));
                        let found = (flags != 0).then(|| flags.trailing_zeros() as usize / 8);
                        assert_eq!(found, expected, "{word:?}");
                    }
                }
            }
        }
    }
}
