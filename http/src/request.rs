//! `Request`: what a handler receives — method, path, parameters, headers, body, state.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::str::FromStr;

use crate::body::BodyReader;
use crate::error::{HttpError, ValidationError};
use crate::method::{Method, Version};
use crate::parse::{ParsedHead, Span};
use crate::percent;
use crate::type_map::TypeMap;

/// Application state registered on the router, by type (FastAPI's dependencies,
/// axum's `State`).
pub(crate) type StateMap = TypeMap<Rc<dyn Any>>;

/// The parsed head of a request: its bytes and where things are in them (up to 16
/// header positions in place). Shared, so that logging a failed request needs no copy.
///
/// Each connection reuses one: once a request is answered and its `Request` dropped,
/// the connection holds the only reference again and refills it for the next request
/// (its byte vector keeps its capacity). So a request costs no allocation for its head;
/// making and freeing these two allocations was about 9% of a pipelined request's
/// instructions (callgrind, benches/instructions.sh).
pub(crate) struct RequestHead {
    /// The head's bytes.
    bytes: Vec<u8>,
    /// The parser's positions in `bytes`: the request line's parts, the headers.
    pub(crate) parsed: ParsedHead,
}

impl RequestHead {
    /// A head to be filled.
    pub(crate) fn empty() -> RequestHead {
        RequestHead {
            bytes: Vec::new(),
            parsed: ParsedHead::new(),
        }
    }

    /// Keeps the bytes of the head the parser has just accepted into `self.parsed`.
    pub(crate) fn keep_bytes(&mut self, bytes: &[u8]) {
        self.bytes.clear();
        self.bytes.extend_from_slice(bytes);
    }

    pub(crate) fn method(&self) -> &Method {
        &self.parsed.method
    }

    pub(crate) fn target(&self) -> &str {
        self.text(self.parsed.target)
    }

    /// The path: in absolute-form, the part after the authority (`/` if none).
    pub(crate) fn path(&self) -> &str {
        match &self.text(self.parsed.origin)[..self.parsed.path_len as usize] {
            "" => "/",
            path => path,
        }
    }

    /// The query after `?`, if any.
    pub(crate) fn query(&self) -> Option<&str> {
        let origin = self.text(self.parsed.origin);
        let rest = &origin[self.parsed.path_len as usize..];
        rest.strip_prefix('?')
    }

    /// Text inside the target.
    fn text(&self, span: Span) -> &str {
        let bytes = span.get(&self.bytes);
        // SAFETY: every span passed here lies inside the target, which the request-line
        // parser accepts only as UTF-8 (and whose spans start and end next to ASCII
        // bytes: its start, `?`, the end of an authority), so it is UTF-8 too; the
        // bytes are never modified.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }
}

impl fmt::Display for RequestHead {
    /// `GET /path?query`, as slow-poll warnings and logs show a request.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.parsed.method, self.target())
    }
}

/// An HTTP request. Handlers take it by value: `async fn handler(req: Request)`.
pub struct Request {
    head: Rc<RequestHead>,
    /// Path parameters from the route pattern, percent-decoded; `None` when there are
    /// none, so that dropping a request without any needs no call into `Vec`'s drop.
    params: Option<Vec<(Rc<str>, String)>>,
    body: BodyReader,
    state: Rc<StateMap>,
}

impl Request {
    pub(crate) fn new(head: Rc<RequestHead>, body: BodyReader, state: Rc<StateMap>) -> Request {
        Request {
            head,
            params: None,
            body,
            state,
        }
    }

    /// The shared head, for log lines about this request.
    pub(crate) fn shared_head(&self) -> Rc<RequestHead> {
        Rc::clone(&self.head)
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.head.parsed.method
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.head.parsed.version
    }

    /// The request target as sent, still percent-encoded: path and query, or the whole
    /// URI for an absolute-form target (`http://host/path?q`).
    pub fn target(&self) -> &str {
        self.head.target()
    }

    /// The path, still percent-encoded (`/items/a%20b`); for an absolute-form target,
    /// the path part of the URI. `*` (OPTIONS) and `host:port` (CONNECT) are their own
    /// paths, and match no route.
    pub fn path(&self) -> &str {
        self.head.path()
    }

    /// The raw query string after `?`, if any.
    pub fn query_string(&self) -> Option<&str> {
        self.head.query()
    }

    /// The first query parameter called `name`, percent-decoded (`?q=a+b` → `"a b"`).
    pub fn query(&self, name: &str) -> Option<String> {
        percent::query_pairs(self.query_string()?)
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The query parameter `name` parsed as `T`; a value that does not parse is a 422
    /// naming the parameter, as FastAPI's validation errors do.
    pub fn query_as<T: FromStr>(&self, name: &str) -> Result<Option<T>, HttpError>
    where
        T::Err: fmt::Display,
    {
        self.query(name)
            .map(|v| parse_value("query", name, &v))
            .transpose()
    }

    /// All query parameters, percent-decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query_string()
            .map(|q| {
                percent::query_pairs(q)
                    .map(|(n, v)| (n.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The path parameter `name` from the route pattern (`/items/{id}`), decoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .flatten()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path parameter `name` parsed as `T` (a 422 if it does not parse).
    pub fn param_as<T: FromStr>(&self, name: &str) -> Result<T, HttpError>
    where
        T::Err: fmt::Display,
    {
        let value = self
            .param(name)
            .ok_or_else(|| HttpError::new(500, format!("route has no parameter {name:?}")))?;
        parse_value("path", name, value)
    }

    /// The first header called `name` (case-insensitive), if it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The first header called `name` (case-insensitive), as bytes.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header, in order, as (name, value bytes).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let bytes = &self.head.bytes[..];
        self.head
            .parsed
            .as_slice()
            .iter()
            .map(move |(name, value)| {
                // The field parser accepts only token characters in names.
                (
                    std::str::from_utf8(name.get(bytes)).unwrap_or(""),
                    value.get(bytes),
                )
            })
    }

    /// The client's address.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.body.peer_addr()
    }

    /// The connection the request came on (a WebSocket route takes it over).
    #[cfg(feature = "ws")]
    pub(crate) fn connection(&self) -> Option<&Rc<crate::conn_io::ConnIo>> {
        self.body.connection()
    }

    /// The request's background tasks: work to run after the response is written
    /// (FastAPI's `BackgroundTasks`; also an extractor).
    pub fn background(&self) -> crate::BackgroundTasks {
        crate::BackgroundTasks::of(self)
    }

    /// Where this request's background tasks wait for its response.
    pub(crate) fn background_slot(&self) -> Option<&crate::background::BackgroundSlot> {
        self.body.background_slot()
    }

    /// State of type `T` registered with [`crate::Router::state`].
    pub fn state<T: 'static>(&self) -> Option<&T> {
        self.state.get(&TypeId::of::<T>())?.downcast_ref()
    }

    /// State of type `T` as a shared handle (for the `State` extractor).
    pub(crate) fn shared_state<T: 'static>(&self) -> Option<Rc<T>> {
        Rc::clone(self.state.get(&TypeId::of::<T>())?)
            .downcast()
            .ok()
    }

    /// Every path parameter, in the order of the route pattern, as (name, decoded value).
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params
            .iter()
            .flatten()
            .map(|(n, v)| (&**n, v.as_str()))
    }

    /// The whole body (413 if it is over the server's limit).
    pub async fn body(&mut self) -> Result<Vec<u8>, HttpError> {
        self.body.collect().await
    }

    /// The whole body as UTF-8 text (400 if it is not UTF-8).
    pub async fn text(&mut self) -> Result<String, HttpError> {
        String::from_utf8(self.body().await?)
            .map_err(|e| HttpError::bad_request(format!("request body is not UTF-8: {e}")))
    }

    /// The next piece of the body as it arrives, or `None` at its end (streaming).
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
        self.body.chunk().await
    }

    /// The body parsed as JSON. Invalid JSON, or JSON of the wrong shape, is a 422 whose
    /// message says what was wrong and where, as FastAPI does.
    #[cfg(feature = "json")]
    pub async fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, HttpError> {
        let body = self.body().await?;
        serde_json::from_slice(&body)
            .map_err(|e| HttpError::new(422, format!("invalid JSON body: {e}")))
    }

    /// The route's parameters (most routes have none).
    pub(crate) fn set_params(&mut self, params: Vec<(Rc<str>, String)>) {
        if params.capacity() == 0 {
            // Nothing to free, so nothing is lost by skipping the drop (a call).
            std::mem::forget(params);
        } else {
            self.params = Some(params);
        }
    }
}

/// Parses a path or query value; failure is a 422 shaped as FastAPI's, `loc` naming
/// the place (`"path"`, `"query"`) and the parameter.
fn parse_value<T: FromStr>(place: &'static str, name: &str, value: &str) -> Result<T, HttpError>
where
    T::Err: fmt::Display,
{
    value.parse().map_err(|e| {
        let error = ValidationError::parsing(place, name, &short_type_name::<T>(), &e)
            .with_text_input(value);
        HttpError::validation(vec![error])
    })
}

/// `i64` rather than `core::primitive::i64`.
fn short_type_name<T>() -> Cow<'static, str> {
    let full = std::any::type_name::<T>();
    Cow::Borrowed(full.rsplit("::").next().unwrap_or(full))
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", self.method())
            .field("target", &self.target())
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}
