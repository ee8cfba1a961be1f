//! The header field lines, `field-name ":" OWS field-value OWS CRLF` (RFC 9112 §5), up to
//! the empty line that ends the head: read with the same rules and verdicts as
//! httparse's header parser (no obs-fold, no whitespace before the colon, CRLF or a
//! bare LF at the end of each line).
//!
//! Why not httparse: it writes each field into a caller's array of `(&str, &[u8])`
//! slots, which must be initialised before every call (16 of them here), and the
//! positions then have to be worked out again from the pointers. Here one pass writes
//! each field's (name, value) positions straight into the connection's reused head.

use httparse::Error;

use super::line::TOKEN;
use super::Span;
use crate::inline_vec::InlineVec;

/// How far the header lines got.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Fields {
    /// The empty line was found; the head ends at this offset (just after it).
    Complete(usize),
    /// Not all of them yet.
    Partial,
}

/// Reads the field lines of `buf` from offset `at`, writing their positions into
/// `spans` (cleared first). More than `max_fields` fields is `TooManyHeaders`.
///
/// Offsets are `u16` in `Span`: only a head no longer than 64 KiB is ever looked at
/// through them (the caller answers a longer one with 431 before using `spans`).
#[inline]
pub(super) fn parse_fields(
    buf: &[u8],
    mut at: usize,
    spans: &mut InlineVec<(Span, Span), 16>,
    max_fields: usize,
) -> Result<Fields, Error> {
    spans.clear();
    loop {
        // An empty line ends the head.
        match buf.get(at) {
            None => return Ok(Fields::Partial),
            Some(b'\r') => {
                return match buf.get(at + 1) {
                    None => Ok(Fields::Partial),
                    Some(b'\n') => Ok(Fields::Complete(at + 2)),
                    Some(_) => Err(Error::NewLine),
                }
            }
            Some(b'\n') => return Ok(Fields::Complete(at + 1)),
            Some(_) => {}
        }
        let name_at = at;
        while buf.get(at).is_some_and(|&b| TOKEN[b as usize]) {
            at += 1;
        }
        match buf.get(at) {
            // A line that starts with a space (obs-fold) or any other non-token byte,
            // or a name followed by anything but the colon (`Host :`).
            Some(b':') if at > name_at => {}
            Some(_) => return Err(Error::HeaderName),
            None => return Ok(Fields::Partial),
        }
        let name = span(name_at, at);
        at += 1;
        while matches!(buf.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        let value_at = at;
        at = skip_value_bytes(buf, at);
        let mut value_end = at;
        // The line ending: CRLF or a bare LF; a bare CR or a control byte is invalid.
        match buf.get(at) {
            None => return Ok(Fields::Partial),
            Some(b'\n') => at += 1,
            Some(b'\r') => match buf.get(at + 1) {
                None => return Ok(Fields::Partial),
                Some(b'\n') => at += 2,
                Some(_) => return Err(Error::HeaderValue),
            },
            Some(_) => return Err(Error::HeaderValue),
        }
        // Trailing whitespace is not part of the value.
        while value_end > value_at && matches!(buf[value_end - 1], b' ' | b'\t') {
            value_end -= 1;
        }
        if spans.as_slice().len() == max_fields {
            return Err(Error::TooManyHeaders);
        }
        spans.push((name, span(value_at, value_end)));
    }
}

fn span(start: usize, end: usize) -> Span {
    Span {
        start: start as u16,
        end: end as u16,
    }
}

/// The offset of the first byte from `at` on that cannot be in a field value: a
/// control byte other than HTAB (CR and LF among them), DEL, or the end of `buf`.
/// Eight bytes at a time while none of them is one (a value such as `127.0.0.1:8080`
/// is then two words instead of fourteen table lookups). Always inlined: its one
/// caller runs it once per field, and the call alone cost about 14 instructions per
/// request (callgrind) when the compiler chose not to.
#[inline(always)]
fn skip_value_bytes(buf: &[u8], mut at: usize) -> usize {
    while let Some(word) = buf.get(at..at + 8) {
        let stops = value_stops(u64::from_le_bytes(word.try_into().expect("eight bytes")));
        if stops != 0 {
            let first = at + (stops.trailing_zeros() / 8) as usize;
            // The flag of the lowest byte that stops is exact; check from there on
            // byte by byte (a flag above it may be a borrow's false alarm).
            return skip_value_bytes_one_by_one(buf, first);
        }
        at += 8;
    }
    skip_value_bytes_one_by_one(buf, at)
}

fn skip_value_bytes_one_by_one(buf: &[u8], mut at: usize) -> usize {
    while buf.get(at).is_some_and(|&b| VALUE[b as usize]) {
        at += 1;
    }
    at
}

/// The high bit of each byte of `word` that is below 0x20 or is 0x7f (HTAB included:
/// the caller's byte loop lets it through). A byte at 0x80 or above is obs-text,
/// allowed, and never flagged. The lowest flagged byte is exact.
fn value_stops(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes below 0x20: subtracting 0x20 borrows into the high bit.
    let below_space = word.wrapping_sub(ONES * 0x20);
    // Bytes equal to 0x7f: xor makes them zero, and zero minus one borrows.
    let del = (word ^ (ONES * 0x7f)).wrapping_sub(ONES);
    // Either borrow, in a byte whose own high bit is clear (not obs-text).
    (below_space | del) & !word & HIGH
}

/// Bytes allowed in a field value: HTAB, SP, visible ASCII and obs-text (RFC 9110
/// §5.5), as httparse allows them.
static VALUE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b == b'\t' as usize || (b >= 0x20 && b != 0x7f);
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    /// A verdict with the (name, value) pairs found when complete.
    type Verdict = Result<(Fields, Vec<(Vec<u8>, Vec<u8>)>), Error>;

    /// httparse's verdict and fields for the same bytes, as `parse_fields` gives them.
    fn by_httparse(buf: &[u8], max: usize) -> Verdict {
        let mut slots = vec![httparse::EMPTY_HEADER; max];
        match httparse::parse_headers(buf, &mut slots)? {
            httparse::Status::Partial => Ok((Fields::Partial, Vec::new())),
            httparse::Status::Complete((len, fields)) => Ok((
                Fields::Complete(len),
                fields
                    .iter()
                    .map(|f| (f.name.as_bytes().to_vec(), f.value.to_vec()))
                    .collect(),
            )),
        }
    }

    fn by_us(buf: &[u8], max: usize) -> Verdict {
        let mut spans = InlineVec::new();
        let fields = parse_fields(buf, 0, &mut spans, max)?;
        let found = match fields {
            Fields::Partial => Vec::new(),
            Fields::Complete(_) => spans
                .as_slice()
                .iter()
                .map(|(n, v)| (n.get(buf).to_vec(), v.get(buf).to_vec()))
                .collect(),
        };
        Ok((fields, found))
    }

    const BLOCKS: &[&[u8]] = &[
        b"\r\n",
        b"\n",
        b"Host: a\r\n\r\n",
        b"Host: 127.0.0.1:28090\r\nAccept: */*\r\n\r\n",
        b"Host:a\n\n",
        b"Host:\r\n\r\n",
        b"Host:   \t \r\n\r\n",
        b"Host: a \t \r\nX-Long-Header-Name: a value with spaces, commas; and=more\r\n\r\n",
        b"Host : a\r\n\r\n",
        b" Host: a\r\n\r\n",
        b"Host: a\r\n folded\r\n\r\n",
        b"Ho st: a\r\n\r\n",
        b": a\r\n\r\n",
        b"Host: a\rb\r\n\r\n",
        b"Host: a\r\n\rx",
        b"Host: caf\xc3\xa9 \xff\x80\r\n\r\n",
        b"Host: a\x7fb\r\n\r\n",
        b"Host: a\x00b\r\n\r\n",
        b"Host: a\tb\r\n\r\n",
        b"X: 0123456789abcdef0123456789abcdef\x01\r\n\r\n",
        b"X: 0123456789abcdef0123456789\r\nY: z\r\n\r\nGET / HTTP/1.1\r\n",
        b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
    ];

    #[test]
    fn every_prefix_of_every_block_gets_httparses_verdict_and_fields() {
        for block in BLOCKS {
            for end in 0..=block.len() {
                let buf = &block[..end];
                for max in [2, 3, 16] {
                    assert_eq!(
                        by_us(buf, max),
                        by_httparse(buf, max),
                        "{:?} max {max}",
                        String::from_utf8_lossy(buf)
                    );
                }
            }
        }
    }

    #[test]
    fn every_byte_at_every_position_gets_httparses_verdict() {
        let sample: &[u8] = b"Host: 127.0.0.1:8080\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n\r\n";
        for at in 0..sample.len() {
            for byte in 0..=255u8 {
                let mut buf = sample.to_vec();
                buf[at] = byte;
                assert_eq!(
                    by_us(&buf, 16),
                    by_httparse(&buf, 16),
                    "byte {byte:#04x} at {at}"
                );
            }
        }
    }

    #[test]
    fn the_word_scan_stops_where_the_byte_table_does() {
        for stop in 0..=255u8 {
            for at in 0..12 {
                let mut buf = vec![b'a'; 12];
                buf[at] = stop;
                let expected = skip_value_bytes_one_by_one(&buf, 0);
                assert_eq!(
                    skip_value_bytes(&buf, 0),
                    expected,
                    "byte {stop:#04x} at {at}"
                );
            }
        }
        // Mixed words: obs-text, HTAB and DEL next to each other.
        let buf = b"\xff\x80\t\x7f\x20\x1f\x00\x7e";
        for start in 0..buf.len() {
            assert_eq!(
                skip_value_bytes(buf, start),
                skip_value_bytes_one_by_one(buf, start)
            );
        }
    }
}
