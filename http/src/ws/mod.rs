//! WebSockets (RFC 6455): a message channel over an HTTP/1.1 connection.
//!
//! The client asks with an ordinary `GET` carrying `Upgrade: websocket`; the server
//! answers `101 Switching Protocols`, and from then on both ends send *frames* on the
//! same TCP (or TLS) connection instead of HTTP messages. Bottom-up:
//!
//! - [`sha1`](self): SHA-1 and base64 for the handshake's accept key;
//! - `handshake`: checking the upgrade request and building the `101`;
//! - `frame`: the frame header, masking;
//! - `utf8`: checking text incrementally, fragment by fragment;
//! - `socket`: [`WebSocket`], which turns frames into [`Message`]s, answers pings,
//!   does the close handshake and enforces the limits in [`WsConfig`].
//!
//! ```no_run
//! use simmer_http::ws::{Message, WebSocket};
//! use simmer_http::Router;
//!
//! let router = Router::new().ws("/echo", |mut socket: WebSocket| async move {
//!     while let Some(message) = socket.recv().await {
//!         if socket.send(message).await.is_err() {
//!             break;
//!         }
//!     }
//! });
//! ```

mod frame;
pub(crate) mod handshake;
mod route;
mod sha1;
mod socket;
mod utf8;

pub(crate) use socket::Role;

/// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64.
pub(crate) fn random_key() -> String {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&state.hash_one(1u8).to_le_bytes());
    bytes[8..].copy_from_slice(&state.hash_one(2u8).to_le_bytes());
    sha1::base64(&bytes)
}
pub use socket::{Message, WebSocket, WsConfig};
