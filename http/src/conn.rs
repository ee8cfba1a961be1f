//! One connection: read heads, run each request through the app, write responses.
//!
//! Pipelining falls out of the order of operations: responses are appended to one
//! output buffer, and the buffer is written only when the loop is about to wait for
//! more input (or is large). So every request already in the read buffer is answered
//! before the one `write` that sends the whole batch.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use simmer_executor::coop;
use simmer_reactor::time::{sleep, timeout, Readable, Sleep};

use crate::body::{skip_buffered, too_large, BodyReader};
use crate::conn_io::{pool, BodyProgress, ConnIo};
use crate::error::HttpError;
use crate::handler::{CatchPanic, Described};
use crate::parse::{parse_head, Framing, Head, Parsed};
use crate::pooled::Pooled;
use crate::request::{Request, RequestHead};
use crate::response::{Body, Response};
use crate::router::Started;
use crate::server::Shared;
use crate::write::{write_chunk, write_response, Sent, LAST_CHUNK};

/// Write the batch early once this much is waiting.
const FLUSH_THRESHOLD: usize = 64 * 1024;

/// After answering an error mid-request, read and discard at most this much (for at
/// most a second) so the client sees the answer instead of a reset.
const LINGER_BYTES: usize = 1 << 20;

/// What to do after a response.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    KeepGoing,
    Close,
    /// Close, but unread request bytes may be in flight: linger first.
    CloseAfterDraining,
}

/// What waiting for a head produced.
enum Incoming {
    /// The head is in the connection's `RequestHead`; what the connection itself
    /// needs to know of it.
    Request(Head),
    /// Every response is written and nothing more is buffered: the connection is idle.
    Idle,
    Close,
    Reject(HttpError),
}

/// How a busy spell of a connection ended.
enum Served {
    /// Everything buffered was answered; wait for the next request.
    Idle,
    /// The connection is done.
    Closed,
    /// A WebSocket took the connection over: run this with it.
    #[cfg(feature = "ws")]
    Upgraded(crate::conn_io::Upgrade),
}

/// Serves one connection until it closes; `slot` holds its entry in the server.
///
/// The connection alternates between two states. Idle, it waits for bytes in this
/// small future and holds no buffer, no head and no handler state: an idle keep-alive
/// connection costs its task and its socket. Once bytes arrive, `serve_requests` runs
/// in a block from the thread's pool (see `pooled`) until everything buffered has been
/// answered and written.
// An `async` block rather than an `async fn`: its captures are used in place, where an
// `async fn` would keep its arguments and its copies of them, and every idle connection
// would carry both.
#[allow(clippy::manual_async_fn)]
pub(crate) fn serve_connection(io: Rc<ConnIo>, slot: SlotGuard) -> impl Future<Output = ()> {
    async move {
        let shared = &*slot.shared;
        // The connection's one timer. Before the first request it is the header
        // timeout, running from the accept; then the keep-alive timeout, pushed back
        // before each idle wait rather than replaced.
        let mut idle = pin!(sleep(shared.config.header_read_timeout));
        let mut first = true;
        loop {
            // Waits for bytes with nothing held (a new connection too, so a burst of
            // connects that have sent nothing yet costs no buffers): close on the
            // timer or on shutdown. The first wait's timer is already set.
            let mut armed = first;
            let read = poll_fn(|cx| poll_idle(&io, &slot, idle.as_mut(), &mut armed, cx));
            match read.await {
                Some(Ok(n)) if n > 0 => {}
                _ => return,
            }
            // The first head's time limit counts from the accept.
            let accepted_at = first.then(|| idle.deadline() - shared.config.header_read_timeout);
            first = false;
            // A slow poll while it serves names the connection's last request (see
            // `ConnIo`'s `Display`): told to the executor once per poll, not per
            // request (16 pipelined requests are answered in one poll).
            let serving = Described {
                detail: Rc::clone(&io) as Rc<dyn std::fmt::Display>,
                future: Pooled::new(|| serve_requests(&io, shared, accepted_at)),
            };
            match serving.await {
                Served::Idle => {}
                Served::Closed => return,
                #[cfg(feature = "ws")]
                Served::Upgraded(upgrade) => return upgrade(io).await,
            }
        }
    }
}

/// A TLS connection: the handshake (within the handshake timeout), then the same loop.
#[cfg(feature = "tls")]
pub(crate) async fn serve_tls_connection(
    tcp: simmer_reactor::net::TcpStream,
    peer: std::net::SocketAddr,
    tls: &crate::tls::ServerTls,
    slot: SlotGuard,
) {
    let limit = slot.shared.config.tls_handshake_timeout;
    let Some(stream) = crate::tls::accept::accept(tcp, tls, limit).await else {
        return; // the handshake failed; the guard frees the slot
    };
    let body_read_timeout = slot.shared.config.body_read_timeout;
    let io = Rc::new(ConnIo::new(stream, peer, body_read_timeout));
    serve_connection(io, slot).await
}

/// Answers requests while bytes are buffered, until the connection goes idle or closes;
/// `accepted_at`: this is a new connection's first request, whose head timeout runs
/// from then.
async fn serve_requests(
    io: &Rc<ConnIo>,
    shared: &Shared,
    mut accepted_at: Option<Instant>,
) -> Served {
    // Taken from the thread's pool now that bytes are here, given back when the
    // connection goes idle (see `conn_io::pool`).
    let mut serving = pool::take_serving();
    let pool::Serving { head, out } = &mut serving;
    let served = loop {
        // A head already buffered is taken without starting the waiting future.
        let started = accepted_at.take();
        let incoming = match buffered_head(io, shared, head) {
            Some(incoming) => {
                // Each request spends one unit of the task's coop budget, so a client
                // with hundreds of pipelined requests buffered yields the loop to the
                // others.
                poll_fn(coop::poll_proceed).await;
                incoming
            }
            None => next_head(io, shared, started, head, out).await,
        };
        let next = match incoming {
            Incoming::Request(framing) => {
                let head = Rc::clone(head);
                handle(io, shared, framing, head, out).await
            }
            Incoming::Reject(error) => {
                // Answered in the router's error style (JSON detail, or plain text).
                let response = shared.app.error_response(error);
                write_response(out, &response, closing());
                Next::CloseAfterDraining
            }
            Incoming::Idle => break Served::Idle,
            Incoming::Close => Next::Close,
        };
        #[cfg(feature = "ws")]
        if let Some(upgrade) = io.upgrade.take() {
            // A WebSocket took the connection: send the 101, then hand over.
            if flush(io, shared, out).await.is_ok() {
                break Served::Upgraded(upgrade);
            }
            break Served::Closed;
        }
        // Background tasks the handler scheduled start once its response is written.
        let tasks_wait = io.background_waits();
        match next {
            Next::KeepGoing if out.len() < FLUSH_THRESHOLD && !tasks_wait => continue,
            Next::KeepGoing => {
                let written = flush(io, shared, out).await;
                start_background(io, head);
                if written.is_err() {
                    break Served::Closed;
                }
            }
            Next::Close | Next::CloseAfterDraining => {
                let written = flush(io, shared, out).await;
                start_background(io, head);
                if written.is_ok() && next == Next::CloseAfterDraining {
                    linger(io).await;
                }
                break Served::Closed;
            }
        }
    };
    pool::give_serving(io, serving);
    served
}

/// A connection's entry in the server, freed however the task ends.
pub(crate) struct SlotGuard {
    pub(crate) shared: Rc<Shared>,
    pub(crate) slot: usize,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.shared.close_slot(self.slot);
    }
}

fn closing() -> crate::write::Framing {
    crate::write::Framing {
        version: crate::method::Version::Http11,
        keep_alive: false,
        head_request: false,
    }
}

/// The connection's head, writable: the last request's is reused (its allocations
/// too) unless something (a task the handler spawned, say) still holds it. Reusing it
/// saved two allocations per request, about 300 instructions (callgrind).
fn reusable<'h>(head: &'h mut Rc<RequestHead>, io: &ConnIo) -> &'h mut RequestHead {
    // The connection's description held the last request's head, so that a slow
    // request that ended a poll is still the one named; the next request's bytes are
    // here now.
    io.last_request.take();
    if Rc::get_mut(head).is_none() {
        *head = Rc::new(RequestHead::empty());
    }
    Rc::get_mut(head).expect("just made unique")
}

/// The complete head at the front of the read buffer, parsed into `head`, if there is
/// one; `None` if more bytes are needed (or none are buffered).
fn buffered_head(io: &ConnIo, shared: &Shared, head: &mut Rc<RequestHead>) -> Option<Incoming> {
    io.with_unread(|unread| {
        if unread.is_empty() {
            return (0, None);
        }
        let writable = reusable(head, io);
        match parse_head(unread, &shared.config.head_limits(), &mut writable.parsed) {
            Parsed::Complete(parsed) => {
                writable.keep_bytes(&unread[..parsed.len]);
                (parsed.len, Some(Incoming::Request(parsed)))
            }
            Parsed::Invalid(e) => (0, Some(Incoming::Reject(e))),
            Parsed::Partial => (0, None),
        }
    })
}

/// Waits for the next complete head when none is buffered (see `buffered_head`),
/// flushing finished responses before any wait;
/// `Idle` once nothing is buffered and every response is written. The header timeout
/// runs from `started` if given (a new connection's accept), else from the head's
/// first byte.
async fn next_head(
    io: &ConnIo,
    shared: &Shared,
    started: Option<Instant>,
    head: &mut Rc<RequestHead>,
    out: &mut Vec<u8>,
) -> Incoming {
    let config = &shared.config;
    let max_buffer = config.max_header_bytes + 4096;
    // When the head started arriving; read from the clock only if the loop has to wait
    // in the middle of a head (a head that arrives in one read costs no clock read).
    let mut first_byte_at: Option<Instant> = started;
    let mut receiving = io.buffered() > 0;
    loop {
        if !out.is_empty() && flush(io, shared, out).await.is_err() {
            return Incoming::Close;
        }
        if !receiving {
            return Incoming::Idle;
        }
        // A request is on its way: the header timeout runs from its first byte (or
        // from the accept).
        let started = *first_byte_at.get_or_insert_with(Instant::now);
        let left = config.header_read_timeout.saturating_sub(started.elapsed());
        let read = match timeout(left, io.read_more(max_buffer)).await {
            Ok(read) => read,
            Err(_) if io.buffered() == 0 => return Incoming::Close,
            Err(_) => {
                return Incoming::Reject(HttpError::new(
                    408,
                    format!(
                        "request header not received within {}",
                        Readable(config.header_read_timeout)
                    ),
                ))
            }
        };
        match read {
            Ok(0) | Err(_) => return Incoming::Close,
            Ok(_) => receiving = true,
        }
        if let Some(incoming) = buffered_head(io, shared, head) {
            poll_fn(coop::poll_proceed).await; // as in `serve_requests`
            return incoming;
        }
    }
}

/// Polls an idle connection for more bytes; `None` once its timer (`idle`) fires or
/// shutdown begins. Unless already `armed`, the timer is pushed back by the keep-alive
/// timeout, and only when the read has to wait, so bytes already waiting cost no clock read and no timer work. It
/// holds no read buffer while it waits (`poll_read_idle`). A plain function polled by
/// `poll_fn`, so the wait adds only a few references to every idle connection's task.
fn poll_idle(
    io: &ConnIo,
    slot: &SlotGuard,
    mut idle: Pin<&mut Sleep>,
    armed: &mut bool,
    cx: &mut Context<'_>,
) -> Poll<Option<io::Result<usize>>> {
    let shared = &slot.shared;
    if let Poll::Ready(read) = io.poll_read_idle(cx) {
        return Poll::Ready(Some(read));
    }
    if !*armed {
        idle.as_mut()
            .reset(Instant::now() + shared.config.keep_alive_timeout);
        *armed = true;
    }
    if idle.as_mut().poll(cx).is_ready() || shared.poll_draining(slot.slot, cx).is_ready() {
        return Poll::Ready(None);
    }
    Poll::Pending
}

/// Runs one request through the app and appends its response to `out`.
async fn handle(
    io: &Rc<ConnIo>,
    shared: &Shared,
    request: Head,
    head: Rc<RequestHead>,
    out: &mut Vec<u8>,
) -> Next {
    let config = &shared.config;
    let mut keep_alive = request.keep_alive;
    if let Framing::Length(n) = request.framing {
        if n > config.max_body_bytes as u64 {
            // Refused without reading the body.
            let response = shared.app.error_response(too_large(config.max_body_bytes));
            write_response(out, &response, closing());
            return Next::CloseAfterDraining;
        }
    }
    io.body.set(BodyProgress::start(request.framing));
    io.owes_continue
        .set(request.expect_continue && request.framing != Framing::Empty);
    if io.owes_continue.get() && !out.is_empty() && flush(io, shared, out).await.is_err() {
        return Next::Close;
    }
    let body = BodyReader::new(Some(Rc::clone(io)), config.max_body_bytes);
    let req = Request::new(Rc::clone(&head), body, Rc::clone(&shared.app.state));
    // Pinned where routing wrote it: moving the handler's future out of `Started`
    // first would copy it whole (it is a few hundred bytes, see `inline_future`).
    let mut started = pin!(shared.app.start(req));
    // SAFETY: `started` is never moved again; the future inside is used only pinned
    // (as `running.future`) and dropped in place with `started`.
    let started = unsafe { started.as_mut().get_unchecked_mut() };
    let mut response = match started {
        Started::Answered(response) => {
            std::mem::replace(response, Response::new(crate::status::StatusCode(200)))
        }
        Started::Running { future, plain } => {
            let plain = *plain;
            // What a slow poll reports from now on (see `serve_connection`).
            io.last_request.replace(Some(Rc::clone(&head)));
            // SAFETY: see `started` above: the future stays where it is until dropped.
            let future = unsafe { Pin::new_unchecked(future) };
            match CatchPanic(future).await {
                Ok(response) if plain => shared.app.finish(response, &head),
                Ok(response) => response,
                Err(message) => {
                    simmer_executor::log_error!(
                        "simmer_http",
                        "simmer-http: handler for {} (from {}) panicked: {message}",
                        head,
                        io.peer
                    );
                    shared
                        .app
                        .error_response(HttpError::new(500, "Internal Server Error"))
                }
            }
        }
    };
    drop(head);
    // The body the handler left unread is skipped (its framing checked) before the
    // response is committed, as far as it is buffered; the rest after the response.
    let mut discard_after = None;
    let body_finished = match settle_unread_body(io, config.max_body_bytes) {
        Unread::Finished => true,
        Unread::Rest(budget) => {
            discard_after = Some(budget);
            true
        }
        Unread::BadFraming(e) => {
            // Never a 200 for a request whose body turns out malformed.
            response = shared.app.error_response(e);
            false
        }
        Unread::Abandon => false,
    };
    keep_alive &= body_finished && !shared.is_draining();
    #[cfg(feature = "ws")]
    if !keep_alive || response.status.0 != 101 {
        // The handshake was answered with something else (or the connection is
        // closing): no upgrade.
        io.upgrade.take();
    }
    let how = crate::write::Framing {
        version: request.version,
        keep_alive,
        head_request: request.head_request,
    };
    let sent = write_response(out, &response, how);
    if sent != Sent::Complete {
        let Body::Stream(stream) = &mut response.body else {
            unreachable!("only stream bodies are sent in pieces");
        };
        if flush(io, shared, out).await.is_err() {
            return Next::Close;
        }
        while let Some(piece) = stream.next().await {
            match sent {
                Sent::Chunked => write_chunk(out, &piece),
                _ => out.extend_from_slice(&piece),
            }
            if flush(io, shared, out).await.is_err() {
                return Next::Close;
            }
        }
        if sent == Sent::Chunked {
            out.extend_from_slice(LAST_CHUNK);
        } else {
            keep_alive = false; // HTTP/1.0: the close ends the body
        }
    }
    if let (true, Some(budget)) = (keep_alive, discard_after) {
        // The response goes out first (the client may be waiting for it), then the
        // rest of the body is read and dropped. Bad framing or a body past the bound
        // found now closes the connection: the answer is already on its way.
        if flush(io, shared, out).await.is_err() || !discard_rest(io, budget).await {
            return Next::Close;
        }
    }
    match (keep_alive, body_finished) {
        (true, _) => Next::KeepGoing,
        (false, true) if discard_after.is_none() => Next::Close,
        (false, true) => Next::CloseAfterDraining,
        (false, false) => Next::CloseAfterDraining,
    }
}

/// Starts the background tasks of the response just written (they run even if the
/// client has gone).
fn start_background(io: &ConnIo, head: &RequestHead) {
    if let Some(tasks) = io.background.take() {
        tasks.release(head);
    }
}

/// Most bytes of an unread body skipped to keep a connection (nginx discards unread
/// bodies, hyper closes): this or the body limit, the smaller.
const DISCARD_BOUND: usize = 64 * 1024;

/// What became of a body the handler did not read to its end.
enum Unread {
    /// It was read, or it was all buffered and has been skipped.
    Finished,
    /// More is coming: skip up to this many more bytes after the response.
    Rest(usize),
    /// Its framing is broken: answer this instead, and close.
    BadFraming(HttpError),
    /// Too large to skip, never sent (`100 Continue` was not given), or broken by a
    /// failed read: answer with `Connection: close`.
    Abandon,
}

/// Skips what is buffered of the body the handler left unread (RFC 9112 §9.3: the
/// server must read it, or close, to find the next request).
fn settle_unread_body(io: &ConnIo, max_body_bytes: usize) -> Unread {
    if io.body.get() == BodyProgress::Done {
        return Unread::Finished;
    }
    if io.owes_continue.get() {
        return Unread::Abandon; // the client waits for 100 Continue before sending it
    }
    let mut budget = DISCARD_BOUND.min(max_body_bytes);
    if let BodyProgress::Length(left) = io.body.get() {
        if left > budget as u64 {
            return Unread::Abandon; // known to be past the bound: don't start
        }
    }
    if let Err(e) = skip_buffered(io, &mut budget) {
        return Unread::BadFraming(e);
    }
    match io.body.get() {
        BodyProgress::Done => Unread::Finished,
        BodyProgress::Broken => Unread::Abandon,
        _ if budget == 0 => Unread::Abandon,
        _ => Unread::Rest(budget),
    }
}

/// Reads and drops the rest of an unread body, within `budget` bytes and the body read
/// timeout for each wait; true if it ended cleanly and the connection can go on.
async fn discard_rest(io: &ConnIo, mut budget: usize) -> bool {
    loop {
        if skip_buffered(io, &mut budget).is_err() {
            return false;
        }
        match io.body.get() {
            BodyProgress::Done => return true,
            _ if budget == 0 => return false,
            _ => {}
        }
        let want = (budget + 4096).clamp(16 * 1024, 1 << 20);
        match timeout(io.body_read_timeout, io.read_more(want)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return false,
        }
    }
}

/// Writes the output buffer, within the write timeout.
async fn flush(io: &ConnIo, shared: &Shared, out: &mut Vec<u8>) -> Result<(), ()> {
    let written = timeout(shared.config.write_timeout, io.stream.write_all(out)).await;
    out.clear();
    match written {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Half-closes, then reads and discards what the client still sends (bounded in
/// bytes and time), so that closing does not turn into a reset that destroys the
/// response before the client reads it.
async fn linger(io: &ConnIo) {
    let _ = io.stream.shutdown(std::net::Shutdown::Write);
    let mut discarded = 0;
    // On the heap, not in the connection's future: that would make every
    // connection's task this much larger for as long as it lives.
    let mut scratch = pool::take_input();
    let drain = async {
        while discarded < LINGER_BYTES {
            match io.stream.read(&mut scratch).await {
                Ok(0) | Err(_) => return,
                Ok(n) => discarded += n,
            }
        }
    };
    let _ = timeout(std::time::Duration::from_secs(1), drain).await;
    pool::give_input(scratch);
}
