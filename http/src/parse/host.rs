//! Host values (RFC 9110 §7.2, RFC 3986 §3.2.2): the check, and the memory of the last
//! valid one that spares most requests the check.

use crate::words::same_bytes;

/// Longest Host value remembered by [`KnownHost`].
pub(super) const REMEMBERED_HOST: usize = 64;

/// The last Host value found valid on a connection. Nearly every request on a
/// connection names the same host, and comparing it with the last one (a few word
/// comparisons) costs about 15 instructions where checking it byte by byte cost 160 (callgrind,
/// wrk's `Host: 127.0.0.1:28090`). It lives in the connection's head rather than in a
/// thread-local, whose access was not inlined and cost as much again.
pub(super) struct KnownHost {
    bytes: [u8; REMEMBERED_HOST],
    /// `usize::MAX` until a value is remembered.
    len: usize,
}

impl KnownHost {
    /// Nothing remembered yet.
    pub(super) fn new() -> KnownHost {
        KnownHost {
            bytes: [0; REMEMBERED_HOST],
            len: usize::MAX,
        }
    }

    /// [`is_valid_host`], remembering the last valid value. The answer is the same
    /// either way: only values that passed the full check are remembered.
    pub(super) fn is_valid(&mut self, value: &[u8]) -> bool {
        if self.len == value.len() && same_bytes(&self.bytes[..value.len()], value) {
            return true;
        }
        let valid = is_valid_host(value);
        if valid && value.len() <= REMEMBERED_HOST {
            self.bytes[..value.len()].copy_from_slice(value);
            self.len = value.len();
        }
        valid
    }
}

/// `uri-host [":" port]` (RFC 9110 §7.2, RFC 3986 §3.2.2): a reg-name or IPv4 address
/// (unreserved, sub-delims and %XX), or an IP literal in brackets; the port is digits.
/// An empty value is valid (a target without an authority).
pub(super) fn is_valid_host(value: &[u8]) -> bool {
    if value.first() == Some(&b'[') {
        return match split_host_port(value) {
            Some(([b'[', literal @ .., b']'], port)) => {
                is_ip_literal(literal) && port.iter().all(u8::is_ascii_digit)
            }
            _ => false,
        };
    }
    // One pass with a table lookup per byte: the host runs up to the first byte that
    // cannot be in a reg-name, which must be the `:` before the port. (A version with
    // a `match` per byte and separate scans for `:` and `%` cost 230 instructions per
    // request, 6% of a pipelined one; a table of booleans and a separate `%` test 157:
    // callgrind. The class table folds both tests into one load.)
    let mut classes = 0u8;
    let mut host_len = value.len();
    for (at, &b) in value.iter().enumerate() {
        let class = HOST_CLASS[b as usize];
        if class == NOT_HOST {
            host_len = at;
            break;
        }
        classes |= class;
    }
    let (host, rest) = value.split_at(host_len);
    let port_ok = match rest {
        [] => true,
        [b':', port @ ..] => port.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    port_ok && (classes & ESCAPE == 0 || escapes_are_valid(host))
}

/// `HOST_CLASS` values: a byte that ends the host, one of a reg-name, a `%`.
const NOT_HOST: u8 = 0;
const IN_HOST: u8 = 1;
const ESCAPE: u8 = 2;

/// Each byte's class in a Host value's host part.
static HOST_CLASS: [u8; 256] = {
    let mut table = [NOT_HOST; 256];
    let mut b = 0;
    while b < 256 {
        if REG_NAME[b] {
            table[b] = if b == b'%' as usize { ESCAPE } else { IN_HOST };
        }
        b += 1;
    }
    table
};

/// Splits `host[:port]`; the port part is empty when there is none. `None` for an
/// unclosed `[`.
pub(super) fn split_host_port(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let host_end = if value.first() == Some(&b'[') {
        value.iter().position(|&b| b == b']')? + 1
    } else {
        value.iter().position(|&b| b == b':').unwrap_or(value.len())
    };
    let (host, rest) = value.split_at(host_end);
    match rest {
        [] => Some((host, rest)),
        [b':', port @ ..] => Some((host, port)),
        _ => None,
    }
}

fn is_reg_name(host: &[u8]) -> bool {
    host.iter().all(|&b| REG_NAME[b as usize]) && escapes_are_valid(host)
}

/// Each `%` starts an escape of two hex digits.
fn escapes_are_valid(mut rest: &[u8]) -> bool {
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        match rest.get(at + 1..at + 3) {
            Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => rest = &rest[at + 3..],
            _ => return false,
        }
    }
    true
}

/// Bytes allowed in a reg-name: unreserved, sub-delims and `%` (RFC 3986 §3.2.2).
static REG_NAME: [bool; 256] = super::alphanumeric_or(b"-._~%!$&'()*+,;=");

/// An IPv6 address or `v<hex>.<text>` (IPvFuture), without the brackets.
fn is_ip_literal(literal: &[u8]) -> bool {
    if let [b'v' | b'V', rest @ ..] = literal {
        let Some(dot) = rest.iter().position(|&b| b == b'.') else {
            return false;
        };
        let (version, text) = (&rest[..dot], &rest[dot + 1..]);
        return !version.is_empty()
            && version.iter().all(u8::is_ascii_hexdigit)
            && !text.is_empty()
            && text.iter().all(|&b| b == b':' || is_reg_name(&[b]));
    }
    std::str::from_utf8(literal).is_ok_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok())
}
