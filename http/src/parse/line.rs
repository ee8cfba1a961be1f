//! The request line, `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3),
//! read with the same rules and verdicts as httparse's request parser, which still
//! reads the header lines.
//!
//! Why not let httparse read the line too: it returns the method and target as `&str`
//! and so runs `str::from_utf8` on the target, and its general entry point does more
//! bookkeeping than the line needs. One table-driven pass here notes whether the
//! target has any non-ASCII byte (only then is UTF-8 checked) and whether it has a
//! `?` (only then is it searched), and `GET ` is recognised with one comparison.

use httparse::Error;

use crate::method::{Method, Version};

/// A complete request line.
pub(super) struct Line {
    pub(super) method: Method,
    pub(super) version: Version,
    /// Where the line starts, after any empty lines.
    pub(super) start: usize,
    /// Where the target starts in the buffer, and its length.
    pub(super) target_at: usize,
    pub(super) target_len: usize,
    /// Length of the target's part before its first `?` (all of it without one).
    pub(super) before_query: usize,
    /// Where the header lines start.
    pub(super) end: usize,
}

/// `Ok(None)`: the line is not complete yet. The errors are the kinds httparse gives
/// for the same bytes, so the mapping to statuses is shared.
#[inline]
pub(super) fn parse_line(buf: &[u8]) -> Result<Option<Line>, Error> {
    let Some(start) = skip_empty_lines(buf)? else {
        return Ok(None);
    };
    let mut at = start;
    let method = if buf[at..].starts_with(b"GET ") {
        at += 4;
        Method::Get
    } else {
        let start = at;
        while buf.get(at).is_some_and(|&b| TOKEN[b as usize]) {
            at += 1;
        }
        match buf.get(at) {
            None => return Ok(None),
            Some(b' ') if at > start => {}
            Some(_) => return Err(Error::Token),
        }
        at += 1;
        Method::from_bytes(&buf[start..at - 1])
    };
    let target_at = at;
    // Eight bytes at a time while none of them needs a closer look, then straight to
    // the first that does (a path like `/plaintext` is then one word and two bytes
    // instead of ten table lookups; `/json` one word).
    while let Some(word) = buf.get(at..at + 8) {
        let flagged = needs_a_look(u64::from_le_bytes(word.try_into().expect("eight bytes")));
        if flagged != 0 {
            at += (flagged.trailing_zeros() / 8) as usize;
            break;
        }
        at += 8;
    }
    // One pass that stops at the first byte outside the target and ORs the classes of
    // those before it (an iterator: no bounds check per byte).
    let mut seen = 0;
    let Some(len) = buf[at..].iter().position(|&b| {
        let class = URI_CLASS[b as usize];
        seen |= class;
        class == NOT_URI
    }) else {
        return Ok(None);
    };
    at += len;
    let target = &buf[target_at..at];
    if buf[at] != b' ' || target.is_empty() {
        return Err(Error::Token);
    }
    if seen & NON_ASCII != 0 && std::str::from_utf8(target).is_err() {
        return Err(Error::Token);
    }
    let before_query = if seen & QUERY != 0 {
        target
            .iter()
            .position(|&b| b == b'?')
            .unwrap_or(target.len())
    } else {
        target.len()
    };
    at += 1;
    let Some(version) = buf.get(at..at + 8) else {
        // Not all of it yet (under eight bytes): a wrong start is already an error.
        return if b"HTTP/1.".starts_with(&buf[at..]) {
            Ok(None)
        } else {
            Err(Error::Version)
        };
    };
    // As one 8-byte word: two integer comparisons.
    let word = u64::from_ne_bytes(version.try_into().expect("eight bytes"));
    let version = if word == u64::from_ne_bytes(*b"HTTP/1.1") {
        Version::Http11
    } else if word == u64::from_ne_bytes(*b"HTTP/1.0") {
        Version::Http10
    } else {
        return Err(Error::Version);
    };
    at += 8;
    let end = match buf.get(at..at + 2) {
        Some([b'\r', b'\n']) => at + 2,
        Some([b'\n', _]) => at + 1,
        Some(_) => return Err(Error::NewLine),
        None => match buf.get(at) {
            None | Some(b'\r') => return Ok(None),
            Some(b'\n') => at + 1,
            Some(_) => return Err(Error::NewLine),
        },
    };
    Ok(Some(Line {
        method,
        version,
        start,
        target_at,
        target_len: target.len(),
        before_query,
        end,
    }))
}

/// The bytes of `word` (loaded little-endian) that are not plain visible ASCII (`!` to
/// `~`) or are a `?`, as their high bits. The lowest flag is exact, so it names the
/// first such byte: a borrow can only spread upwards from a byte that is flagged
/// rightly, and the +1 cannot carry out of a byte.
fn needs_a_look(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Some byte below 0x21 (a control byte or a space).
    let low = word.wrapping_sub(ONES * 0x21) & !word & HIGH;
    // Some byte of 0x7f or above: the low seven bits plus one reach the high bit only
    // for 0x7f, and no byte carries into the next.
    let high = (word | (word & !HIGH).wrapping_add(ONES)) & HIGH;
    // Some `?`: a zero byte once `?` is XORed out.
    let question = word ^ (ONES * u64::from(b'?'));
    let query = question.wrapping_sub(ONES) & !question & HIGH;
    low | high | query
}

/// Where the line starts after any empty lines (CRLF or bare LF); `None` if the buffer
/// holds only those so far; a CR followed by anything but LF is an error.
fn skip_empty_lines(buf: &[u8]) -> Result<Option<usize>, Error> {
    let mut at = 0;
    loop {
        match buf.get(at) {
            None => return Ok(None),
            Some(b'\n') => at += 1,
            Some(b'\r') => match buf.get(at + 1) {
                None => return Ok(None),
                Some(b'\n') => at += 2,
                Some(_) => return Err(Error::NewLine),
            },
            Some(_) => return Ok(Some(at)),
        }
    }
}

/// `tchar` (RFC 9110 §5.6.2): the bytes of a method token.
pub(super) static TOKEN: [bool; 256] = super::alphanumeric_or(b"!#$%&'*+-.^_`|~");

/// `URI_CLASS` values: a byte that ends the target; a visible ASCII byte; a `?`; a
/// byte of 0x80 or more (allowed, if the whole target is UTF-8). They are bits, so
/// one OR per byte tells after the scan which of them occurred.
const NOT_URI: u8 = 0;
const URI: u8 = 1;
const QUERY: u8 = 2;
const NON_ASCII: u8 = 4;

/// Each byte's class in a request target: httparse's set (`!` to `~`, and 0x80 up).
static URI_CLASS: [u8; 256] = {
    let mut table = [NOT_URI; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'?' => QUERY,
            b'!'..=b'~' => URI,
            0x80..=0xff => NON_ASCII,
            _ => NOT_URI,
        };
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    type Fields = (String, String, Version);

    /// httparse's request parser on `buf`: its verdict, and the request-line fields
    /// it found (it fills them in before looking at the line ending and headers).
    fn httparse_request(buf: &[u8]) -> (Result<bool, Error>, Option<Fields>) {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        let verdict = req.parse(buf).map(|status| status.is_complete());
        let fields = req.version.map(|v| {
            let version = if v == 0 {
                Version::Http10
            } else {
                Version::Http11
            };
            let method = req.method.unwrap().to_string();
            (method, req.path.unwrap().to_string(), version)
        });
        (verdict, fields)
    }

    /// The line parser and httparse agree on `buf`: the same error, both waiting for
    /// more, or the same fields, and then httparse finds the line complete too (it
    /// accepts the line followed by an empty header section).
    fn agree(buf: &[u8]) {
        let show = String::from_utf8_lossy(buf);
        let (verdict, fields) = httparse_request(buf);
        match parse_line(buf) {
            Err(e) => assert_eq!(verdict, Err(e), "{show:?}"),
            Ok(None) => assert_eq!(verdict, Ok(false), "{show:?}"),
            Ok(Some(line)) => {
                let target = &buf[line.target_at..line.target_at + line.target_len];
                let target = String::from_utf8(target.to_vec()).unwrap();
                let before_query = target.find('?').unwrap_or(target.len());
                assert_eq!(line.before_query, before_query, "{show:?}");
                let ours = (line.method.to_string(), target, line.version);
                assert_eq!(fields.as_ref(), Some(&ours), "{show:?}");
                let mut alone = buf[..line.end].to_vec();
                alone.extend_from_slice(b"\r\n");
                assert_eq!(httparse_request(&alone), (Ok(true), Some(ours)), "{show:?}");
            }
        }
    }

    const LINES: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\n",
        b"GET /plaintext HTTP/1.1\r\n",
        b"POST /a?b=c HTTP/1.0\r\n",
        b"\r\n\nGET / HTTP/1.1\n",
        b"M-SEARCH * HTTP/1.1\r\n",
        b"get /x HTTP/1.1\r\n",
        b"GET /caf\xc3\xa9 HTTP/1.1\r\n",
        b"GET /caf\xe9 HTTP/1.1\r\n",
        b"GET /a b HTTP/1.1\r\n",
        b"GET  / HTTP/1.1\r\n",
        b"GET /  HTTP/1.1\r\n",
        b" GET / HTTP/1.1\r\n",
        b"G(T / HTTP/1.1\r\n",
        b"GET / HTTP/2.0\r\n",
        b"GET / HTTP/1.2\r\n",
        b"GET / http/1.1\r\n",
        b"GET / HTTP/1.1\rx",
        b"GET / HTTP/1.1x\r\n",
        b"GET /\x7f HTTP/1.1\r\n",
        b"GET /\t HTTP/1.1\r\n",
        b"\rGET / HTTP/1.1\r\n",
        b"CONNECT a:443 HTTP/1.1\r\n",
        b"GET http://a/b?c HTTP/1.1\r\n",
        b"GET\r\n",
        b"GET /\r\n",
        b"GET /abcdefgh HTTP/1.1\r\n",
        b"GET /abcdefghijklmnopqrstuvw HTTP/1.1\r\n",
        b"GET /abcdefghijklmno?pqrstuvw HTTP/1.1\r\n",
        b"GET /abcdefghijk\xc3\xa9lmnopqrstuvw HTTP/1.1\r\n",
        b"GET /abcdefghijk\xe9lmnopqrstuvw HTTP/1.1\r\n",
        b"GET /abcdefghijk mnopqrstuvw HTTP/1.1\r\n",
    ];

    #[test]
    fn agrees_with_httparse_on_every_prefix() {
        for line in LINES {
            let mut full = line.to_vec();
            full.extend_from_slice(b"Host: a\r\n\r\n");
            for end in 0..=full.len() {
                agree(&full[..end]);
            }
        }
    }

    #[test]
    fn agrees_with_httparse_on_every_byte_in_every_place() {
        // Targets of 4 and 26 bytes: one read byte by byte, one mostly by words.
        let short = &b"GET /a?b HTTP/1.1\r\nHost: a\r\n\r\n"[..];
        let long = &b"GET /abcdefghijklmnopqrstuvwxy HTTP/1.1\r\nHost: a\r\n\r\n"[..];
        for base in [short, long] {
            every_byte_in_every_place(base);
        }
    }

    #[test]
    fn the_word_test_finds_the_first_byte_the_byte_test_would() {
        let byte_needs_a_look = |b: u8| URI_CLASS[b as usize] != URI;
        let fillers = [
            b'a', b'~', b'!', b' ', 0x7f, 0x80, 0xff, 0, b'?', b'@', b'>',
        ];
        for filler in fillers {
            for other in fillers {
                for at in 0..8 {
                    for byte in 0..=255u8 {
                        let mut word = [filler; 8];
                        word[(at + 3) % 8] = other;
                        word[at] = byte;
                        let want = word.iter().position(|&b| byte_needs_a_look(b));
                        let flagged = needs_a_look(u64::from_le_bytes(word));
                        let got = (flagged != 0).then(|| flagged.trailing_zeros() as usize / 8);
                        assert_eq!(got, want, "{word:?}");
                    }
                }
            }
        }
    }

    fn every_byte_in_every_place(base: &[u8]) {
        let line_end = base.iter().position(|&b| b == b'\n').unwrap() + 1;
        for at in 0..line_end {
            for byte in 0..=255u8 {
                let mut buf = base.to_vec();
                buf[at] = byte;
                agree(&buf);
            }
        }
    }
}
