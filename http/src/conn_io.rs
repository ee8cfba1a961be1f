//! The parts of a connection that the connection loop and the body reader share: the
//! socket, the read buffer (reused for every message), and the body's progress. The
//! server reads request bodies through it, the client response bodies.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::background::BackgroundSlot;
use crate::parse::Framing;
use crate::request::RequestHead;
use crate::transport::Transport;

/// Initial read buffer; it grows (up to the header limit) only for large heads.
pub(crate) const INITIAL_BUFFER: usize = 8 * 1024;

/// One connection's socket and buffered input.
pub(crate) struct ConnIo {
    pub(crate) stream: Transport,
    /// The client's address.
    pub(crate) peer: std::net::SocketAddr,
    input: RefCell<InputBuf>,
    /// How the current request's body is framed and how much of it is left.
    pub(crate) body: Cell<BodyProgress>,
    /// The current request asked for `100 Continue` and has not been sent it yet.
    pub(crate) owes_continue: Cell<bool>,
    /// Limit on waiting for each piece of a request body.
    pub(crate) body_read_timeout: Duration,
    /// Background tasks the current request's handler scheduled, started once its
    /// response is written.
    pub(crate) background: BackgroundSlot,
    /// Set by a WebSocket route that accepted the handshake: once the `101` is out,
    /// the connection loop stops speaking HTTP and runs this instead.
    #[cfg(feature = "ws")]
    pub(crate) upgrade: Cell<Option<Upgrade>>,
    /// The server's last request on this connection, set when it starts and taken back
    /// when the next one's bytes are here: what a slow poll reports (see `Display`).
    pub(crate) last_request: RefCell<Option<Rc<RequestHead>>>,
}

/// What a slow poll of a server connection reports: `GET /path?query`, the last
/// request it started, or `connection from 127.0.0.1:5000` before the first. The
/// executor holds the connection (not the head itself) while a request runs, so handing
/// the head back for reuse is a `take` of `last_request`, not a call into the executor
/// (and the head of a connection that just went idle is still found: `pool::Recent`).
impl std::fmt::Display for ConnIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(head) = &*self.last_request.borrow() {
            return head.fmt(f);
        }
        match pool::recent_request(self) {
            Some(head) => head.fmt(f),
            None => write!(f, "connection from {}", self.peer),
        }
    }
}

/// What an upgraded connection runs: it gets the connection, leftover bytes included.
#[cfg(feature = "ws")]
pub(crate) type Upgrade = Box<
    dyn FnOnce(std::rc::Rc<ConnIo>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
>;

/// How much of the current request's body is still to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyProgress {
    /// Everything was read (or there was no body).
    Done,
    /// This many bytes of a Content-Length body remain.
    Length(u64),
    /// Inside a chunked body.
    Chunked(ChunkState),
    /// A body that ends when the peer closes (HTTP/1.0 responses without a length).
    UntilClose,
    /// Reading failed (bad framing, too large, timeout): the connection must close.
    Broken,
}

/// Where a chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkState {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty line.
    Trailers,
}

impl BodyProgress {
    pub(crate) fn start(framing: Framing) -> BodyProgress {
        match framing {
            Framing::Empty => BodyProgress::Done,
            Framing::Length(n) => BodyProgress::Length(n),
            Framing::Chunked => BodyProgress::Chunked(ChunkState::Size),
        }
    }
}

/// A reusable buffer: bytes `start..end` are read but not yet consumed.
struct InputBuf {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl ConnIo {
    pub(crate) fn new(
        stream: impl Into<Transport>,
        peer: std::net::SocketAddr,
        body_read_timeout: Duration,
    ) -> ConnIo {
        ConnIo {
            stream: stream.into(),
            peer,
            input: RefCell::new(InputBuf {
                bytes: Vec::new(), // taken from the pool when bytes arrive
                start: 0,
                end: 0,
            }),
            body: Cell::new(BodyProgress::Done),
            owes_continue: Cell::new(false),
            body_read_timeout,
            background: BackgroundSlot::default(),
            #[cfg(feature = "ws")]
            upgrade: Cell::new(None),
            last_request: RefCell::new(None),
        }
    }

    /// Runs `f` on the unread bytes; it returns how many it consumed and a value.
    #[inline]
    pub(crate) fn with_unread<R>(&self, f: impl FnOnce(&[u8]) -> (usize, R)) -> R {
        let mut input = self.input.borrow_mut();
        let (used, result) = f(&input.bytes[input.start..input.end]);
        input.start += used;
        if input.start == input.end {
            input.start = 0;
            input.end = 0;
        }
        result
    }

    /// A handler scheduled background tasks that wait for its response.
    pub(crate) fn background_waits(&self) -> bool {
        let tasks = self.background.take();
        let waits = tasks.is_some();
        self.background.set(tasks);
        waits
    }

    /// How many unread bytes are buffered.
    pub(crate) fn buffered(&self) -> usize {
        let input = self.input.borrow();
        input.end - input.start
    }

    /// Polls for the first bytes of an idle connection (nothing buffered). It holds no
    /// read buffer while the socket is known to be drained; one is taken from the
    /// thread's pool for the read, and given back if nothing came, so an idle
    /// connection holds no buffer (as nginx does).
    #[inline]
    pub(crate) fn poll_read_idle(&self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut input = self.input.borrow_mut();
        debug_assert_eq!(input.end, 0, "poll_read_idle with bytes buffered");
        if input.bytes.is_empty() {
            if self.stream.poll_read_ready(cx).is_pending() {
                return Poll::Pending;
            }
            input.bytes = pool::take_input();
        }
        let result = self.stream.poll_read(cx, &mut input.bytes[..]);
        match result {
            Poll::Ready(Ok(n)) => input.end = n,
            Poll::Pending => pool::give_input(std::mem::take(&mut input.bytes)),
            Poll::Ready(Err(_)) => {}
        }
        result
    }

    /// The read buffer, if it holds no unread bytes (a connection going idle gives it
    /// back to the pool with its `Serving`).
    #[inline]
    fn take_drained_input(&self) -> Option<Vec<u8>> {
        let mut input = self.input.borrow_mut();
        if input.end != input.start || input.bytes.is_empty() {
            return None;
        }
        input.start = 0;
        input.end = 0;
        Some(std::mem::take(&mut input.bytes))
    }

    /// Reads more bytes from the socket into the buffer, making room up to `max_buffer`
    /// bytes of unread data. `Ok(0)` means the peer closed.
    pub(crate) async fn read_more(&self, max_buffer: usize) -> io::Result<usize> {
        self.make_room(max_buffer);
        poll_fn(|cx| self.poll_read_more(cx)).await
    }

    /// Makes room in the read buffer (taking one if it has none) for up to
    /// `max_buffer` bytes of unread data, before `poll_read_more`.
    pub(crate) fn make_room(&self, max_buffer: usize) {
        self.input.borrow_mut().make_room(max_buffer);
    }

    /// Polls a read into the room after the buffered bytes (see `make_room`).
    pub(crate) fn poll_read_more(&self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut input = self.input.borrow_mut();
        let end = input.end;
        if end == input.bytes.len() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "read buffer full",
            )));
        }
        let result = self.stream.poll_read(cx, &mut input.bytes[end..]);
        if let Poll::Ready(Ok(n)) = result {
            input.end += n;
        }
        result
    }
}

impl InputBuf {
    /// Moves unread bytes to the front, and grows the buffer (to at most `max`) if it
    /// is full.
    fn make_room(&mut self, max: usize) {
        if self.bytes.is_empty() {
            self.bytes = pool::take_input();
        }
        if self.start > 0 {
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.bytes.len() && self.bytes.len() < max {
            let grown = (self.bytes.len() * 2).min(max.max(INITIAL_BUFFER));
            self.bytes.resize(grown, 0);
        }
    }
}

/// Per-thread pools of read and write buffers and request heads (each worker thread
/// has its own), so idle connections hold none and busy ones reuse them without
/// `malloc`.
pub(crate) mod pool {
    use std::cell::RefCell;
    use std::rc::{Rc, Weak};

    use super::{ConnIo, INITIAL_BUFFER};
    use crate::request::RequestHead;

    /// Buffers kept per thread and kind: enough for the connections active at once.
    pub(crate) const KEEP: usize = 64;
    /// Output buffers that grew past this are freed rather than kept.
    const MAX_OUTPUT: usize = 16 * 1024;
    /// A fresh output buffer's capacity.
    const OUTPUT: usize = 4096;

    thread_local! {
        static SPARES: RefCell<Spares> = const {
            RefCell::new(Spares { serving: Vec::new(), inputs: Vec::new(), recent: None })
        };
    }

    /// What a server connection holds while it answers requests, taken and given back
    /// together (one thread-local access each way): the head it refills for each
    /// request and the buffer its responses are written into.
    pub(crate) struct Serving {
        /// Refilled for each request (replaced first if something still holds it).
        pub(crate) head: Rc<RequestHead>,
        /// Empty when taken.
        pub(crate) out: Vec<u8>,
    }

    /// The thread's spare `Serving`s and read buffers (in one thread-local, so that a
    /// connection going idle gives both back with one access), and the head of the
    /// connection that went idle last.
    struct Spares {
        serving: Vec<Serving>,
        inputs: Vec<Vec<u8>>,
        recent: Option<Recent>,
    }

    /// The last request of the connection that went idle last. The poll in which a
    /// connection goes idle is often the poll that ran its handler: if that poll was
    /// slow, the executor asks the connection to describe itself only after the poll,
    /// when the connection has already given its head back. So the head is kept
    /// here until the next connection starts serving (see `ConnIo`'s `Display`).
    struct Recent {
        /// Compared by address only; weak, so an idle connection can still close.
        conn: Weak<ConnIo>,
        head: Rc<RequestHead>,
    }

    /// A head and an output buffer for a connection that has bytes to answer.
    #[inline]
    pub(crate) fn take_serving() -> Serving {
        let spare = SPARES.with(|p| {
            let mut p = p.borrow_mut();
            p.recent = None; // a new poll: the last one has been reported if it was slow
            p.serving.pop()
        });
        spare.unwrap_or_else(|| Serving {
            head: Rc::new(RequestHead::empty()),
            out: Vec::with_capacity(OUTPUT),
        })
    }

    /// Gives back what `conn`, going idle, held, with its read buffer if nothing is
    /// left unread in it; its last request is kept as the thread's `Recent`. An output
    /// buffer that grew large is let go (with its head), as is a grown read buffer.
    #[inline]
    pub(crate) fn give_serving(conn: &Rc<ConnIo>, mut serving: Serving) {
        let last_request = conn.last_request.take();
        let input = conn.take_drained_input();
        let keep = serving.out.capacity() != 0 && serving.out.capacity() <= MAX_OUTPUT;
        serving.out.clear();
        let _ = SPARES.try_with(|p| {
            let mut p = p.borrow_mut();
            p.recent = last_request.map(|head| Recent {
                conn: Rc::downgrade(conn),
                head,
            });
            if keep && p.serving.len() < KEEP {
                p.serving.push(serving);
            }
            if let Some(input) = input {
                keep_input(&mut p.inputs, input);
            }
        });
    }

    /// The last request of `conn` if it is the connection that went idle last.
    pub(crate) fn recent_request(conn: &ConnIo) -> Option<Rc<RequestHead>> {
        SPARES
            .try_with(|p| {
                let p = p.borrow();
                let recent = p.recent.as_ref()?;
                std::ptr::eq(recent.conn.as_ptr(), conn).then(|| Rc::clone(&recent.head))
            })
            .ok()
            .flatten()
    }

    /// A read buffer of `INITIAL_BUFFER` bytes (contents unspecified).
    #[inline]
    pub(crate) fn take_input() -> Vec<u8> {
        SPARES
            .with(|p| p.borrow_mut().inputs.pop())
            .unwrap_or_else(|| vec![0; INITIAL_BUFFER])
    }

    /// Gives back a read buffer; one that grew for a large head is freed.
    #[inline]
    pub(crate) fn give_input(buffer: Vec<u8>) {
        let _ = SPARES.try_with(|p| keep_input(&mut p.borrow_mut().inputs, buffer));
    }

    /// Keeps `buffer` among the spare read buffers, unless it grew or there are enough.
    #[inline]
    fn keep_input(inputs: &mut Vec<Vec<u8>>, buffer: Vec<u8>) {
        if buffer.len() == INITIAL_BUFFER && inputs.len() < KEEP {
            inputs.push(buffer);
        }
    }
}
