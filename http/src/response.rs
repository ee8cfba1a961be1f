//! `Response` and `IntoResponse`: what handlers return.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use simmer_executor::JoinHandle;

use crate::error::{Error, HttpError};
use crate::status::StatusCode;

/// A header name or value: borrowed from a constant or owned.
pub type HeaderText = Cow<'static, str>;

/// An HTTP response.
///
/// Kept small (nine words): it is moved out of every handler's future
/// and dropped once per request, and each field it does not have costs nothing there.
pub struct Response {
    pub(crate) status: StatusCode,
    /// A `Content-Type` given as a constant (nearly every response has one): a plain
    /// text or JSON response then needs no header vector at all. A content type built
    /// at run time is kept in `headers` instead, as any other header.
    pub(crate) content_type: Option<&'static str>,
    /// The other headers, boxed: a response without any carries one null pointer
    /// instead of an empty vector (three words to move, a capacity to check on drop).
    pub(crate) headers: Option<Box<Headers>>,
    pub(crate) body: Body,
    /// An error the handler returned, turned into a response by the router.
    pub(crate) error: Option<Error>,
}

/// Header lines as (name, value), in the order they were set.
pub(crate) type Headers = Vec<(HeaderText, HeaderText)>;

/// A response body.
pub enum Body {
    /// No body (Content-Length: 0).
    Empty,
    /// Constant bytes.
    Static(&'static [u8]),
    /// Owned bytes.
    Bytes(Vec<u8>),
    /// Produced over time: sent chunked on HTTP/1.1, close-delimited on HTTP/1.0.
    Stream(BodyStream),
}

impl Body {
    /// The length, when it is known in advance.
    pub fn len(&self) -> Option<usize> {
        match self {
            Body::Empty => Some(0),
            Body::Static(b) => Some(b.len()),
            Body::Bytes(b) => Some(b.len()),
            Body::Stream(_) => None,
        }
    }

    /// True for a body known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The bytes of a fixed body (`None` for a stream).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Empty => Some(&[]),
            Body::Static(b) => Some(b),
            Body::Bytes(b) => Some(b),
            Body::Stream(_) => None,
        }
    }
}

/// Statics rather than constants, so each has one address: the writer recognises them
/// by it and writes their header lines from constant bytes.
pub(crate) static TEXT: &str = "text/plain; charset=utf-8";
pub(crate) static JSON: &str = "application/json";

/// The header name the `content_type` field stands for.
const CONTENT_TYPE: &str = "content-type";

impl Response {
    /// Lets go of a response that has been written. A body buffer goes back to the
    /// thread's spares (see `body_buffers`). What owns nothing else on the heap (no
    /// header vector, no error) is let go without a call into the drop code of every
    /// field (43 instructions of a pipelined request, callgrind).
    #[inline]
    pub(crate) fn discard(self) {
        // Every field named, so that a new one cannot be forgotten here.
        let Response {
            status: _,
            content_type: _,
            headers,
            body,
            error,
        } = &self;
        if headers.is_some() || error.is_some() || matches!(body, Body::Stream(_)) {
            return; // dropped as usual
        }
        // Nothing left in it owns anything but the body's buffer, if any: forgotten
        // once the buffer is taken out.
        let mut this = std::mem::ManuallyDrop::new(self);
        match std::mem::replace(&mut this.body, Body::Empty) {
            Body::Bytes(buffer) => crate::body_buffers::give(buffer),
            // `Empty` or `Static`: nothing to drop, so not even a call to the drop
            // code that would find that out (19 instructions, callgrind).
            other => std::mem::forget(other),
        }
    }

    /// An empty response with `status`.
    pub fn new(status: StatusCode) -> Response {
        Response {
            status,
            content_type: None,
            headers: None,
            body: Body::Empty,
            error: None,
        }
    }

    /// 200 with a `text/plain; charset=utf-8` body.
    pub fn text(body: impl Into<Cow<'static, str>>) -> Response {
        let body = match body.into() {
            Cow::Borrowed(s) => Body::Static(s.as_bytes()),
            Cow::Owned(s) => Body::Bytes(s.into_bytes()),
        };
        // Built in one go: each `with_*` step moves the whole response (about 100
        // bytes) once more.
        Response::ok_with(body, TEXT)
    }

    /// 200 with `body` and the content type `content_type`.
    fn ok_with(body: Body, content_type: &'static str) -> Response {
        Response {
            status: StatusCode::OK,
            content_type: Some(content_type),
            headers: None,
            body,
            error: None,
        }
    }

    /// 200 with an `application/octet-stream` body.
    pub fn bytes(body: impl Into<Vec<u8>>) -> Response {
        Response::ok_with(Body::Bytes(body.into()), "application/octet-stream")
    }

    /// 200 with `value` serialized as JSON.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Response {
        // Into a buffer the thread has reused (see `body_buffers`), by serde_json's
        // rules with faster strings (see `json_write`).
        let mut body = crate::body_buffers::take();
        match crate::json_write::write(&mut body, value) {
            Ok(()) => Response::json_bytes(body),
            Err(e) => HttpError::new(500, format!("serializing the response: {e}")).into_response(),
        }
    }

    /// 200 with bytes that already are JSON.
    pub fn json_bytes(body: impl Into<Vec<u8>>) -> Response {
        Response::ok_with(Body::Bytes(body.into()), JSON)
    }

    /// A redirect (`status` should be 301, 302, 303, 307 or 308) to `location`.
    pub fn redirect(status: StatusCode, location: impl Into<HeaderText>) -> Response {
        Response::new(status).with_header("location", location)
    }

    /// A body produced over time (FastAPI's `StreamingResponse`): `produce` runs as its
    /// own task and sends pieces with [`BodySender::send`]; the response ends when it
    /// returns. If the client goes away, `send` fails and the task is stopped.
    pub fn stream<F, Fut>(produce: F) -> Response
    where
        F: FnOnce(BodySender) -> Fut,
        Fut: Future + 'static,
    {
        let channel = Rc::new(RefCell::new(Channel::default()));
        let sender = BodySender {
            channel: Rc::clone(&channel),
        };
        let work = produce(sender);
        let producer_channel = Rc::clone(&channel);
        let producer = simmer_executor::spawn(async move {
            work.await;
            let mut chan = producer_channel.borrow_mut();
            chan.finished = true;
            if let Some(w) = chan.receiver.take() {
                w.wake();
            }
        });
        Response::new(StatusCode::OK)
            .with_body(Body::Stream(BodyStream {
                channel,
                producer: Box::new(producer),
            }))
            .with_content_type("application/octet-stream")
    }

    /// Sets the status.
    pub fn with_status(mut self, status: StatusCode) -> Response {
        self.status = status;
        self
    }

    /// Adds a header (replacing one of the same name).
    pub fn with_header(
        mut self,
        name: impl Into<HeaderText>,
        value: impl Into<HeaderText>,
    ) -> Response {
        self.set_header(name, value);
        self
    }

    /// Sets the `Content-Type`.
    pub fn with_content_type(mut self, content_type: impl Into<HeaderText>) -> Response {
        self.set_header(CONTENT_TYPE, content_type);
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: Body) -> Response {
        self.body = body;
        self
    }

    /// Adds a header (replacing one of the same name, compared case-insensitively).
    pub fn set_header(&mut self, name: impl Into<HeaderText>, value: impl Into<HeaderText>) {
        self.set_header_text(name.into(), value.into());
    }

    /// The body of [`Response::set_header`], compiled once rather than once per pair of
    /// argument types.
    fn set_header_text(&mut self, mut name: HeaderText, value: HeaderText) {
        if name.eq_ignore_ascii_case(CONTENT_TYPE) {
            self.content_type = None;
            if let Cow::Borrowed(constant) = value {
                self.content_type = Some(constant);
                // It replaces a content type built at run time, if there was one.
                let headers = self.headers.as_deref_mut();
                if let Some(headers) = headers {
                    let at = headers
                        .iter()
                        .position(|(n, _)| n.eq_ignore_ascii_case(CONTENT_TYPE));
                    if let Some(at) = at {
                        headers.remove(at);
                    }
                }
                return;
            }
            name = Cow::Borrowed("Content-Type");
        }
        let headers = self.headers.get_or_insert_with(Box::default);
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => slot.1 = value,
            None => headers.push((name, value)),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The header called `name`, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The headers set so far (Date, Content-Length and Connection are added when sent).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let content_type = self.content_type.map(|v| (CONTENT_TYPE, v));
        let others = self.headers.iter().flat_map(|headers| headers.iter());
        content_type
            .into_iter()
            .chain(others.map(|(n, v)| (&**n, &**v)))
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The error this response stands for, if a handler returned one.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// Anything a handler can return.
pub trait IntoResponse {
    /// Converts into a response.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        Response::bytes(self)
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        Response::new(StatusCode::OK)
            .with_body(Body::Static(self))
            .with_content_type("application/octet-stream")
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(StatusCode::NO_CONTENT)
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        Response::text(self.reason()).with_status(self)
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        self.1.into_response().with_status(self.0)
    }
}

impl IntoResponse for Error {
    /// A 500 carrying the error; the router replaces it with the response of the
    /// handler registered for the error's type, if any.
    fn into_response(self) -> Response {
        let mut response = match self.downcast_ref::<HttpError>() {
            Some(http) => http.clone().into_response(),
            None => Response::new(StatusCode::INTERNAL_SERVER_ERROR),
        };
        response.error = Some(self);
        response
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(t) => t.into_response(),
            Err(e) => e.into_response(),
        }
    }
}

/// A JSON response body: `Json(value)` (FastAPI returns dicts; this is the same).
#[cfg(feature = "json")]
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

#[cfg(feature = "json")]
impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        Response::json(&self.0)
    }
}

/// The one-slot channel between a streaming producer and the connection.
#[derive(Default)]
struct Channel {
    piece: Option<Vec<u8>>,
    finished: bool,
    receiver_gone: bool,
    sender: Option<Waker>,
    receiver: Option<Waker>,
}

/// The producer's end of a streaming body.
pub struct BodySender {
    channel: Rc<RefCell<Channel>>,
}

/// The client went away: the rest of a streamed body has nowhere to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamClosed;

impl fmt::Display for StreamClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the client closed the connection")
    }
}

impl std::error::Error for StreamClosed {}

impl BodySender {
    /// Sends the next piece; waits until the previous one was taken by the connection.
    pub async fn send(&self, piece: impl Into<Vec<u8>>) -> Result<(), StreamClosed> {
        let mut piece = Some(piece.into());
        poll_fn(|cx| {
            let mut chan = self.channel.borrow_mut();
            if chan.receiver_gone {
                return Poll::Ready(Err(StreamClosed));
            }
            if chan.piece.is_some() {
                chan.sender = Some(cx.waker().clone());
                return Poll::Pending;
            }
            chan.piece = piece.take();
            if let Some(w) = chan.receiver.take() {
                w.wake();
            }
            Poll::Ready(Ok(()))
        })
        .await
    }
}

/// The connection's end of a streaming body.
pub struct BodyStream {
    channel: Rc<RefCell<Channel>>,
    /// Boxed, so a stream is two pointers and `Body` no larger than its `Vec` variant:
    /// every response, streamed or not, is moved and dropped at that size.
    producer: Box<JoinHandle<()>>,
}

impl BodyStream {
    /// The next piece, or `None` once the producer has finished.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
        let mut chan = self.channel.borrow_mut();
        if let Some(piece) = chan.piece.take() {
            if let Some(w) = chan.sender.take() {
                w.wake();
            }
            return Poll::Ready(Some(piece));
        }
        if chan.finished {
            return Poll::Ready(None);
        }
        chan.receiver = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Waits for the next piece.
    pub async fn next(&mut self) -> Option<Vec<u8>> {
        poll_fn(|cx| self.poll_next(cx)).await
    }
}

impl Drop for BodyStream {
    fn drop(&mut self) {
        let mut chan = self.channel.borrow_mut();
        chan.receiver_gone = true;
        if let Some(w) = chan.sender.take() {
            w.wake();
        }
        self.producer.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discard_drops_what_a_response_owns() {
        /// An error that counts its drops.
        #[derive(Debug)]
        struct Counted(Rc<std::cell::Cell<u32>>);
        impl std::fmt::Display for Counted {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("counted")
            }
        }
        impl std::error::Error for Counted {}
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let drops = Rc::new(std::cell::Cell::new(0));
        Error::from(Counted(Rc::clone(&drops)))
            .into_response()
            .discard();
        assert_eq!(drops.get(), 1, "a response with an error drops it");
        Response::text("constant").discard();
        Response::new(StatusCode(204)).discard();
    }

    fn content_types(response: &Response) -> Vec<(&str, &str)> {
        let all = response.headers();
        all.filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .collect()
    }

    #[test]
    fn one_content_type_whichever_way_it_was_set() {
        let constant = Response::text("a").with_content_type("text/html");
        assert_eq!(content_types(&constant), [("content-type", "text/html")]);
        assert!(
            constant.headers.is_none(),
            "a constant needs no header vector"
        );

        let built = Response::text("a")
            .with_header("x-first", "1")
            .with_content_type(String::from("text/csv"));
        assert_eq!(content_types(&built), [("Content-Type", "text/csv")]);
        let names: Vec<&str> = built.headers().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["x-first", "Content-Type"],
            "in the order they were set"
        );

        let back = built.with_header("Content-Type", "application/json");
        assert_eq!(content_types(&back), [("content-type", "application/json")]);
        assert_eq!(back.header("CONTENT-TYPE"), Some("application/json"));
        assert_eq!(back.header("x-first"), Some("1"));
    }

    #[test]
    fn a_response_stays_small() {
        let words = std::mem::size_of::<Response>() / std::mem::size_of::<usize>();
        assert!(words <= 9, "a response is {words} words");
    }
}
