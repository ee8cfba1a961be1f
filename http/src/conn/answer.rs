//! One request through the app, in steps that are plain functions but for the waits:
//! the checks before the handler (`prepare`); its start and first poll, inside the
//! connection's own poll (`answer_now`); the response written into the output buffer
//! (`respond`). A handler that finishes in its first poll, and a response that fits in
//! the buffer, need no future of their own (an `async fn` per request here cost about
//! 110 instructions of a pipelined request's 1,800, callgrind). Only a handler that
//! waits, a streamed body and an unread body to skip go on over later polls.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use simmer_reactor::time::timeout;

use super::{closing, flush, Next};
use crate::body::{skip_buffered, too_large, BodyReader};
use crate::conn_io::{BodyProgress, ConnIo};
use crate::error::HttpError;
use crate::handler::panic_message;
use crate::inline_future::InlineFuture;
use crate::parse::{Framing, Head};
use crate::request::{Request, RequestHead};
use crate::response::{Body, Response};
use crate::router::Started;
use crate::server::Shared;
use crate::write::{write_chunk, write_response, Sent, LAST_CHUNK};

/// The checks and settings before a request's handler starts; `Some(next)` if the
/// request is refused at once (a body declared over the limit).
#[inline]
pub(super) fn prepare(
    io: &ConnIo,
    shared: &Shared,
    request: &Head,
    out: &mut Vec<u8>,
) -> Option<Next> {
    let max_body_bytes = shared.config.max_body_bytes;
    if let Framing::Length(n) = request.framing {
        if n > max_body_bytes as u64 {
            // Refused without reading the body.
            let response = shared.app.error_response(too_large(max_body_bytes));
            write_response(out, &response, closing());
            return Some(Next::CloseAfterDraining);
        }
    }
    io.body.set(BodyProgress::start(request.framing));
    io.owes_continue
        .set(request.expect_continue && request.framing != Framing::Empty);
    None
}

/// How far a request got in the poll that parsed it.
pub(super) enum Step {
    /// Its handler finished, and its response is written (or under way).
    Responded(Responded),
    /// The handler waits, in the slot (`plain` as in [`Started::Running`]).
    Waiting { plain: bool },
}

/// Starts the app on the request in `head`, its future in `slot` (the connection's
/// handler slot), and polls it once, inside the connection's own poll: a handler that
/// finishes at once (nearly all do) is answered with no future around it.
#[inline(never)]
pub(super) fn answer_now(
    io: &Rc<ConnIo>,
    shared: &Shared,
    request: &Head,
    head: &Rc<RequestHead>,
    mut slot: Pin<&mut InlineFuture>,
    out: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> Step {
    let body = BodyReader::new(Some(Rc::clone(io)), shared.config.max_body_bytes);
    let req = Request::new(Rc::clone(head), body, Rc::clone(&shared.app.state));
    match shared.app.start(req, slot.as_mut()) {
        Started::Answered(mut response) => {
            let responded = respond(io, shared, request, &mut response, out);
            response.discard();
            Step::Responded(responded)
        }
        Started::Running { plain } => {
            // What a slow poll reports from now on (see `serve_connection`).
            io.last_request.replace(Some(Rc::clone(head)));
            match poll_answer(io, shared, request, head, plain, slot, out, cx) {
                Poll::Ready(responded) => Step::Responded(responded),
                Poll::Pending => Step::Waiting { plain },
            }
        }
    }
}

/// Polls the handler in `slot`; once it is done, drops it there and writes its
/// response (through [`App::finish`] when `plain`; a panic in it answered with a 500).
/// The response is written in the same function that took it from the handler: each
/// hand-over of a `Response` between functions is a copy of nine words.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn poll_answer(
    io: &ConnIo,
    shared: &Shared,
    request: &Head,
    head: &Rc<RequestHead>,
    plain: bool,
    mut slot: Pin<&mut InlineFuture>,
    out: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> Poll<Responded> {
    let mut response = match catch_unwind(AssertUnwindSafe(|| slot.as_mut().poll(cx))) {
        Ok(Poll::Pending) => return Poll::Pending,
        Ok(Poll::Ready(response)) => response,
        Err(payload) => panicked(io, shared, head, &*payload),
    };
    slot.clear();
    if plain {
        shared.app.finish(&mut response, head);
    }
    let responded = respond(io, shared, request, &mut response, out);
    response.discard();
    Poll::Ready(responded)
}

/// The answer for a handler that panicked: logged with its request, answered 500.
#[cold]
fn panicked(
    io: &ConnIo,
    shared: &Shared,
    head: &RequestHead,
    payload: &(dyn std::any::Any + Send),
) -> Response {
    simmer_executor::log_error!(
        "simmer_http",
        "simmer-http: handler for {} (from {}) panicked: {}",
        head,
        io.peer,
        panic_message(payload)
    );
    shared
        .app
        .error_response(HttpError::new(500, "Internal Server Error"))
}

/// What writing a response left to do.
pub(super) enum Responded {
    /// It is in the output buffer; go on this way.
    Done(Next),
    /// A streamed body to send, or an unread body to skip after the response (rare:
    /// boxed, so that the common answer stays two words to pass back).
    Unfinished(Box<Unfinished>),
}

/// A response whose sending goes on over several polls (see `Unfinished::finish`).
pub(super) struct Unfinished {
    response: Response,
    sent: Sent,
    keep_alive: bool,
    body_finished: bool,
    /// Skip up to this many bytes of the unread body once the response is out.
    discard_after: Option<usize>,
}

/// Settles the request's unread body, then writes the response (its head, and the
/// body if fixed) into `out`.
#[inline(always)]
fn respond(
    io: &ConnIo,
    shared: &Shared,
    request: &Head,
    response: &mut Response,
    out: &mut Vec<u8>,
) -> Responded {
    // The body the handler left unread is skipped (its framing checked) before the
    // response is committed, as far as it is buffered; the rest after the response.
    let mut discard_after = None;
    let body_finished = match settle_unread_body(io, shared.config.max_body_bytes) {
        Unread::Finished => true,
        Unread::Rest(budget) => {
            discard_after = Some(budget);
            true
        }
        Unread::BadFraming(e) => {
            // Never a 200 for a request whose body turns out malformed.
            *response = shared.app.error_response(e);
            false
        }
        Unread::Abandon => false,
    };
    let keep_alive = request.keep_alive && body_finished && !shared.is_draining();
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
    let sent = write_response(out, response, how);
    if sent == Sent::Complete && !(keep_alive && discard_after.is_some()) {
        return Responded::Done(next_after(keep_alive, body_finished, discard_after));
    }
    Responded::Unfinished(Box::new(Unfinished {
        response: std::mem::replace(response, Response::new(crate::status::StatusCode(200))),
        sent,
        keep_alive,
        body_finished,
        discard_after,
    }))
}

impl Unfinished {
    /// Streams the body, then skips the rest of the request's body if the connection
    /// is to go on.
    pub(super) async fn finish(
        self: Box<Self>,
        io: &ConnIo,
        shared: &Shared,
        out: &mut Vec<u8>,
    ) -> Next {
        let Unfinished {
            mut response,
            sent,
            mut keep_alive,
            body_finished,
            discard_after,
        } = *self;
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
            // rest of the body is read and dropped. Bad framing or a body past the
            // bound found now closes the connection: the answer is already on its way.
            if flush(io, shared, out).await.is_err() || !discard_rest(io, budget).await {
                return Next::Close;
            }
        }
        next_after(keep_alive, body_finished, discard_after)
    }
}

/// What the connection does after a response, from whether it stays open, whether the
/// request's body was read to its end, and whether some of it was left to skip.
fn next_after(keep_alive: bool, body_finished: bool, discard_after: Option<usize>) -> Next {
    match (keep_alive, body_finished) {
        (true, _) => Next::KeepGoing,
        (false, true) if discard_after.is_none() => Next::Close,
        (false, true) => Next::CloseAfterDraining,
        (false, false) => Next::CloseAfterDraining,
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
