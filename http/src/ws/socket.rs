//! `WebSocket`: messages over an upgraded connection (RFC 6455 §5, §6, §7).

use std::fmt;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use simmer_reactor::time::timeout;

use super::frame::{self, apply_mask, parse_header, Header, Opcode};
use super::utf8::Utf8Check;
use crate::conn_io::ConnIo;

/// Most bytes read and dropped after a failing close (see `WebSocket::linger`).
const LINGER_BYTES: usize = 8 << 20;

/// A WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// UTF-8 text (checked on arrival).
    Text(String),
    /// Bytes.
    Binary(Vec<u8>),
}

/// Limits and timeouts for a [`WebSocket`].
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// Largest frame accepted (default 1 MiB); larger closes with 1009.
    pub max_frame_bytes: usize,
    /// Largest message accepted, all fragments together (default 1 MiB, as Python's
    /// `websockets`); larger closes with 1009.
    pub max_message_bytes: usize,
    /// Close (1001, "idle timeout") after this long without a frame from the peer
    /// (default 60 s).
    pub idle_timeout: Duration,
    /// Give up a send the peer does not read within this long (default 30 s): a slow
    /// reader makes `send` wait, never a buffer grow.
    pub send_timeout: Duration,
}

impl Default for WsConfig {
    fn default() -> WsConfig {
        WsConfig {
            max_frame_bytes: 1 << 20,
            max_message_bytes: 1 << 20,
            idle_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(30),
        }
    }
}

/// Which end we are: a client masks what it sends, a server insists on masked input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Server,
    Client,
}

/// Where the close handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// We sent a close frame and wait for the peer's.
    CloseSent,
    /// Done: no more frames either way.
    Closed,
}

/// A message being put together from fragments.
struct Partial {
    text: bool,
    data: Vec<u8>,
    utf8: Utf8Check,
}

/// What one step of reading produced.
enum Step {
    /// A whole frame (its payload unmasked).
    Frame(Header, Vec<u8>),
    /// This many bytes must be buffered before the next frame can be decoded.
    NeedMore(usize),
    /// The peer broke the protocol: close with this code and reason.
    Fail(u16, &'static str),
}

/// One WebSocket connection: `recv` messages, `send` them, `close`.
///
/// Pings are answered inside `recv`, a close from the peer is echoed, and protocol
/// errors close the connection with the code RFC 6455 names (1002 protocol, 1007 bad
/// UTF-8, 1009 too large). `recv` returns `None` once the connection is closed;
/// [`WebSocket::close_code`] then says how.
pub struct WebSocket {
    io: Rc<ConnIo>,
    role: Role,
    config: WsConfig,
    state: State,
    partial: Option<Partial>,
    /// The close code received or sent (1006: the connection dropped without one).
    close_code: Option<u16>,
    close_reason: String,
    /// Frames are serialized here, header and payload together (one write each).
    out: Vec<u8>,
    /// Seed for client masking keys.
    mask_seed: u64,
}

impl WebSocket {
    pub(crate) fn new(io: Rc<ConnIo>, role: Role, config: WsConfig) -> WebSocket {
        let mask_seed = {
            use std::hash::{BuildHasher, RandomState};
            RandomState::new().hash_one(0u8) | 1
        };
        WebSocket {
            io,
            role,
            config,
            state: State::Open,
            partial: None,
            close_code: None,
            close_reason: String::new(),
            out: Vec::new(),
            mask_seed,
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> std::net::SocketAddr {
        self.io.peer
    }

    /// The close code, once closed: the peer's, ours, or 1006 if the connection ended
    /// without a close frame.
    pub fn close_code(&self) -> Option<u16> {
        self.close_code
    }

    /// The reason text that came with the close code.
    pub fn close_reason(&self) -> &str {
        &self.close_reason
    }

    /// The next message, or `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            if self.state == State::Closed {
                return None;
            }
            let (header, payload) = match self.next_frame() {
                Step::Frame(header, payload) => (header, payload),
                Step::Fail(code, why) => {
                    self.fail(code, why).await;
                    return None;
                }
                Step::NeedMore(bytes) => {
                    let wanted = bytes.max(16 * 1024);
                    match timeout(self.config.idle_timeout, self.io.read_more(wanted)).await {
                        Ok(Ok(0)) | Ok(Err(_)) => self.dropped(),
                        Ok(Ok(_)) => {}
                        Err(_) => self.fail(1001, "idle timeout").await,
                    }
                    continue;
                }
            };
            if let Some(message) = self.on_frame(header, payload).await {
                return Some(message);
            }
        }
    }

    /// Sends a message; waits while the peer is slow to read (at most `send_timeout`).
    pub async fn send(&mut self, message: Message) -> io::Result<()> {
        if self.state != State::Open {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the WebSocket is closed",
            ));
        }
        match message {
            Message::Text(text) => self.send_frame(Opcode::Text, text.as_bytes()).await,
            Message::Binary(data) => self.send_frame(Opcode::Binary, &data).await,
        }
    }

    /// Sends a ping (the peer answers with a pong, which `recv` absorbs).
    pub async fn ping(&mut self, payload: &[u8]) -> io::Result<()> {
        let payload = &payload[..payload.len().min(125)];
        self.send_frame(Opcode::Ping, payload).await
    }

    /// Starts the close handshake with `code` and `reason`, and waits (up to 5 s) for
    /// the peer's close frame, discarding messages that arrive meanwhile.
    pub async fn close(&mut self, code: u16, reason: &str) -> io::Result<()> {
        if self.state != State::Open {
            return Ok(());
        }
        self.send_close(code, reason).await?;
        self.state = State::CloseSent;
        self.close_code = Some(code);
        self.close_reason = reason.to_string();
        let wait = async {
            while self.state != State::Closed {
                self.recv().await;
            }
        };
        if timeout(Duration::from_secs(5), wait).await.is_err() {
            self.finish();
        }
        Ok(())
    }

    /// Decodes the next frame from the buffered input, if it is all there.
    fn next_frame(&mut self) -> Step {
        let (role, max_frame) = (self.role, self.config.max_frame_bytes);
        self.io.with_unread(|buf| {
            let header = match parse_header(buf) {
                Ok(Some(header)) => header,
                Ok(None) => return (0, Step::NeedMore(14)),
                Err(bad) => return (0, Step::Fail(1002, bad.0)),
            };
            match (role, header.mask) {
                (Role::Server, None) => {
                    return (0, Step::Fail(1002, "a client frame must be masked"))
                }
                (Role::Client, Some(_)) => {
                    return (0, Step::Fail(1002, "a server frame must not be masked"))
                }
                _ => {}
            }
            if header.payload_len > max_frame as u64 {
                return (0, Step::Fail(1009, "frame too large"));
            }
            let total = header.len + header.payload_len as usize;
            if buf.len() < total {
                return (0, Step::NeedMore(total));
            }
            let mut payload = buf[header.len..total].to_vec();
            if let Some(key) = header.mask {
                apply_mask(&mut payload, key, 0);
            }
            (total, Step::Frame(header, payload))
        })
    }

    /// Acts on one frame; returns a message when one is complete.
    async fn on_frame(&mut self, header: Header, payload: Vec<u8>) -> Option<Message> {
        match header.opcode {
            Opcode::Ping => {
                if self.state == State::Open {
                    let _ = self.send_frame(Opcode::Pong, &payload).await;
                }
                None
            }
            Opcode::Pong => None,
            Opcode::Close => {
                self.on_close(&payload).await;
                None
            }
            Opcode::Text | Opcode::Binary => {
                if self.partial.is_some() {
                    self.fail(1002, "a new message began inside a fragmented one")
                        .await;
                    return None;
                }
                let text = header.opcode == Opcode::Text;
                self.partial = Some(Partial {
                    text,
                    data: Vec::new(),
                    utf8: Utf8Check::default(),
                });
                self.add_fragment(payload, header.fin).await
            }
            Opcode::Continuation => {
                if self.partial.is_none() {
                    self.fail(1002, "a continuation frame with no message to continue")
                        .await;
                    return None;
                }
                self.add_fragment(payload, header.fin).await
            }
        }
    }

    /// Appends a fragment to the message in progress, checking its size and text.
    async fn add_fragment(&mut self, payload: Vec<u8>, fin: bool) -> Option<Message> {
        let limit = self.config.max_message_bytes;
        let partial = self.partial.as_mut().expect("a message is in progress");
        if partial.data.len() + payload.len() > limit {
            self.fail(1009, "message too large").await;
            return None;
        }
        if partial.data.is_empty() {
            partial.data = payload;
        } else {
            partial.data.extend_from_slice(&payload);
        }
        if partial.text && partial.utf8.feed(&partial.data, fin).is_err() {
            self.fail(1007, "text is not valid UTF-8").await;
            return None;
        }
        if !fin {
            return None;
        }
        let done = self.partial.take().expect("a message is in progress");
        Some(if done.text {
            // Checked above, fragment by fragment.
            Message::Text(String::from_utf8(done.data).unwrap_or_default())
        } else {
            Message::Binary(done.data)
        })
    }

    /// The peer's close frame: echo it (or answer a bad one with 1002), then finish.
    async fn on_close(&mut self, payload: &[u8]) {
        let (code, reason) = match payload {
            [] => (1005, String::new()),
            [_] => (1002, String::new()),
            [hi, lo, reason @ ..] => {
                let code = u16::from_be_bytes([*hi, *lo]);
                match std::str::from_utf8(reason) {
                    Ok(text) if is_valid_close_code(code) => (code, text.to_string()),
                    Ok(_) => (1002, String::new()),
                    Err(_) => (1007, String::new()),
                }
            }
        };
        if self.state == State::Open {
            let reply = match code {
                1005 => 1000,
                code => code,
            };
            let _ = self.send_close(reply, "").await;
            if code == 1002 || code == 1007 {
                self.close_reason = "invalid close frame".to_string();
            }
        }
        if self.close_code.is_none() || self.state == State::Open {
            self.close_code = Some(code);
            self.close_reason = reason;
        }
        self.finish();
    }

    /// Closes after a protocol error (or an idle timeout): a close frame with `code`,
    /// then the connection ends.
    async fn fail(&mut self, code: u16, why: &'static str) {
        if self.state == State::Open {
            let _ = self.send_close(code, why).await;
        }
        self.close_code = Some(code);
        self.close_reason = why.to_string();
        self.finish();
        self.linger().await;
    }

    /// After a close the peer did not start, reads and drops what it is still sending
    /// (at most 8 MiB, for at most 2 s) so that closing the socket does not become a
    /// reset that destroys the close frame before the peer reads it.
    async fn linger(&mut self) {
        let io = Rc::clone(&self.io);
        let drain = async {
            let mut dropped = 0;
            while dropped < LINGER_BYTES {
                io.with_unread(|unread| (unread.len(), ()));
                match io.read_more(64 * 1024).await {
                    Ok(n) if n > 0 => dropped += n,
                    _ => return,
                }
            }
        };
        let _ = timeout(Duration::from_secs(2), drain).await;
    }

    /// The connection ended without a close frame.
    fn dropped(&mut self) {
        if self.state == State::Open {
            self.close_code = Some(1006);
        }
        self.finish();
    }

    fn finish(&mut self) {
        self.state = State::Closed;
        let _ = self.io.stream.shutdown(std::net::Shutdown::Write);
    }

    async fn send_close(&mut self, code: u16, reason: &str) -> io::Result<()> {
        let mut payload = code.to_be_bytes().to_vec();
        let reason = truncate_utf8(reason, 123);
        payload.extend_from_slice(reason.as_bytes());
        self.send_frame(Opcode::Close, &payload).await
    }

    /// Writes one unfragmented frame: header and payload in one buffer, one write.
    async fn send_frame(&mut self, opcode: Opcode, payload: &[u8]) -> io::Result<()> {
        let mask = match self.role {
            Role::Server => None,
            Role::Client => Some(self.next_mask()),
        };
        self.out.clear();
        frame::write_header(&mut self.out, true, opcode, mask, payload.len());
        let start = self.out.len();
        self.out.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut self.out[start..], key, 0);
        }
        let sent = timeout(
            self.config.send_timeout,
            self.io.stream.write_all(&self.out),
        )
        .await;
        // A large frame's buffer is not kept: an idle socket holds little memory.
        if self.out.capacity() > 64 * 1024 {
            self.out = Vec::new();
        }
        match sent {
            Ok(result) => result,
            Err(_) => {
                self.state = State::Closed;
                self.close_code = Some(1006);
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the peer did not read within the WebSocket send timeout",
                ))
            }
        }
    }

    /// A fresh masking key (xorshift over a random seed: unpredictable to the page
    /// script, which is what masking defends against).
    fn next_mask(&mut self) -> [u8; 4] {
        let mut x = self.mask_seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.mask_seed = x;
        (x as u32).to_le_bytes()
    }
}

/// Codes a peer may send (RFC 6455 §7.4): 1000-1003, 1007-1014, and 3000-4999 for
/// libraries and applications. 1005, 1006 and 1015 are never sent on the wire.
fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate_utf8(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Drop for WebSocket {
    /// A handler that returns without closing: send a normal close (1000) if the socket
    /// takes it at once, and end the connection.
    fn drop(&mut self) {
        if self.state == State::Open {
            self.out.clear();
            let mask = (self.role == Role::Client).then(|| self.next_mask());
            let mut payload = 1000u16.to_be_bytes();
            frame::write_header(&mut self.out, true, Opcode::Close, mask, 2);
            if let Some(key) = mask {
                apply_mask(&mut payload, key, 0);
            }
            self.out.extend_from_slice(&payload);
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let _ = self.io.stream.poll_write(&mut cx, &self.out);
            self.finish();
        }
    }
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("peer", &self.io.peer)
            .field("role", &self.role)
            .field("state", &self.state)
            .finish()
    }
}
