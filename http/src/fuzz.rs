//! Entry points for the fuzz targets in `fuzz/` and the corpus replay tests: each
//! takes raw bytes, runs the real parser on them and checks what must hold whatever
//! the input (no panic, spans inside the input, the same answer however the bytes
//! arrive). Not part of the API.

use crate::body::chunk_step;
use crate::conn_io::{BodyProgress, ChunkState};
use crate::parse::{parse_head, HeadLimits, Parsed};
use crate::request::RequestHead;

/// The server's default head limits, small enough that the fuzzer reaches them.
const LIMITS: HeadLimits = HeadLimits {
    max_request_line: 8192,
    max_header_bytes: 16384,
    max_headers: 100,
};

/// What the server decided about a request head.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadVerdict {
    /// More bytes are needed.
    Partial,
    /// Refused with this status.
    Invalid(u16),
    /// Accepted: the head's length in bytes.
    Complete(usize),
}

/// Parses and validates `buf` as a request head, as a connection does.
pub fn request_head(buf: &[u8]) -> HeadVerdict {
    let mut shared = RequestHead::empty();
    match parse_head(buf, &LIMITS, &mut shared.parsed) {
        Parsed::Partial => HeadVerdict::Partial,
        Parsed::Invalid(e) => {
            let status = e.status().0;
            assert!((400..600).contains(&status), "a refusal is an error status");
            HeadVerdict::Invalid(status)
        }
        Parsed::Complete(head) => {
            let len = head.len;
            assert!(len <= buf.len(), "the head lies inside the input");
            for (name, value) in shared.parsed.as_slice() {
                assert!(name.start <= name.end && usize::from(name.end) <= len);
                assert!(value.start <= value.end && usize::from(value.end) <= len);
            }
            // `RequestHead::target` relies on the target being UTF-8 (its SAFETY note).
            let target = shared.parsed.target.get(&buf[..len]);
            assert!(std::str::from_utf8(target).is_ok(), "target is UTF-8");
            shared.keep_bytes(&buf[..len]);
            // Routing slices the target: that must hold on any accepted head.
            let _ = (shared.path(), shared.query());
            // Had the head arrived in two reads, the first part must wait for more.
            for cut in [len / 2, len - 1] {
                let verdict = request_head(&buf[..cut]);
                assert_eq!(
                    verdict,
                    HeadVerdict::Partial,
                    "a prefix of {len} bytes cut at {cut}"
                );
            }
            HeadVerdict::Complete(len)
        }
    }
}

/// What the chunked decoder made of a body.
#[derive(Debug, PartialEq, Eq)]
pub enum ChunkedVerdict {
    /// The body ended: its data, and how many input bytes it took.
    Complete(Vec<u8>, usize),
    /// The input ended inside the body.
    Incomplete,
    /// Bad framing.
    Invalid,
}

/// Decodes `input` as a chunked body, shown to the decoder `piece` bytes at a time
/// (as reads deliver it; 0 means all at once).
pub fn chunked_body(input: &[u8], piece: usize) -> ChunkedVerdict {
    let mut state = ChunkState::Size;
    let mut data = Vec::new();
    let (mut start, mut end) = (0, if piece == 0 { input.len() } else { 0 });
    loop {
        let step = match chunk_step(&input[start..end], state) {
            Ok(step) => step,
            Err(e) => {
                assert_eq!(e.status().0, 400, "bad framing is a 400");
                return ChunkedVerdict::Invalid;
            }
        };
        assert!(
            step.used <= end - start,
            "the decoder used bytes it was shown"
        );
        if step.data {
            data.extend_from_slice(&input[start..start + step.used]);
        }
        start += step.used;
        match step.next {
            BodyProgress::Done => return ChunkedVerdict::Complete(data, start),
            BodyProgress::Chunked(next) => {
                let stuck = step.used == 0 && next == state;
                state = next;
                if stuck {
                    if end == input.len() {
                        return ChunkedVerdict::Incomplete;
                    }
                    end = (end + piece).min(input.len());
                }
            }
            other => panic!("the chunked decoder moved to {other:?}"),
        }
    }
}

/// What the client made of a response head.
#[derive(Debug, PartialEq, Eq)]
pub enum ResponseVerdict {
    /// More bytes are needed.
    Partial,
    /// Refused as malformed.
    Malformed,
    /// Parsed: length, status, chunked, Content-Length, keep-alive.
    Complete(usize, u16, bool, Option<u64>, bool),
}

/// Parses `buf` as a response head, as the client does.
pub fn response_head(buf: &[u8]) -> ResponseVerdict {
    match crate::client::response::parse_head(buf) {
        (_, None) => ResponseVerdict::Partial,
        (_, Some(Err(_))) => ResponseVerdict::Malformed,
        (used, Some(Ok(head))) => {
            assert!(used <= buf.len(), "the head lies inside the input");
            for cut in [used / 2, used - 1] {
                let verdict = response_head(&buf[..cut]);
                assert_eq!(verdict, ResponseVerdict::Partial, "a prefix cut at {cut}");
            }
            ResponseVerdict::Complete(
                used,
                head.status,
                head.chunked,
                head.length,
                head.keep_alive,
            )
        }
    }
}
