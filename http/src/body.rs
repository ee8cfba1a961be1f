//! Reading a message body: Content-Length, chunked or (responses) until close, with a
//! size limit, `100 Continue` sent the first time a handler asks for a request body,
//! and a timeout on each wait.

use std::cell::Cell;
use std::rc::Rc;

use simmer_reactor::time::{timeout, Readable};

use crate::background::BackgroundSlot;
use crate::conn_io::{BodyProgress, ChunkState, ConnIo};
use crate::error::HttpError;

/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

/// The body of one request, read from its connection (or, for [`crate::TestClient`],
/// from memory).
pub(crate) struct BodyReader {
    /// Where the bytes come from.
    source: Source,
    /// Most body bytes this request may have.
    limit: usize,
    /// Body bytes handed out so far.
    received: usize,
}

/// Where a body's bytes come from.
enum Source {
    /// Nowhere: a reader with nothing to read (a response's, once released).
    Nothing,
    /// The connection it arrived on.
    Conn(Rc<ConnIo>),
    /// Memory: a request made in-process by [`crate::TestClient`].
    Memory(Rc<MemoryRequest>),
}

/// What a connection is to a request made in memory: its body, and the background
/// tasks its handler scheduled.
#[derive(Default)]
pub(crate) struct MemoryRequest {
    /// The body, until it is read.
    pub(crate) body: Cell<Option<Vec<u8>>>,
    /// Background tasks to run once the response is made.
    pub(crate) background: BackgroundSlot,
}

impl BodyReader {
    pub(crate) fn new(io: Option<Rc<ConnIo>>, limit: usize) -> BodyReader {
        BodyReader {
            source: io.map_or(Source::Nothing, Source::Conn),
            limit,
            received: 0,
        }
    }

    /// A reader of a body held in memory.
    pub(crate) fn in_memory(request: Rc<MemoryRequest>, limit: usize) -> BodyReader {
        BodyReader {
            source: Source::Memory(request),
            limit,
            received: 0,
        }
    }

    /// The connection the request came on (for an upgrade).
    #[cfg(feature = "ws")]
    pub(crate) fn connection(&self) -> Option<&Rc<ConnIo>> {
        match &self.source {
            Source::Conn(io) => Some(io),
            _ => None,
        }
    }

    /// The connection's peer.
    pub(crate) fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        match &self.source {
            Source::Conn(io) => Some(io.peer),
            _ => None,
        }
    }

    /// Where the request's background tasks wait for its response to be written
    /// (`None` for a reader that belongs to no request).
    pub(crate) fn background_slot(&self) -> Option<&BackgroundSlot> {
        match &self.source {
            Source::Conn(io) => Some(&io.background),
            Source::Memory(request) => Some(&request.background),
            Source::Nothing => None,
        }
    }

    /// The next piece of the body, or `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
        let io = match &self.source {
            Source::Conn(io) => Rc::clone(io),
            Source::Memory(request) => return self.memory_piece(request.body.take()),
            Source::Nothing => return Ok(None),
        };
        if io.body.get() == BodyProgress::Done {
            return Ok(None);
        }
        if io.owes_continue.replace(false) {
            // The client waits for this before sending the body.
            io.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .map_err(|_| self.broken(&io, HttpError::bad_request("connection lost")))?;
        }
        let result = self.next_piece(&io).await;
        match result {
            Ok(Some(piece)) => {
                self.received += piece.len();
                if self.received > self.limit {
                    return Err(self.broken(&io, too_large(self.limit)));
                }
                Ok(Some(piece))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(self.broken(&io, e)),
        }
    }

    /// A body held in memory, whole, within the same limit as a connection's.
    fn memory_piece(&mut self, body: Option<Vec<u8>>) -> Result<Option<Vec<u8>>, HttpError> {
        let Some(body) = body.filter(|b| !b.is_empty()) else {
            return Ok(None);
        };
        self.received += body.len();
        if self.received > self.limit {
            return Err(too_large(self.limit));
        }
        Ok(Some(body))
    }

    /// The whole body, up to the limit.
    pub(crate) async fn collect(&mut self) -> Result<Vec<u8>, HttpError> {
        let mut all = Vec::new();
        while let Some(piece) = self.chunk().await? {
            if all.is_empty() {
                all = piece;
            } else {
                all.extend_from_slice(&piece);
            }
        }
        Ok(all)
    }

    fn broken(&self, io: &ConnIo, e: HttpError) -> HttpError {
        io.body.set(BodyProgress::Broken);
        e
    }

    async fn next_piece(&self, io: &ConnIo) -> Result<Option<Vec<u8>>, HttpError> {
        loop {
            match io.body.get() {
                BodyProgress::Done => return Ok(None),
                BodyProgress::Broken => {
                    return Err(HttpError::bad_request("request body unreadable"))
                }
                BodyProgress::Length(remaining) => {
                    if let Some(piece) =
                        take_data(io, remaining, BodyProgress::Length, BodyProgress::Done)
                    {
                        return Ok(Some(piece));
                    }
                }
                BodyProgress::UntilClose => {
                    let piece = io.with_unread(|unread| (unread.len(), unread.to_vec()));
                    if !piece.is_empty() {
                        return Ok(Some(piece));
                    }
                    let want = self.limit.clamp(16 * 1024, 1 << 20);
                    match timeout(io.body_read_timeout, io.read_more(want)).await {
                        Ok(Ok(0)) => {
                            io.body.set(BodyProgress::Done);
                            return Ok(None);
                        }
                        Ok(Ok(_)) => continue,
                        Ok(Err(e)) => {
                            return Err(HttpError::bad_request(format!("reading the body: {e}")))
                        }
                        Err(_) => {
                            return Err(HttpError::new(
                                408,
                                format!(
                                    "body not received within {}",
                                    Readable(io.body_read_timeout)
                                ),
                            ))
                        }
                    }
                }
                BodyProgress::Chunked(state) => {
                    let buffered = io.buffered();
                    if let Some(piece) = step_chunked(io, state)? {
                        return Ok(Some(piece));
                    }
                    if io.body.get() != BodyProgress::Chunked(state) || io.buffered() != buffered {
                        continue; // progress without data: a size line, a CRLF, a trailer
                    }
                }
            }
            self.fill(io).await?;
        }
    }

    /// Waits for more body bytes, within the body read timeout.
    async fn fill(&self, io: &ConnIo) -> Result<(), HttpError> {
        let want = (self.limit + MAX_LINE).clamp(16 * 1024, 1 << 20);
        match timeout(io.body_read_timeout, io.read_more(want)).await {
            Ok(Ok(0)) => Err(HttpError::bad_request(
                "connection closed inside the request body",
            )),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(HttpError::bad_request(format!(
                "reading the request body: {e}"
            ))),
            Err(_) => Err(HttpError::new(
                408,
                format!(
                    "request body not received within {}",
                    Readable(io.body_read_timeout)
                ),
            )),
        }
    }
}

/// Skips buffered body bytes the handler did not read, checking the framing as a
/// reader would, until the body ends, the buffer runs dry or `budget` bytes are spent.
/// The caller looks at `io.body` to see which.
pub(crate) fn skip_buffered(io: &ConnIo, budget: &mut usize) -> Result<(), HttpError> {
    while *budget > 0 {
        let (before, progress) = (io.buffered(), io.body.get());
        match progress {
            BodyProgress::Length(left) => {
                skip_data(io, left, budget, BodyProgress::Length, BodyProgress::Done)
            }
            BodyProgress::Chunked(ChunkState::Data(left)) => skip_data(
                io,
                left,
                budget,
                |left| BodyProgress::Chunked(ChunkState::Data(left)),
                BodyProgress::Chunked(ChunkState::DataEnd),
            ),
            BodyProgress::Chunked(state) => {
                step_chunked(io, state)?;
                *budget = budget.saturating_sub(before - io.buffered());
            }
            BodyProgress::Done | BodyProgress::Broken | BodyProgress::UntilClose => return Ok(()),
        }
        if io.buffered() == before && io.body.get() == progress {
            return Ok(()); // needs more bytes
        }
    }
    Ok(())
}

/// Consumes up to `remaining` buffered body bytes (and at most `budget`) unseen.
fn skip_data(
    io: &ConnIo,
    remaining: u64,
    budget: &mut usize,
    more: fn(u64) -> BodyProgress,
    finished: BodyProgress,
) {
    io.with_unread(|unread| {
        let n = unread
            .len()
            .min(*budget)
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        if n == 0 {
            return (0, ());
        }
        let left = remaining - n as u64;
        *budget -= n;
        io.body.set(if left == 0 { finished } else { more(left) });
        (n, ())
    })
}

/// Takes up to `remaining` buffered body bytes; sets the next progress.
fn take_data(
    io: &ConnIo,
    remaining: u64,
    more: fn(u64) -> BodyProgress,
    finished: BodyProgress,
) -> Option<Vec<u8>> {
    io.with_unread(|unread| {
        if unread.is_empty() {
            return (0, None);
        }
        let n = unread
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let left = remaining - n as u64;
        io.body.set(if left == 0 { finished } else { more(left) });
        (n, Some(unread[..n].to_vec()))
    })
}

/// Advances the chunked decoder over buffered bytes; returns data when it has some.
fn step_chunked(io: &ConnIo, state: ChunkState) -> Result<Option<Vec<u8>>, HttpError> {
    io.with_unread(|unread| match chunk_step(unread, state) {
        Ok(step) => {
            io.body.set(step.next);
            let data = step.data.then(|| unread[..step.used].to_vec());
            (step.used, Ok(data))
        }
        Err(e) => (0, Err(e)),
    })
}

/// What one step of the chunked decoder did with the bytes it was shown.
pub(crate) struct ChunkStep {
    /// Bytes consumed from the front (0: it needs more input).
    pub(crate) used: usize,
    /// The body's progress after them.
    pub(crate) next: BodyProgress,
    /// The consumed bytes are body data (else framing: a size line, a CRLF, a trailer).
    pub(crate) data: bool,
}

/// One step of the chunked decoder in `state` over the unread bytes `unread`: a pure
/// function, so the fuzzer can drive it without a socket.
pub(crate) fn chunk_step(unread: &[u8], state: ChunkState) -> Result<ChunkStep, HttpError> {
    let bad = |what: &str| HttpError::bad_request(format!("bad chunked encoding: {what}"));
    let framing = |used, state| ChunkStep {
        used,
        next: BodyProgress::Chunked(state),
        data: false,
    };
    let wait = framing(0, state);
    match state {
        ChunkState::Data(remaining) => {
            if unread.is_empty() {
                return Ok(wait);
            }
            let n = unread
                .len()
                .min(usize::try_from(remaining).unwrap_or(usize::MAX));
            let left = remaining - n as u64;
            Ok(ChunkStep {
                used: n,
                next: BodyProgress::Chunked(if left == 0 {
                    ChunkState::DataEnd
                } else {
                    ChunkState::Data(left)
                }),
                data: true,
            })
        }
        // httparse reads an empty size as 0 and takes any byte, LF included, inside an
        // extension: refuse both (a proxy that ends the line at that LF would frame the
        // body differently).
        ChunkState::Size if unread.first().is_some_and(|b| !b.is_ascii_hexdigit()) => {
            Err(bad("invalid chunk size"))
        }
        ChunkState::Size => match httparse::parse_chunk_size(unread) {
            // A line too long to have been shown whole is refused whole too, so the
            // answer does not depend on how reads split it.
            Ok(httparse::Status::Complete((used, _))) if used > MAX_LINE + 1 => {
                Err(bad("chunk-size line too long"))
            }
            Ok(httparse::Status::Complete((used, _))) if has_control_byte(&unread[..used - 2]) => {
                Err(bad("control byte in a chunk extension"))
            }
            Ok(httparse::Status::Complete((used, 0))) => Ok(framing(used, ChunkState::Trailers)),
            Ok(httparse::Status::Complete((used, size))) => {
                Ok(framing(used, ChunkState::Data(size)))
            }
            Ok(httparse::Status::Partial) if unread.len() > MAX_LINE => {
                Err(bad("chunk-size line too long"))
            }
            Ok(httparse::Status::Partial) => Ok(wait),
            Err(_) => Err(bad("invalid chunk size")),
        },
        ChunkState::DataEnd => match unread {
            [b'\r', b'\n', ..] => Ok(framing(2, ChunkState::Size)),
            [] | [b'\r'] => Ok(wait),
            _ => Err(bad("chunk data not followed by CRLF")),
        },
        ChunkState::Trailers => {
            // Trailer fields are accepted and ignored; an empty line ends the body.
            let Some(end) = unread.iter().position(|&b| b == b'\n') else {
                return if unread.len() > MAX_LINE {
                    Err(bad("trailer line too long"))
                } else {
                    Ok(wait)
                };
            };
            if end > MAX_LINE {
                return Err(bad("trailer line too long"));
            }
            if end == 0 || (end == 1 && unread[0] == b'\r') {
                return Ok(ChunkStep {
                    used: end + 1,
                    next: BodyProgress::Done,
                    data: false,
                });
            }
            if unread[..end].contains(&b'\r') && unread[end - 1] != b'\r' {
                return Err(bad("bare CR in a trailer"));
            }
            let line = unread[..end].strip_suffix(b"\r").unwrap_or(&unread[..end]);
            if !is_field_line(line) {
                return Err(bad("a trailer line is not `name: value`"));
            }
            Ok(framing(end + 1, ChunkState::Trailers))
        }
    }
}

/// A control byte other than HTAB (CR and LF included), or DEL.
fn has_control_byte(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
}

/// `token ":" value` (RFC 9112 §5), the value without control bytes: a trailer field.
fn is_field_line(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    let is_tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    !name.is_empty() && name.iter().all(is_tchar) && !has_control_byte(value)
}

pub(crate) fn too_large(limit: usize) -> HttpError {
    HttpError::new(
        413,
        format!("request body larger than the limit of {limit} bytes"),
    )
}
