//! The writer's bytes against a plain restatement of the framing rules, written with
//! `format!`, over every combination of status, content type, extra headers, body,
//! version, keep-alive and HEAD.

use super::*;
use crate::response::Body;
use simmer_executor::{Config, Executor};
use simmer_reactor::Reactor;

/// What a response is made of, for building it and for stating its expected bytes.
#[derive(Clone, Copy, Debug)]
enum BodyKind {
    Empty,
    Static(usize),
    Owned(usize),
    Stream,
}

fn body_text(len: usize) -> String {
    (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect()
}

fn build(
    status: u16,
    content_type: Option<&str>,
    extra: &[(&str, &str)],
    kind: BodyKind,
) -> Response {
    let body = match kind {
        BodyKind::Empty => Body::Empty,
        BodyKind::Static(len) => Body::Static(body_text(len).leak().as_bytes()),
        BodyKind::Owned(len) => Body::Bytes(body_text(len).into_bytes()),
        BodyKind::Stream => Response::stream(|_| async {}).body,
    };
    let mut response = Response::new(StatusCode(status)).with_body(body);
    match content_type {
        Some("text") => {
            response = Response::text("")
                .with_status(StatusCode(status))
                .with_body(response.body)
        }
        Some("json") => {
            response = Response::json_bytes("")
                .with_status(StatusCode(status))
                .with_body(response.body)
        }
        Some(other) => response = response.with_content_type(other.to_string()),
        None => {}
    }
    for (name, value) in extra {
        response = response.with_header(name.to_string(), value.to_string());
    }
    response
}

/// The bytes RFC 9112 asks for, stated the slow and obvious way.
#[allow(clippy::too_many_arguments)]
fn expected(
    status: u16,
    content_type: Option<&str>,
    extra: &[(&str, &str)],
    kind: BodyKind,
    how: Framing,
    date: &str,
) -> (String, Sent) {
    let reason = StatusCode(status).reason();
    let mut text = format!("HTTP/1.1 {status} {reason}\r\nServer: simmer\r\nDate: {date}\r\n");
    match content_type {
        Some("text") => text.push_str("Content-Type: text/plain; charset=utf-8\r\n"),
        Some("json") => text.push_str("Content-Type: application/json\r\n"),
        Some(other) => text.push_str(&format!("Content-Type: {other}\r\n")),
        None => {}
    }
    for (name, value) in extra {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    let allows_body = !(status < 200 || status == 204 || status == 304);
    let len = match kind {
        BodyKind::Empty => Some(0),
        BodyKind::Static(n) | BodyKind::Owned(n) => Some(n),
        BodyKind::Stream => None,
    };
    let mut sent = Sent::Complete;
    match (allows_body, len) {
        (false, _) => {}
        (true, Some(n)) => text.push_str(&format!("Content-Length: {n}\r\n")),
        (true, None) if how.version == Version::Http11 => {
            text.push_str("Transfer-Encoding: chunked\r\n");
            sent = Sent::Chunked;
        }
        (true, None) => sent = Sent::UntilClose,
    }
    let keep_alive = how.keep_alive && sent != Sent::UntilClose;
    if !keep_alive {
        text.push_str("Connection: close\r\n");
    } else if how.version == Version::Http10 {
        text.push_str("Connection: keep-alive\r\n");
    }
    text.push_str("\r\n");
    if how.head_request {
        return (text, Sent::Complete);
    }
    if let (true, Some(n)) = (allows_body, len) {
        text.push_str(&body_text(n));
    }
    (text, sent)
}

#[test]
fn every_combination_is_framed_as_the_rules_say() {
    let reactor = Reactor::new().unwrap();
    let executor = Executor::new(
        Box::new(reactor.park()),
        Config {
            trace_path: None,
            ..Config::default()
        },
    );
    let statuses = [200, 201, 204, 304, 101, 404, 418, 500, 299, 999];
    let content_types = [
        None,
        Some("text"),
        Some("json"),
        Some("text/html; charset=utf-8"),
    ];
    let extras: [&[(&str, &str)]; 3] = [
        &[],
        &[("x-one", "1")],
        &[("location", "/a"), ("x-two", "two words")],
    ];
    let kinds = [
        BodyKind::Empty,
        BodyKind::Static(1),
        BodyKind::Static(13),
        BodyKind::Owned(99),
        BodyKind::Owned(100),
        BodyKind::Owned(12_345),
        BodyKind::Stream,
    ];
    let mut checked = 0;
    executor.block_on(async {
        for status in statuses {
            for content_type in content_types {
                for extra in extras {
                    for kind in kinds {
                        for version in [Version::Http11, Version::Http10] {
                            for keep_alive in [true, false] {
                                for head_request in [false, true] {
                                    let how = Framing {
                                        version,
                                        keep_alive,
                                        head_request,
                                    };
                                    let response = build(status, content_type, extra, kind);
                                    let mut out = b"earlier bytes".to_vec();
                                    let sent = write_response(&mut out, &response, how);
                                    let text = String::from_utf8(out).unwrap();
                                    let text = text.strip_prefix("earlier bytes").unwrap();
                                    let at = text.find("\r\nDate: ").unwrap() + 8;
                                    let date = &text[at..at + 29];
                                    let (want, want_sent) =
                                        expected(status, content_type, extra, kind, how, date);
                                    let case = format!(
                                        "{status} {content_type:?} {extra:?} {kind:?} {how:?}"
                                    );
                                    assert_eq!(text, want, "{case}");
                                    assert_eq!(sent, want_sent, "{case}");
                                    checked += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    });
    assert_eq!(checked, 10 * 4 * 3 * 7 * 8);
}
