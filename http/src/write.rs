//! Response bytes: status line and fixed headers from constant bytes, one buffer per
//! connection reused for every response of a pipelined batch.

use crate::date;
use crate::method::Version;
use std::borrow::Cow;

use crate::response::{HeaderText, Response, JSON, TEXT};
use crate::status::StatusCode;

/// How the body that follows the head is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// The whole response is in the buffer.
    Complete,
    /// The head is in the buffer; stream the body chunked.
    Chunked,
    /// The head is in the buffer; stream the body raw, then close (HTTP/1.0).
    UntilClose,
}

/// What the connection knows when it writes a response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Framing {
    pub(crate) version: Version,
    pub(crate) keep_alive: bool,
    pub(crate) head_request: bool,
}

/// Room for the head of a response without extra headers: the longest status line,
/// `Server`, `Date`, a `Content-Type` constant, `Content-Length` and `Connection`.
const HEAD_ROOM: usize = 256;

/// Appends the response (head, and body when it is fixed) to `out`.
///
/// One `reserve` covers the head and a fixed body, and every piece of the common
/// response is a copy of constant size (inlined by the compiler) out of constant bytes
/// or the per-second date cache; only the body and extra headers are copied by length.
///
/// The commonest response is written inline at the call site; any other goes through
/// `write_any`, a call of its own (the common case going through that call too cost
/// about 26 instructions per pipelined request, callgrind).
#[inline]
pub(crate) fn write_response(out: &mut Vec<u8>, response: &Response, how: Framing) -> Sent {
    if write_common(out, response, how) {
        return Sent::Complete;
    }
    write_any(out, response, how)
}

/// [`write_response`] for any response.
#[inline(never)]
fn write_any(out: &mut Vec<u8>, response: &Response, how: Framing) -> Sent {
    let fixed = response.body.as_bytes();
    out.reserve(HEAD_ROOM + fixed.map_or(0, <[u8]>::len));
    let ok = response.status == StatusCode::OK;
    if !ok {
        write_status_line(out, response.status);
    }
    date::write_head_start(out, ok);
    if let Some(content_type) = response.content_type {
        write_content_type(out, content_type);
    }
    for (name, value) in response.headers.iter().flat_map(|headers| headers.iter()) {
        write_header(out, name, value);
    }
    let with_body = response.status.allows_body();
    let sent = match fixed {
        _ if !with_body => Sent::Complete,
        Some(bytes) => {
            out.extend_from_slice(b"Content-Length: ");
            write_decimal(out, bytes.len());
            out.extend_from_slice(b"\r\n");
            Sent::Complete
        }
        None if how.version == Version::Http11 => {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            Sent::Chunked
        }
        None => Sent::UntilClose,
    };
    let keep_alive = how.keep_alive && sent != Sent::UntilClose;
    // The `Connection` line (if any) and the blank line that ends the head, in one copy.
    match (keep_alive, how.version) {
        (true, Version::Http11) => out.extend_from_slice(b"\r\n"),
        (true, Version::Http10) => out.extend_from_slice(b"Connection: keep-alive\r\n\r\n"),
        (false, _) => out.extend_from_slice(b"Connection: close\r\n\r\n"),
    }
    if how.head_request {
        return Sent::Complete; // HEAD: headers only, even for a streamed body
    }
    if let (Some(bytes), true) = (fixed, with_body) {
        out.extend_from_slice(bytes);
    }
    sent
}

/// The commonest response in one short run: a 200 with a constant text or JSON
/// content type, no other header and a fixed body, kept alive on HTTP/1.1. Its head
/// up to the length's digits is one cached copy (see [`date::write_common_head`]).
/// False, with nothing written, for any other response. Always inlined: the compiler
/// had made it a call of its own (about 15 instructions per request, callgrind).
#[inline(always)]
fn write_common(out: &mut Vec<u8>, response: &Response, how: Framing) -> bool {
    let (StatusCode::OK, None, Some(bytes)) =
        (response.status, &response.headers, response.body.as_bytes())
    else {
        return false;
    };
    let kind = match response.content_type {
        Some(value) if std::ptr::eq(value, TEXT) => date::Common::Text,
        Some(value) if std::ptr::eq(value, JSON) => date::Common::Json,
        _ => return false,
    };
    if !how.keep_alive || how.version != Version::Http11 || how.head_request {
        return false;
    }
    out.reserve(HEAD_ROOM + bytes.len());
    date::write_common_head(out, kind);
    let n = bytes.len();
    if (10..100).contains(&n) {
        // The two digits and the blank line in one copy of constant size.
        let [tens, ones] = two_digits(n);
        out.extend_from_slice(&[tens, ones, b'\r', b'\n', b'\r', b'\n']);
    } else {
        write_decimal(out, n);
        out.extend_from_slice(b"\r\n\r\n");
    }
    out.extend_from_slice(bytes);
    true
}

/// Appends one chunk of a chunked body: its size in hex, the data, CRLF.
pub(crate) fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return; // an empty chunk would end the body
    }
    out.reserve(data.len() + 20);
    write_digits(out, data.len(), 16);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Writes the `Content-Type` line: the common ones from constant lines (one copy
/// instead of four).
fn write_content_type(out: &mut Vec<u8>, value: &'static str) {
    if std::ptr::eq(value, TEXT) {
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    } else if std::ptr::eq(value, JSON) {
        out.extend_from_slice(b"Content-Type: application/json\r\n");
    } else {
        out.extend_from_slice(b"Content-Type: ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Writes one header line. Text built at run time (`Cow::Owned`) is checked for CR,
/// LF and NUL, which would let a value start a new header or response; such a header
/// is dropped. Compile-time constants (`Cow::Borrowed`) are the programmer's own.
fn write_header(out: &mut Vec<u8>, name: &HeaderText, value: &HeaderText) {
    let checked = |t: &HeaderText| matches!(t, Cow::Borrowed(_)) || is_field_safe(t);
    if !(checked(name) && checked(value)) {
        simmer_executor::log_warn!(
            "simmer_http",
            "simmer-http: dropped response header {name:?} with a control character"
        );
        return;
    }
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The last chunk of a chunked body.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// The status line of any status but 200 (whose line comes with the date, see
/// [`date::write_head_start`]): less common, so written in pieces rather than kept as
/// a table of constant lines in the binary.
fn write_status_line(out: &mut Vec<u8>, status: StatusCode) {
    out.extend_from_slice(b"HTTP/1.1 ");
    write_digits(out, usize::from(status.0), 10);
    out.push(b' ');
    out.extend_from_slice(status.reason().as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Writes `n` in decimal without the formatting machinery. Under 100 (the length of a
/// small answer) it is one or two stores, inlined; longer numbers go to the general
/// [`write_digits`], kept out of line so the common path stays short.
#[inline]
fn write_decimal(out: &mut Vec<u8>, n: usize) {
    if n < 10 {
        out.push(b'0' + n as u8);
    } else if n < 100 {
        out.extend_from_slice(&two_digits(n));
    } else {
        write_digits(out, n, 10);
    }
}

/// Writes `n` in base `radix` (10 or 16, lowercase), one digit per step from the right:
/// one small loop serves lengths, status codes and chunk sizes.
#[inline(never)]
fn write_digits(out: &mut Vec<u8>, mut n: usize, radix: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b"0123456789abcdef"[n % radix];
        n /= radix;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// The two decimal digits of `n` (below 100).
fn two_digits(n: usize) -> [u8; 2] {
    [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]
}

/// No CR, LF or NUL: the text cannot break out of its header line.
fn is_field_safe(text: &str) -> bool {
    !text.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

#[cfg(test)]
mod combinations;

#[cfg(test)]
mod tests {
    use super::*;

    fn written(response: &Response, how: Framing) -> String {
        let mut out = Vec::new();
        write_response(&mut out, response, how);
        String::from_utf8(out).unwrap()
    }

    const KEEP: Framing = Framing {
        version: Version::Http11,
        keep_alive: true,
        head_request: false,
    };

    #[test]
    fn fixed_body_has_length_date_and_no_connection_header() {
        let text = written(&Response::text("Hello, World!"), KEEP);
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\nServer: simmer\r\nDate: "),
            "{text}"
        );
        assert!(text.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
        assert!(
            text.ends_with("Content-Length: 13\r\n\r\nHello, World!"),
            "{text}"
        );
        assert!(!text.contains("Connection"));
    }

    #[test]
    fn head_gets_headers_only_and_304_has_no_length() {
        let head = Framing {
            head_request: true,
            ..KEEP
        };
        assert!(written(&Response::text("abc"), head).ends_with("Content-Length: 3\r\n\r\n"));
        let not_modified = Response::text("x").with_status(StatusCode::NOT_MODIFIED);
        assert!(!written(&not_modified, KEEP).contains("Content-Length"));
    }

    #[test]
    fn connection_headers_follow_version_and_keep_alive() {
        let close = Framing {
            keep_alive: false,
            ..KEEP
        };
        assert!(written(&Response::text("a"), close).contains("Connection: close\r\n"));
        let ten = Framing {
            version: Version::Http10,
            ..KEEP
        };
        assert!(written(&Response::text("a"), ten).contains("Connection: keep-alive\r\n"));
    }

    #[test]
    fn header_values_with_newlines_are_dropped() {
        let r = Response::text("a").with_header("x-evil", String::from("a\r\nSet-Cookie: b"));
        assert!(!written(&r, KEEP).contains("Set-Cookie"));
    }

    #[test]
    fn decimal_and_chunk_encoding() {
        let mut out = Vec::new();
        write_decimal(&mut out, 0);
        write_decimal(&mut out, usize::MAX);
        assert_eq!(out, format!("0{}", usize::MAX).as_bytes());
        for n in [
            1, 9, 10, 99, 100, 101, 999, 1000, 12_345, 100_000, 9_999_999,
        ] {
            let mut out = Vec::new();
            write_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
        let mut out = Vec::new();
        write_chunk(&mut out, b"hello, world!!!!!");
        assert_eq!(out, b"11\r\nhello, world!!!!!\r\n");
        for len in [1, 15, 16, 255, 256, 4096, 70_000] {
            let mut out = Vec::new();
            write_chunk(&mut out, &vec![b'x'; len]);
            assert!(out.starts_with(format!("{len:x}\r\n").as_bytes()));
            assert_eq!(out.len(), format!("{len:x}").len() + 2 + len + 2);
        }
    }
}
