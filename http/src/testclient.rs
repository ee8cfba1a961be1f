//! `TestClient`: requests through the whole application in-process, without a socket
//! (FastAPI's `TestClient`, axum's `oneshot`).
//!
//! ```
//! # #[cfg(feature = "json")] {
//! use simmer_http::extract::Path;
//! use simmer_http::{Router, TestClient};
//!
//! let router = Router::new().get("/items/{id}", |Path(id): Path<i64>| async move {
//!     format!("item {id}")
//! });
//! let client = TestClient::new(router);
//! assert_eq!(client.get("/items/7").send().text(), "item 7");
//! assert_eq!(client.get("/items/seven").send().status(), 422);
//! assert_eq!(client.get("/nowhere").send().text(), r#"{"detail":"Not Found"}"#);
//! # }
//! ```
//!
//! What a request goes through is what the server does with the same bytes: the head
//! is written out as HTTP/1.1 and read back by the server's parser and checks (a bad
//! header is the server's 400), the body limit is the server's, and the app's own entry
//! point runs middleware, routing, extractors, the handler and the error answers
//! (404, 405, 422 in the router's style). The response is serialized as the connection
//! would write it and read back, so its headers are the ones a client would see
//! (`Content-Length`, `Content-Type`, `Server`, `Date`). Only the socket is missing:
//! no peer address, and nothing about keep-alive or pipelining is tested here.
//!
//! The client owns a simmer loop of its own; `send` runs it until the response is
//! made, then runs the request's background tasks to their end before returning (as
//! Starlette's `TestClient` does). Tasks the handlers spawned stay on that loop and go
//! on at the next `send`. Call it from plain test code, not from inside a runtime.

use std::fmt;
use std::rc::Rc;

use simmer_executor::{Config, Executor};
use simmer_reactor::Reactor;

use crate::body::{BodyReader, MemoryRequest};
use crate::config::ServerConfig;
use crate::error::HttpError;
use crate::handler::CatchPanic;
use crate::method::{Method, Version};
use crate::parse::{parse_head, Framing, Parsed};
use crate::request::{Request, RequestHead};
use crate::response::{Body, Response};
use crate::router::{App, Router};
use crate::write::{write_response, Sent};

/// An in-process client for a [`Router`]: `client.get("/items/1").send()`.
pub struct TestClient {
    app: Rc<App>,
    config: ServerConfig,
    // Field order matters: the executor's tasks are dropped before the reactor they
    // are registered with.
    executor: Executor,
    reactor: Reactor,
}

impl TestClient {
    /// A client for `router`, with the server's default limits.
    ///
    /// # Panics
    /// If the router cannot serve ([`Router::check`]: a handler reads state it was
    /// never given), or the loop cannot be made (out of file descriptors).
    pub fn new(router: Router) -> TestClient {
        TestClient::with_config(router, ServerConfig::default())
            .unwrap_or_else(|e| panic!("TestClient: {e}"))
    }

    /// A client for `router` with the limits of `config` (head and body sizes).
    pub fn with_config(router: Router, config: ServerConfig) -> std::io::Result<TestClient> {
        config.validate()?;
        let app = router.into_app()?;
        let reactor = Reactor::new()?;
        let loop_config = Config {
            trace_path: None,
            ..Config::default()
        };
        let executor = Executor::new(Box::new(reactor.park()), loop_config);
        Ok(TestClient {
            app,
            config,
            executor,
            reactor,
        })
    }

    /// A request with any method.
    pub fn request(&self, method: Method, target: &str) -> TestRequest<'_> {
        TestRequest {
            client: self,
            method,
            target: target.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `GET` request for `target` (path and query: `/items?limit=2`).
    pub fn get(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Get, target)
    }

    /// A `HEAD` request.
    pub fn head(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Head, target)
    }

    /// A `POST` request.
    pub fn post(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Post, target)
    }

    /// A `PUT` request.
    pub fn put(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Put, target)
    }

    /// A `PATCH` request.
    pub fn patch(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Patch, target)
    }

    /// A `DELETE` request.
    pub fn delete(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Delete, target)
    }

    /// Runs `future` on the client's loop (to prepare state, or to look at it).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        let _entered = self.reactor.handle().enter();
        self.executor.block_on(future)
    }

    /// Answers one request, as the server's connection would.
    async fn exchange(&self, request: TestRequest<'_>) -> TestResponse {
        let head_request = request.method == Method::Head;
        let head_bytes = request.head_bytes();
        let memory = Rc::new(MemoryRequest::default());
        let response = match self.read_head(&head_bytes) {
            Ok((head, framing)) => {
                memory.body.set(Some(request.body));
                let line = head.to_string();
                let response = self.answer(head, framing, Rc::clone(&memory)).await;
                let response = TestResponse::written(response, head_request).await;
                if let Some(tasks) = memory.background.take() {
                    tasks.run_now(&line).await;
                }
                response
            }
            Err(error) => TestResponse::written(self.app.error_response(error), false).await,
        };
        response
    }

    /// Parses and checks the head as the server does.
    fn read_head(&self, bytes: &[u8]) -> Result<(RequestHead, Framing), HttpError> {
        let mut head = RequestHead::empty();
        match parse_head(bytes, &self.config.head_limits(), &mut head.parsed) {
            Parsed::Complete(parsed) => {
                let (len, framing) = (parsed.len, parsed.framing);
                head.keep_bytes(&bytes[..len]);
                Ok((head, framing))
            }
            Parsed::Invalid(error) => Err(error),
            Parsed::Partial => Err(HttpError::bad_request("incomplete request head")),
        }
    }

    /// Runs the request through the app, catching a panic as the connection does.
    async fn answer(
        &self,
        head: RequestHead,
        framing: Framing,
        memory: Rc<MemoryRequest>,
    ) -> Response {
        let limit = self.config.max_body_bytes;
        if let Framing::Length(n) = framing {
            if n > limit as u64 {
                return self.app.error_response(crate::body::too_large(limit));
            }
        }
        let line = head.to_string();
        let body = BodyReader::in_memory(memory, limit);
        let req = Request::new(Rc::new(head), body, Rc::clone(&self.app.state));
        match CatchPanic(Box::pin(self.app.handle(req))).await {
            Ok(response) => response,
            Err(message) => {
                simmer_executor::log_error!(
                    "simmer_http",
                    "simmer-http: handler for {line} panicked: {message}"
                );
                self.app
                    .error_response(HttpError::new(500, "Internal Server Error"))
            }
        }
    }
}

impl fmt::Debug for TestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClient").finish_non_exhaustive()
    }
}

/// A request being built: headers and a body, then [`TestRequest::send`].
#[derive(Debug)]
pub struct TestRequest<'c> {
    client: &'c TestClient,
    method: Method,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl TestRequest<'_> {
    /// Adds a header (`Host` is `testserver` unless set; `Content-Length` is the body's
    /// unless set).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` as JSON, with `Content-Type: application/json`.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("a value that serializes as JSON");
        self.header("content-type", "application/json").body(body)
    }

    /// Sets the body to `pairs` as an HTML form (`application/x-www-form-urlencoded`).
    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let mut body = String::new();
        for (i, (name, value)) in pairs.iter().enumerate() {
            if i > 0 {
                body.push('&');
            }
            form_encode(&mut body, name);
            body.push('=');
            form_encode(&mut body, value);
        }
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }

    /// Sends it through the app and returns the response as a client would read it.
    pub fn send(self) -> TestResponse {
        let client = self.client;
        client.block_on(client.exchange(self))
    }

    /// The head as a client would send it.
    fn head_bytes(&self) -> Vec<u8> {
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        if !has("host") {
            head.push_str("host: testserver\r\n");
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let framed = has("content-length") || has("transfer-encoding");
        if !framed && (!self.body.is_empty() || self.method == Method::Post) {
            head.push_str(&format!("content-length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        head.into_bytes()
    }
}

/// Appends `text` form-encoded: unreserved bytes as they are, space as `+`, the rest
/// as `%XX`.
fn form_encode(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

/// A response as a client reads it: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl TestResponse {
    /// Serializes `response` as the connection writes it and reads it back; a streamed
    /// body is collected to its end.
    async fn written(mut response: Response, head_request: bool) -> TestResponse {
        let how = crate::write::Framing {
            version: Version::Http11,
            keep_alive: true,
            head_request,
        };
        let mut out = Vec::new();
        let sent = write_response(&mut out, &response, how);
        let mut parsed = TestResponse::parse(&out);
        if sent != Sent::Complete {
            if let Body::Stream(stream) = &mut response.body {
                while let Some(piece) = stream.next().await {
                    parsed.body.extend_from_slice(&piece);
                }
            }
        }
        parsed
    }

    /// Reads back the bytes `write_response` wrote: always a complete response head.
    fn parse(bytes: &[u8]) -> TestResponse {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut head = httparse::Response::new(&mut headers);
        let len = match head.parse(bytes) {
            Ok(httparse::Status::Complete(len)) => len,
            other => unreachable!("the server wrote a response head httparse reads: {other:?}"),
        };
        TestResponse {
            status: head.code.unwrap_or(0),
            headers: head
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect(),
            body: bytes[len..].to_vec(),
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header, in order, as the server wrote them.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The body.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced by `�`).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// If it is not JSON of type `T` (the message shows the body).
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not the JSON expected ({e}): {}",
                self.text()
            )
        })
    }
}
