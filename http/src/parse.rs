//! Request heads: `line` reads the request line, `fields` the header lines (both with
//! httparse's rules and verdicts, checked against it by their tests); this file
//! applies RFC 9112's rules that a syntax check leaves to the server (Host, Content-Length,
//! Transfer-Encoding, versions, limits) and decides how the body is framed.
//!
//! Every problem becomes an [`HttpError`] with the status the RFC asks for; the
//! connection answers it and closes.

use crate::error::HttpError;
use crate::inline_vec::InlineVec;
use crate::method::{Method, Version};

mod fields;
mod host;
mod line;

use fields::Fields;
use host::{is_valid_host, split_host_port, KnownHost};

/// A byte table for the parsers: true for ASCII letters and digits and for the bytes
/// in `extra`, false for every other byte. Built at compile time.
const fn alphanumeric_or(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

/// Byte range `start..end` inside the request head. Heads are at most 64 KiB
/// (`ServerConfig::validate` holds `max_header_bytes` to that), so u16 offsets do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u16,
    pub(crate) end: u16,
}

impl Span {
    fn of(outer: &[u8], inner: &[u8]) -> Span {
        let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
        Span {
            start: start as u16,
            end: (start + inner.len()) as u16,
        }
    }

    pub(crate) fn get(self, bytes: &[u8]) -> &[u8] {
        &bytes[self.start as usize..self.end as usize]
    }
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The limits that apply while reading a head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadLimits {
    pub(crate) max_request_line: usize,
    pub(crate) max_header_bytes: usize,
    pub(crate) max_headers: usize,
}

/// What the parser leaves in the connection's reused request head: the request line's
/// parts, the header (name, value) positions (16 fit without an allocation), and the
/// last Host value it found valid on this connection. Written in place, so a parsed
/// head is never moved; the line's parts only once the whole head is accepted.
pub(crate) struct ParsedHead {
    pub(crate) method: Method,
    pub(crate) version: Version,
    /// The request target, as sent.
    pub(crate) target: Span,
    /// The path and query the request is routed by: the whole target in origin-form,
    /// the part after the authority in absolute-form (empty there means `/`).
    pub(crate) origin: Span,
    /// Length of the path part of `origin` (up to its first `?`).
    pub(crate) path_len: u16,
    spans: InlineVec<(Span, Span), 16>,
    host: KnownHost,
}

impl ParsedHead {
    /// Nothing parsed yet, and no Host known.
    pub(crate) fn new() -> ParsedHead {
        ParsedHead {
            method: Method::Get,
            version: Version::Http11,
            target: Span::default(),
            origin: Span::default(),
            path_len: 0,
            spans: InlineVec::new(),
            host: KnownHost::new(),
        }
    }

    /// The positions of the last parsed head's headers, in order.
    pub(crate) fn as_slice(&self) -> &[(Span, Span)] {
        self.spans.as_slice()
    }
}

/// What the connection needs to know of a complete, validated request head (its
/// parts are in the `ParsedHead`).
pub(crate) struct Head {
    /// Bytes of the head, including the blank line (and any leading empty lines).
    pub(crate) len: usize,
    pub(crate) version: Version,
    /// A `HEAD` request (no body in the answer).
    pub(crate) head_request: bool,
    pub(crate) framing: Framing,
    /// The client wants the connection kept open after this response.
    pub(crate) keep_alive: bool,
    /// `Expect: 100-continue`.
    pub(crate) expect_continue: bool,
}

/// The outcome of looking at the start of the read buffer.
pub(crate) enum Parsed {
    /// A full head; the body (if any) starts at `head.len`.
    Complete(Head),
    /// Not all of it yet: read more.
    Partial,
    /// Answer with this error, then close.
    Invalid(HttpError),
}

/// Parses the head at the start of `buf` into `into` (the connection's reused request
/// head), so the result is small to move.
pub(crate) fn parse_head(buf: &[u8], limits: &HeadLimits, into: &mut ParsedHead) -> Parsed {
    let line = match line::parse_line(buf) {
        Ok(Some(line)) => line,
        // 414 comes before any other verdict.
        Ok(None) => {
            return match check_request_line_length(buf, limits) {
                Err(too_long) => Parsed::Invalid(too_long),
                Ok(()) => partial(buf, limits),
            }
        }
        Err(e) => {
            return Parsed::Invalid(match check_request_line_length(buf, limits) {
                Err(too_long) => too_long,
                Ok(()) => syntax_error(buf, e),
            })
        }
    };
    if line.target_at + line.target_len + " HTTP/1.x".len() - line.start > limits.max_request_line {
        return Parsed::Invalid(HttpError::new(414, "request line too long"));
    }
    match fields::parse_fields(buf, line.end, &mut into.spans, limits.max_headers) {
        Ok(Fields::Complete(len)) => complete(buf, line, len, limits, into),
        Ok(Fields::Partial) => partial(buf, limits),
        Err(e) => Parsed::Invalid(syntax_error(buf, e)),
    }
}

/// Not all of the head yet: wait for more, unless it is already too large.
fn partial(buf: &[u8], limits: &HeadLimits) -> Parsed {
    if buf.len() > limits.max_header_bytes {
        Parsed::Invalid(HttpError::new(431, "request header section too large"))
    } else {
        Parsed::Partial
    }
}

/// The checks once the head is complete (`len` bytes) and its lines well-formed, the
/// header positions in `into`; on success the line's parts go there too.
fn complete(
    buf: &[u8],
    line: line::Line,
    len: usize,
    limits: &HeadLimits,
    into: &mut ParsedHead,
) -> Parsed {
    if len > limits.max_header_bytes {
        return Parsed::Invalid(HttpError::new(431, "request header section too large"));
    }
    let target = &buf[line.target_at..line.target_at + line.target_len];
    let origin = match check_target(&line.method, target) {
        Ok(origin) => origin,
        Err(e) => return Parsed::Invalid(e),
    };
    // In origin-form the line parser has found the `?` already.
    let path_len = if origin.len() == target.len() {
        line.before_query
    } else {
        origin
            .iter()
            .position(|&b| b == b'?')
            .unwrap_or(origin.len())
    };
    let checked = match validate(buf, line.version, into) {
        Ok(checked) => checked,
        Err(e) => return Parsed::Invalid(e),
    };
    let head = Head {
        len,
        version: line.version,
        head_request: line.method == Method::Head,
        framing: checked.framing,
        keep_alive: checked.keep_alive,
        expect_continue: checked.expect_continue,
    };
    into.method = line.method;
    into.version = line.version;
    into.target = Span::of(buf, target);
    into.origin = Span::of(buf, origin);
    into.path_len = path_len as u16;
    Parsed::Complete(head)
}

/// What the header checks decide.
struct Checked {
    framing: Framing,
    keep_alive: bool,
    expect_continue: bool,
}

/// The server's half of RFC 9112: Host, framing, connection options, over the header
/// positions the field parser wrote into `spans`.
fn validate(buf: &[u8], version: Version, into: &mut ParsedHead) -> Result<Checked, HttpError> {
    let mut hosts = 0;
    let mut length: Option<u64> = None;
    let mut codings: Vec<&[u8]> = Vec::new();
    let mut close = false;
    let mut keep_alive_token = false;
    let mut expect_continue = false;
    let mut saw_transfer_encoding = false;
    let ParsedHead { spans, host, .. } = into;
    for &(name, value) in spans.as_slice() {
        let name = name.get(buf);
        let value = value.get(buf);
        // The length picks the one name worth comparing.
        let is = |wanted: &[u8]| name.len() == wanted.len() && token_is(name, wanted);
        if !matches!(name.len(), 4 | 6 | 10 | 14 | 17) {
            continue;
        }
        if is(b"host") {
            hosts += 1;
            if !host.is_valid(value) {
                return Err(HttpError::bad_request(
                    "invalid Host header (want host or host:port)",
                ));
            }
        } else if is(b"content-length") {
            // One value, or the same one repeated as a list (`5, 5`, RFC 9110 §8.6); an
            // empty value or element (`5,`) is as invalid as any other non-digit.
            for n in value.split(|&b| b == b',').map(trim_ows) {
                let n = parse_content_length(n)?;
                if length.is_some_and(|seen| seen != n) {
                    return Err(HttpError::bad_request("differing Content-Length values"));
                }
                length = Some(n);
            }
        } else if is(b"transfer-encoding") {
            saw_transfer_encoding = true;
            codings.extend(comma_list(value));
        } else if is(b"connection") {
            for token in comma_list(value) {
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if is(b"expect") {
            expect_continue = value.eq_ignore_ascii_case(b"100-continue");
        }
    }
    if version == Version::Http11 && hosts == 0 {
        return Err(HttpError::bad_request(
            "missing Host header (required in HTTP/1.1)",
        ));
    }
    if hosts > 1 {
        return Err(HttpError::bad_request("more than one Host header"));
    }
    if version == Version::Http10 && saw_transfer_encoding {
        // RFC 9112 §6.1: an HTTP/1.0 peer cannot have meant chunked framing, so the
        // message's framing is faulty.
        return Err(HttpError::bad_request(
            "Transfer-Encoding in an HTTP/1.0 request",
        ));
    }
    let framing = match (codings.is_empty(), length) {
        (false, Some(_)) => {
            return Err(HttpError::bad_request(
                "both Content-Length and Transfer-Encoding (request smuggling risk)",
            ))
        }
        (false, None) => chunked_framing(&codings)?,
        (true, Some(0)) | (true, None) => Framing::Empty,
        (true, Some(n)) => Framing::Length(n),
    };
    let keep_alive = match version {
        Version::Http11 => !close,
        Version::Http10 => keep_alive_token && !close,
    };
    Ok(Checked {
        framing,
        keep_alive,
        // RFC 9110 §10.1.1: ignored in HTTP/1.0, which has no 1xx responses.
        expect_continue: expect_continue && version == Version::Http11,
    })
}

/// Whether the token `name` is `lower` (lowercase letters and `-`) in any case, with no
/// branch per byte: setting bit 5 lowercases a letter, and of the bytes it maps to a
/// letter or to `-` only those two letters and `-` itself (CR maps to `-`, but
/// is no token byte) can be in a name at all.
fn token_is(name: &[u8], lower: &[u8]) -> bool {
    debug_assert!(lower.iter().all(|&b| b.is_ascii_lowercase() || b == b'-'));
    name.len() == lower.len()
        && name
            .iter()
            .zip(lower)
            .fold(0, |diff, (&b, &want)| diff | ((b | 0x20) ^ want))
            == 0
}

/// The four request-target forms of RFC 9112 §3.2, each allowed only where it belongs:
/// origin-form (`/path?q`) for any method but CONNECT, absolute-form
/// (`http://host/path?q`, which servers must accept) for any method but CONNECT,
/// authority-form (`host:port`) only for CONNECT, asterisk-form (`*`) only for OPTIONS.
/// Returns the part the request is routed by (path and query).
fn check_target<'t>(method: &Method, target: &'t [u8]) -> Result<&'t [u8], HttpError> {
    let bad = |what: &str| Err(HttpError::bad_request(format!("request target: {what}")));
    if *method == Method::Connect {
        return match split_host_port(target) {
            Some((host, port)) if !host.is_empty() && !port.is_empty() => Ok(target),
            _ => bad("CONNECT needs host:port (authority-form)"),
        };
    }
    match target {
        [b'/', ..] => Ok(target),
        b"*" if *method == Method::Options => Ok(target),
        b"*" => bad("* is only for OPTIONS"),
        _ => {
            let Some(rest) = strip_http_scheme(target) else {
                return bad("want /path, or http://host/path");
            };
            // RFC 9112 §3.2.2: the authority here replaces Host (which must still be
            // valid); the path and query route the request.
            let end = rest
                .iter()
                .position(|&b| b == b'/' || b == b'?' || b == b'#')
                .unwrap_or(rest.len());
            let (authority, origin) = rest.split_at(end);
            if authority.is_empty() || !is_valid_host(authority) {
                return bad("absolute-form needs a valid host");
            }
            Ok(origin)
        }
    }
}

/// What follows `http://` or `https://` (scheme compared case-insensitively).
fn strip_http_scheme(target: &[u8]) -> Option<&[u8]> {
    let colon = target.iter().position(|&b| b == b':')?;
    let (scheme, rest) = target.split_at(colon);
    let known = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    rest.strip_prefix(b"://").filter(|_| known)
}

/// Transfer codings: the last must be `chunked` (else 400); simmer decodes only
/// `chunked`, so any other coding is 501.
fn chunked_framing(codings: &[&[u8]]) -> Result<Framing, HttpError> {
    let is_chunked = |c: &[u8]| c.eq_ignore_ascii_case(b"chunked");
    match codings.last() {
        Some(last) if is_chunked(last) => {}
        _ => {
            return Err(HttpError::bad_request(
                "Transfer-Encoding must end with chunked in a request",
            ))
        }
    }
    if codings.iter().filter(|c| is_chunked(c)).count() > 1 {
        return Err(HttpError::bad_request("chunked applied more than once"));
    }
    if codings.len() > 1 {
        return Err(HttpError::new(
            501,
            "unsupported transfer coding (only chunked is)",
        ));
    }
    Ok(Framing::Chunked)
}

/// Digits only: no sign, no spaces inside, no hex, no overflow.
fn parse_content_length(value: &[u8]) -> Result<u64, HttpError> {
    let malformed = || HttpError::bad_request("malformed Content-Length");
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }
    value.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or_else(malformed)
    })
}

/// Elements of a comma-separated header value, trimmed of spaces and tabs; empty
/// elements are skipped as RFC 9110 allows.
fn comma_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|s| !s.is_empty())
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// 414 when the request line (after any leading empty lines) is over the limit.
fn check_request_line_length(buf: &[u8], limits: &HeadLimits) -> Result<(), HttpError> {
    let line = request_line(buf);
    let too_long = match line {
        Some(line) => line.len() > limits.max_request_line,
        None => skip_empty_lines(buf).len() > limits.max_request_line,
    };
    if too_long {
        return Err(HttpError::new(414, "request line too long"));
    }
    Ok(())
}

/// The first line after leading empty lines, without its line ending, if complete.
fn request_line(buf: &[u8]) -> Option<&[u8]> {
    let rest = skip_empty_lines(buf);
    let end = rest.iter().position(|&b| b == b'\n')?;
    let line = &rest[..end];
    Some(line.strip_suffix(b"\r").unwrap_or(line))
}

fn skip_empty_lines(mut buf: &[u8]) -> &[u8] {
    loop {
        match buf {
            [b'\r', b'\n', rest @ ..] | [b'\n', rest @ ..] => buf = rest,
            _ => return buf,
        }
    }
}

/// Turns httparse's error into the status RFC 9112 asks for.
fn syntax_error(buf: &[u8], error: httparse::Error) -> HttpError {
    match error {
        httparse::Error::Version => version_error(buf),
        httparse::Error::TooManyHeaders => HttpError::new(431, "too many header fields"),
        httparse::Error::Token => HttpError::bad_request("invalid method or header token"),
        httparse::Error::HeaderName => HttpError::bad_request(
            "invalid header name (whitespace before the colon, obs-fold or a control byte)",
        ),
        httparse::Error::HeaderValue => {
            HttpError::bad_request("invalid header value (control byte or bare CR)")
        }
        httparse::Error::NewLine => HttpError::bad_request("invalid line ending (bare CR)"),
        httparse::Error::Status => HttpError::bad_request("invalid request line"),
    }
}

/// httparse says "version" both for `HTTP/2.0` (505) and for a target with spaces in
/// it (the version slot then holds part of the target: 400). Look at the line itself.
fn version_error(buf: &[u8]) -> HttpError {
    let line = request_line(buf).unwrap_or(buf);
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    match parts.as_slice() {
        [_, _, version] if is_version_token(version) => {
            HttpError::new(505, "only HTTP/1.0 and HTTP/1.1 are supported")
        }
        [_, _, _, _, ..] => HttpError::bad_request("whitespace in the request target"),
        _ => HttpError::bad_request("malformed request line"),
    }
}

/// `HTTP/<digit>.<digit>` or `HTTP/<digit>`.
fn is_version_token(token: &[u8]) -> bool {
    match token.strip_prefix(b"HTTP/") {
        Some([major]) => major.is_ascii_digit(),
        Some([major, b'.', minor]) => major.is_ascii_digit() && minor.is_ascii_digit(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: HeadLimits = HeadLimits {
        max_request_line: 8192,
        max_header_bytes: 16384,
        max_headers: 100,
    };

    fn status_of(raw: &[u8]) -> Option<u16> {
        match parse_head(raw, &LIMITS, &mut ParsedHead::new()) {
            Parsed::Invalid(e) => Some(e.status().0),
            Parsed::Complete(_) => None,
            Parsed::Partial => Some(0),
        }
    }

    /// Table of (request, expected status; None = accepted, 0 = partial).
    macro_rules! cases {
        ($($name:ident: $raw:expr => $want:expr;)*) => {
            $( #[test] fn $name() { assert_eq!(status_of($raw), $want, "{:?}", String::from_utf8_lossy($raw)); } )*
        };
    }

    cases! {
        plain_get: b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" => None;
        http10_without_host: b"GET / HTTP/1.0\r\n\r\n" => None;
        leading_empty_line: b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n" => None;
        partial: b"GET / HTTP/1.1\r\nHost: a\r\n" => Some(0);
        missing_host: b"GET / HTTP/1.1\r\n\r\n" => Some(400);
        two_hosts: b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" => Some(400);
        cl_and_te: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" => Some(400);
        differing_cl: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n" => Some(400);
        same_cl_twice: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n" => None;
        same_cl_listed: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n" => None;
        cl_empty: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n" => Some(400);
        cl_empty_element: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,\r\n\r\n" => Some(400);
        cl_sign: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n" => Some(400);
        cl_inner_space: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n" => Some(400);
        cl_hex: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n" => Some(400);
        cl_overflow: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n" => Some(400);
        te_not_last_chunked: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" => Some(400);
        te_unknown: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" => Some(501);
        te_only_unknown: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n" => Some(400);
        obs_fold: b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n" => Some(400);
        space_before_colon: b"GET / HTTP/1.1\r\nHost : a\r\n\r\n" => Some(400);
        bare_cr: b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n" => Some(400);
        nul_in_value: b"GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n" => Some(400);
        control_in_value: b"GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n" => Some(400);
        bad_method: b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        space_in_target: b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        http2: b"GET / HTTP/2.0\r\nHost: a\r\n\r\n" => Some(505);
        http12: b"GET / HTTP/1.2\r\nHost: a\r\n\r\n" => Some(505);
        absolute_form: b"GET http://a:80/p?q HTTP/1.1\r\nHost: a\r\n\r\n" => None;
        absolute_form_https_upper: b"GET HTTPS://a/ HTTP/1.1\r\nHost: b\r\n\r\n" => None;
        absolute_form_no_path: b"GET http://a HTTP/1.1\r\nHost: a\r\n\r\n" => None;
        absolute_form_other_scheme: b"GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        absolute_form_no_host: b"GET http:///p HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        absolute_form_userinfo: b"GET http://u@a/p HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        absolute_form_still_needs_host: b"GET http://a/ HTTP/1.1\r\n\r\n" => Some(400);
        authority_form_with_connect: b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n" => None;
        authority_form_with_get: b"GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        connect_with_a_path: b"CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        connect_without_port: b"CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        asterisk_with_options: b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n" => None;
        asterisk_with_get: b"GET * HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        bare_word_target: b"GET index.html HTTP/1.1\r\nHost: a\r\n\r\n" => Some(400);
        host_with_port: b"GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n" => None;
        host_empty: b"GET / HTTP/1.1\r\nHost:\r\n\r\n" => None;
        host_ipv6: b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n" => None;
        host_ipvfuture: b"GET / HTTP/1.1\r\nHost: [v1.x:y]\r\n\r\n" => None;
        host_pct: b"GET / HTTP/1.1\r\nHost: a%41b\r\n\r\n" => None;
        host_bad_ipv6: b"GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n" => Some(400);
        host_unclosed_bracket: b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n" => Some(400);
        host_letters_in_port: b"GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n" => Some(400);
        host_two_colons: b"GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n" => Some(400);
        host_with_space: b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n" => Some(400);
        host_with_slash: b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n" => Some(400);
        host_with_userinfo: b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n" => Some(400);
        host_bad_pct: b"GET / HTTP/1.1\r\nHost: a%4\r\n\r\n" => Some(400);
        te_in_http10: b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" => Some(400);
        te_identity_in_http10: b"POST / HTTP/1.0\r\nTransfer-Encoding: identity\r\nContent-Length: 1\r\n\r\n" => Some(400);
    }

    #[test]
    fn long_request_line_is_414_even_before_it_ends() {
        let mut raw = b"GET /".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 9000));
        assert_eq!(status_of(&raw), Some(414));
    }

    #[test]
    fn large_or_numerous_headers_are_431() {
        let mut raw = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 0..101 {
            raw.extend(format!("X-{i}: v\r\n").bytes());
        }
        raw.extend(b"\r\n");
        assert_eq!(status_of(&raw), Some(431));
        let mut raw = b"GET / HTTP/1.1\r\nHost: a\r\nX: ".to_vec();
        raw.extend(std::iter::repeat_n(b'v', 17000));
        assert_eq!(status_of(&raw), Some(431), "partial but already too large");
    }

    #[test]
    fn a_remembered_host_changes_no_verdict() {
        let mut spans = ParsedHead::new();
        let mut status = |host: &[u8]| {
            let mut raw = b"GET / HTTP/1.1\r\nHost: ".to_vec();
            raw.extend_from_slice(host);
            raw.extend_from_slice(b"\r\n\r\n");
            match parse_head(&raw, &LIMITS, &mut spans) {
                Parsed::Complete(_) => 200,
                Parsed::Invalid(e) => e.status().0,
                Parsed::Partial => 0,
            }
        };
        let long = [b'a'; host::REMEMBERED_HOST + 1];
        for (host, want) in [
            (&b"a:1"[..], 200),
            (b"a:1", 200),
            (b"a:x", 400),
            (b"a:1", 200),
            (b"", 200),
            (b"a b", 400),
            (&long, 200),
            (&long, 200),
            (b"a%4", 400),
        ] {
            assert_eq!(status(host), want, "{:?}", String::from_utf8_lossy(host));
        }
    }

    #[test]
    fn token_is_agrees_with_ignoring_ascii_case_for_every_token_byte() {
        for wanted in [
            "host",
            "content-length",
            "transfer-encoding",
            "connection",
            "expect",
        ] {
            let wanted = wanted.as_bytes();
            for at in 0..wanted.len() {
                for b in (0..=255u8).filter(|&b| line::TOKEN[b as usize]) {
                    let mut name = wanted.to_vec();
                    name[at] = b;
                    assert_eq!(
                        token_is(&name, wanted),
                        name.eq_ignore_ascii_case(wanted),
                        "{:?}",
                        String::from_utf8_lossy(&name)
                    );
                }
            }
        }
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |raw: &[u8]| match parse_head(raw, &LIMITS, &mut ParsedHead::new()) {
            Parsed::Complete(h) => h.keep_alive,
            Parsed::Invalid(e) => panic!("{e}"),
            Parsed::Partial => panic!("partial"),
        };
        assert!(ka(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    }
}
