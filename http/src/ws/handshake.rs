//! The opening handshake (RFC 6455 §4): an HTTP/1.1 `GET` that asks to switch
//! protocols, answered by `101 Switching Protocols`.
//!
//! ```text
//! GET /ws HTTP/1.1                          HTTP/1.1 101 Switching Protocols
//! Host: example.com                         Upgrade: websocket
//! Connection: Upgrade                       Connection: Upgrade
//! Upgrade: websocket                        Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//! Sec-WebSocket-Version: 13
//! Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
//! ```

use super::sha1::{base64, base64_decoded_len, sha1};
use crate::method::{Method, Version};
use crate::request::Request;
use crate::response::Response;
use crate::status::StatusCode;

/// The GUID every server appends to the client's key (RFC 6455 §1.3).
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
pub(crate) fn accept_key(key: &str) -> String {
    base64(&sha1(format!("{key}{GUID}").as_bytes()))
}

/// Whether a comma-separated header value holds `token` (case-insensitive).
fn has_token(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// Checks an upgrade request. `Ok` is the `101` response to send; `Err` the refusal:
/// `426 Upgrade Required` (with `Sec-WebSocket-Version: 13`) for a plain request or
/// another version, `400` for a malformed one.
pub(crate) fn accept(request: &Request) -> Result<Response, Response> {
    let refuse = |status: u16, why: &str| {
        Response::text(format!("WebSocket handshake refused: {why}\n"))
            .with_status(StatusCode(status))
    };
    if *request.method() != Method::Get || request.version() != Version::Http11 {
        return Err(refuse(400, "it must be an HTTP/1.1 GET"));
    }
    if !has_token(request.header("upgrade"), "websocket")
        || !has_token(request.header("connection"), "upgrade")
    {
        return Err(refuse(
            426,
            "this address speaks WebSocket (send Connection: Upgrade and Upgrade: websocket)",
        )
        .with_header("Upgrade", "websocket")
        .with_header("Connection", "Upgrade"));
    }
    if request.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Err(refuse(426, "only WebSocket version 13 is spoken")
            .with_header("Sec-WebSocket-Version", "13"));
    }
    let key = request.header("sec-websocket-key").map(str::trim);
    let Some(key) = key.filter(|k| base64_decoded_len(k) == Some(16)) else {
        return Err(refuse(400, "Sec-WebSocket-Key must be 16 bytes in base64"));
    };
    Ok(Response::new(StatusCode(101))
        .with_header("Upgrade", "websocket")
        .with_header("Connection", "Upgrade")
        .with_header("Sec-WebSocket-Accept", accept_key(key)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rfc_example_key() {
        assert_eq!(
            super::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
