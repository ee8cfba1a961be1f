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

use crate::conn_io::{pool, ConnIo};
use crate::error::HttpError;
use crate::handler::Described;
use crate::inline_future::InlineFuture;
use crate::parse::{parse_head, Head, Parsed};
use crate::pooled::Pooled;
use crate::request::RequestHead;
use crate::server::Shared;
use crate::write::write_response;

mod answer;

use answer::{answer_now, poll_answer, prepare, Responded, Step};

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
    /// Every response is written, nothing more is buffered and the grace ran out: the
    /// connection is idle.
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
/// answered and written and no new request has come for a period of `GRACE` (10 ms;
/// see `GracePeriod`).
// An `async` block rather than an `async fn`: its captures are used in place, where an
// `async fn` would keep its arguments and its copies of them, and every idle connection
// would carry both.
#[allow(clippy::manual_async_fn)]
pub(crate) fn serve_connection(io: Rc<ConnIo>, slot: SlotGuard) -> impl Future<Output = ()> {
    async move {
        let shared = &*slot.shared;
        // The connection's one timer. Before the first request it is the header
        // timeout, running from the accept; while it serves, the grace's periods
        // (`GracePeriod`); then the keep-alive timeout, set by `serve_requests` as
        // it goes idle.
        let mut idle = pin!(sleep(shared.config.header_read_timeout));
        let mut first = true;
        // Set when a busy spell ends: it set the keep-alive deadline.
        let mut keep_alive_set = false;
        loop {
            // Waits for bytes with nothing held (a new connection too, so a burst of
            // connects that have sent nothing yet costs no buffers): close on the
            // timer or on shutdown. The first wait's timer is already set.
            let mut armed = first || std::mem::take(&mut keep_alive_set);
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
                future: Pooled::new(|| serve_requests(&io, shared, idle.as_mut(), accepted_at)),
            };
            match serving.await {
                Served::Idle => keep_alive_set = true,
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

/// Answers requests while bytes are buffered and, once everything is answered and
/// written, for `GRACE` more (see `poll_grace`), until the connection goes idle (its
/// timer, `idle`, then set to the keep-alive timeout) or closes; `accepted_at`: this
/// is a new connection's first request, whose head timeout runs from then.
async fn serve_requests(
    io: &Rc<ConnIo>,
    shared: &Shared,
    mut idle: Pin<&mut Sleep>,
    mut accepted_at: Option<Instant>,
) -> Served {
    let grace = grace(shared);
    let mut period = GracePeriod::default();
    // Taken from the thread's pool now that bytes are here, given back when the
    // connection goes idle (see `conn_io::pool`).
    let mut serving = pool::take_serving();
    let pool::Serving { head, out } = &mut serving;
    // Each request's handler future is written into this one slot, where it stays
    // (pinned) until its response is taken.
    let mut slot = pin!(InlineFuture::empty());
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
            // Nothing buffered (the usual end of a batch): the batch goes out, and the
            // connection waits for its next request in the grace, still holding its
            // buffers; idle once the grace runs out.
            None if io.buffered() == 0 => {
                if !out.is_empty() && flush(io, shared, out).await.is_err() {
                    Incoming::Close
                } else if let Some(_seat) = GraceSeat::take(&shared.in_grace) {
                    io.make_room(max_read_buffer(shared));
                    let read = poll_fn(|cx| poll_grace(io, idle.as_mut(), grace, &mut period, cx));
                    match read.await {
                        Some(Ok(n)) if n > 0 => continue,
                        Some(_) => Incoming::Close,
                        None => {
                            // A period passed without a request: the keep-alive timeout
                            // counts from its start, at most a grace after the last
                            // response.
                            let last = idle.deadline() - grace;
                            idle.as_mut().reset(last + shared.config.keep_alive_timeout);
                            Incoming::Idle
                        }
                    }
                } else {
                    // Enough connections are in their grace already: idle at once.
                    idle.as_mut().reset_after(shared.config.keep_alive_timeout);
                    Incoming::Idle
                }
            }
            // Part of a head: wait for the rest.
            None => rest_of_head(io, shared, started, head, out).await,
        };
        let next = match incoming {
            // One request through the app, in steps that are plain functions but for
            // the waits: a handler that finishes in its first poll, and a response
            // that fits in the buffer, need no future of their own.
            Incoming::Request(request) => 'answered: {
                if let Some(refused) = prepare(io, shared, &request, out) {
                    break 'answered refused;
                }
                if io.owes_continue.get()
                    && !out.is_empty()
                    && flush(io, shared, out).await.is_err()
                {
                    break 'answered Next::Close;
                }
                let now = poll_fn(|cx| {
                    Poll::Ready(answer_now(
                        io,
                        shared,
                        &request,
                        head,
                        slot.as_mut(),
                        out,
                        cx,
                    ))
                });
                let responded = match now.await {
                    Step::Responded(responded) => responded,
                    Step::Waiting { plain } => {
                        let answer = poll_fn(|cx| {
                            poll_answer(io, shared, &request, head, plain, slot.as_mut(), out, cx)
                        });
                        answer.await
                    }
                };
                match responded {
                    Responded::Done(next) => next,
                    Responded::Unfinished(rest) => rest.finish(io, shared, out).await,
                }
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
///
/// `#[inline]`s here and on `ConnIo::with_unread` keep them inlinable wherever the
/// compiler's sixteen codegen units put them: without, an unrelated module landing
/// among them (`json_write`) moved both out of line, +20 instructions a request.
#[inline]
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

/// Reads the rest of a head that is partly buffered (see `buffered_head`), flushing
/// finished responses before each wait. The header timeout runs from `started` if given
/// (a new connection's accept), else from the first wait for the rest.
async fn rest_of_head(
    io: &ConnIo,
    shared: &Shared,
    started: Option<Instant>,
    head: &mut Rc<RequestHead>,
    out: &mut Vec<u8>,
) -> Incoming {
    let config = &shared.config;
    let max_buffer = max_read_buffer(shared);
    // Read from the clock only if the loop has to wait in the middle of a head (a head
    // that arrives in one read costs no clock read).
    let mut first_byte_at: Option<Instant> = started;
    loop {
        if !out.is_empty() && flush(io, shared, out).await.is_err() {
            return Incoming::Close;
        }
        let started = *first_byte_at.get_or_insert_with(Instant::now);
        let left = config.header_read_timeout.saturating_sub(started.elapsed());
        let Ok(read) = timeout(left, io.read_more(max_buffer)).await else {
            return Incoming::Reject(HttpError::new(
                408,
                format!(
                    "request header not received within {}",
                    Readable(config.header_read_timeout)
                ),
            ));
        };
        match read {
            Ok(0) | Err(_) => return Incoming::Close,
            Ok(_) => {}
        }
        if let Some(incoming) = buffered_head(io, shared, head) {
            poll_fn(coop::poll_proceed).await; // as in `serve_requests`
            return incoming;
        }
    }
}

/// Polls an idle connection for more bytes; `None` once its timer (`idle`) fires or
/// shutdown begins. Unless already `armed`, the timer is pushed back by the keep-alive
/// timeout, and only when the read has to wait, so bytes already waiting cost no timer
/// work. It holds no read buffer while it waits (`poll_read_idle`). A plain function
/// polled by `poll_fn`, so the wait adds only a few references to every idle
/// connection's task.
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
        // From the loop's wake-up, not a clock read of its own (see `reset_after`).
        idle.as_mut().reset_after(shared.config.keep_alive_timeout);
        *armed = true;
    }
    if idle.as_mut().poll(cx).is_ready() || shared.poll_draining(slot.slot, cx).is_ready() {
        return Poll::Ready(None);
    }
    Poll::Pending
}

/// How long a connection that has answered and written everything keeps its buffers,
/// head and serving future, waiting for its next request, before it goes idle and gives
/// them back. A keep-alive client's next request usually comes well within it, and a
/// connection that goes idle and wakes again costs about 500 instructions more per
/// request (the buffers' and the future's trip to the thread's pools and back,
/// callgrind); one that stays idle holds them one to two graces and no longer.
const GRACE: std::time::Duration = std::time::Duration::from_millis(10);

/// Most connections in their grace at once, per loop: as many as the thread's pool
/// keeps buffers for (`conn_io::pool`), so the grace holds no more memory than the pool
/// would, however many connections a burst brings. Past it, a connection goes idle
/// at once, as it would without the grace.
const MOST_IN_GRACE: usize = crate::conn_io::pool::KEEP;

/// A connection's place among those in their grace (`Shared::in_grace`): taken when it
/// enters it, given back when it leaves, however it leaves (bytes, the timer, or its
/// task dropped).
struct GraceSeat<'a>(&'a std::cell::Cell<usize>);

impl GraceSeat<'_> {
    /// A place among those counted by `taken` (`Shared::in_grace`), if fewer than
    /// `MOST_IN_GRACE` are taken.
    fn take(taken: &std::cell::Cell<usize>) -> Option<GraceSeat<'_>> {
        let n = taken.get();
        (n < MOST_IN_GRACE).then(|| {
            taken.set(n + 1);
            GraceSeat(taken)
        })
    }
}

impl Drop for GraceSeat<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// The most unread bytes a connection's read buffer grows to: a whole head at the
/// limit, and some.
fn max_read_buffer(shared: &Shared) -> usize {
    shared.config.max_header_bytes + 4096
}

/// The grace, but never longer than the keep-alive timeout.
fn grace(shared: &Shared) -> std::time::Duration {
    GRACE.min(shared.config.keep_alive_timeout)
}

/// The grace timer of a busy spell, kept in periods: the connection's timer is armed
/// once for a period of the grace, and when it runs out the connection goes idle only
/// if no request came during that period; else another period starts. A request then
/// costs no timer work at all (resetting the timer per request cost about 85
/// instructions, callgrind), and a connection goes idle between one and two graces
/// after its last request.
#[derive(Default)]
struct GracePeriod {
    /// The timer is set for the current period.
    armed: bool,
    /// A request came during the current period.
    used: bool,
}

/// Polls a connection in its grace for more bytes, read into the buffer it still
/// holds; `None` once a whole period of the grace has passed without a request. The
/// timer is the connection's one, `idle`.
fn poll_grace(
    io: &ConnIo,
    mut idle: Pin<&mut Sleep>,
    grace: std::time::Duration,
    period: &mut GracePeriod,
    cx: &mut Context<'_>,
) -> Poll<Option<io::Result<usize>>> {
    if let Poll::Ready(read) = io.poll_read_more(cx) {
        period.used = true;
        return Poll::Ready(Some(read));
    }
    // Shutdown is not watched here: a response given while the server drains closes
    // its connection instead of entering the grace, and one in the grace when draining
    // begins closes when the grace runs out, in the idle wait.
    loop {
        if !period.armed {
            // From the loop's wake-up, no clock read (see `reset_after`).
            idle.as_mut().reset_after(grace);
            *period = GracePeriod {
                armed: true,
                used: false,
            };
        }
        match idle.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(()) if period.used => period.armed = false,
            Poll::Ready(()) => return Poll::Ready(None),
        }
    }
}

/// Starts the background tasks of the response just written (they run even if the
/// client has gone).
fn start_background(io: &ConnIo, head: &RequestHead) {
    if let Some(tasks) = io.background.take() {
        tasks.release(head);
    }
}

/// Writes the output buffer, within the write timeout, and empties it.
fn flush<'a>(io: &'a ConnIo, shared: &Shared, out: &'a mut Vec<u8>) -> Flush<'a> {
    Flush {
        io,
        write_timeout: shared.config.write_timeout,
        out,
        sent: 0,
        deadline: None,
    }
}

/// The future of [`flush`]: one poll function rather than `timeout(write_all(..))`, so
/// a batch that goes out in one `write` (nearly all do) passes through no nested
/// futures, and the timer starts only if the socket's send buffer is full.
struct Flush<'a> {
    io: &'a ConnIo,
    write_timeout: std::time::Duration,
    out: &'a mut Vec<u8>,
    /// How much of `out` is written.
    sent: usize,
    /// Started at the first write that has to wait.
    deadline: Option<Sleep>,
}

impl Future for Flush<'_> {
    type Output = Result<(), ()>;

    // Out of line: the connection loop awaits it in eight places, and inlined into
    // each it grew the small build by about 1 KB.
    #[inline(never)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let this = self.get_mut();
        let written = loop {
            if this.sent == this.out.len() {
                break Ok(());
            }
            // A TLS write must be polled again with the same bytes: this does, from
            // `sent`.
            match this.io.stream.poll_write(cx, &this.out[this.sent..]) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => break Err(()),
                Poll::Ready(Ok(n)) => this.sent += n,
                Poll::Pending => {
                    let limit = this.write_timeout;
                    let timer = this.deadline.get_or_insert_with(|| sleep(limit));
                    match Pin::new(timer).poll(cx) {
                        Poll::Ready(()) => break Err(()),
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        };
        this.out.clear();
        Poll::Ready(written)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_seats_run_out_at_the_limit_and_come_back_when_dropped() {
        let taken = std::cell::Cell::new(0);
        let seats: Vec<_> = (0..MOST_IN_GRACE)
            .map(|_| GraceSeat::take(&taken).expect("a seat below the limit"))
            .collect();
        assert!(GraceSeat::take(&taken).is_none(), "none past the limit");
        drop(seats);
        assert_eq!(taken.get(), 0);
        assert!(GraceSeat::take(&taken).is_some());
    }
}
