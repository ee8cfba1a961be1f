//! Response bytes: status line and fixed headers from constant bytes, one buffer per
//! connection reused for every response of a pipelined batch.

use crate::date;
use crate::method::Version;
use std::borrow::Cow;

use crate::response::{Body, HeaderText, Response, JSON, TEXT};
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

/// Appends the response (head, and body when it is fixed) to `out`.
pub(crate) fn write_response(out: &mut Vec<u8>, response: &Response, how: Framing) -> Sent {
    out.reserve(192 + response.body.len().unwrap_or(0));
    write_status_line(out, response.status);
    date::write_server_and_date(out);
    if let Some(content_type) = &response.content_type {
        write_content_type(out, content_type);
    }
    for (name, value) in &response.headers {
        write_header(out, name, value);
    }
    let no_body = !response.status.allows_body();
    let sent = match (&response.body, no_body) {
        (_, true) => Sent::Complete,
        (Body::Stream(_), false) if how.version == Version::Http11 => {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            Sent::Chunked
        }
        (Body::Stream(_), false) => Sent::UntilClose,
        (body, false) => {
            out.extend_from_slice(b"Content-Length: ");
            write_decimal(out, body.len().unwrap_or(0) as u64);
            out.extend_from_slice(b"\r\n");
            Sent::Complete
        }
    };
    let keep_alive = how.keep_alive && sent != Sent::UntilClose;
    match (keep_alive, how.version) {
        (false, _) => out.extend_from_slice(b"Connection: close\r\n"),
        (true, Version::Http10) => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        (true, Version::Http11) => {}
    }
    out.extend_from_slice(b"\r\n");
    if sent == Sent::Complete && !no_body && !how.head_request {
        out.extend_from_slice(response.body.as_bytes().unwrap_or(&[]));
    }
    if how.head_request && sent != Sent::Complete {
        return Sent::Complete; // HEAD: headers only, even for a streamed body
    }
    sent
}

/// Appends one chunk of a chunked body.
pub(crate) fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return; // an empty chunk would end the body
    }
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Writes the `Content-Type` line: the common ones from constant lines (one copy
/// instead of four).
fn write_content_type(out: &mut Vec<u8>, value: &HeaderText) {
    let is = |known: &str| matches!(value, Cow::Borrowed(v) if std::ptr::eq(*v, known));
    if is(TEXT) {
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    } else if is(JSON) {
        out.extend_from_slice(b"Content-Type: application/json\r\n");
    } else {
        write_header(out, &Cow::Borrowed("Content-Type"), value);
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

fn write_status_line(out: &mut Vec<u8>, status: StatusCode) {
    match status.status_line() {
        Some(line) => out.extend_from_slice(line),
        None => {
            out.extend_from_slice(b"HTTP/1.1 ");
            write_decimal(out, u64::from(status.0));
            out.extend_from_slice(b" \r\n");
        }
    }
}

/// Writes `n` in decimal without the formatting machinery.
fn write_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// No CR, LF or NUL: the text cannot break out of its header line.
fn is_field_safe(text: &str) -> bool {
    !text.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

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
        write_decimal(&mut out, 18_446_744_073_709_551_615);
        assert_eq!(out, b"018446744073709551615");
        let mut out = Vec::new();
        write_chunk(&mut out, b"hello, world!!!!!");
        assert_eq!(out, b"11\r\nhello, world!!!!!\r\n");
    }
}
