//! `Client`: outbound HTTP/1.1 on the reactor (httpx's `AsyncClient`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), simmer_http::client::ClientError> {
//! let client = simmer_http::client::Client::new();
//! let reply = client.get("http://127.0.0.1:8000/items/1").query(&[("q", "tea")]).send().await?;
//! println!("{} {}", reply.status(), reply.text().await?);
//! # Ok(()) }
//! ```
//!
//! Connections are kept per host and port and reused (keep-alive). A pooled connection
//! the server has closed is noticed before reuse, and an idempotent request that fails
//! on a reused connection before any reply is retried once on a new one. Names are
//! resolved on the offload pool (the system resolver blocks); IP literals are not.
//!
//! `https://` (feature `tls`) runs rustls inside the request's task (see
//! [`crate::tls`]): the host name goes out as SNI and is checked against the
//! certificate, ALPN offers `http/1.1`, and the handshake must finish within the
//! connect timeout. The roots trusted are the system's (or `SSL_CERT_FILE`), or those
//! given to [`ClientBuilder::tls_roots_pem`]. A pooled TLS connection is reused as is:
//! no new handshake.

mod error;
mod pool;
pub(crate) mod response;
#[cfg(feature = "tls")]
mod tls_error;
mod url;
#[cfg(feature = "ws")]
mod websocket;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use simmer_reactor::net::{lookup_host, TcpStream};
use simmer_reactor::time::timeout;

use crate::conn_io::ConnIo;
use crate::method::Method;

pub use error::ClientError;
pub use response::ClientResponse;
#[cfg(feature = "tls")]
pub use tls_error::TlsError;

use pool::Pool;
use url::Url;

/// Client settings (see [`ClientBuilder`] for the defaults).
#[derive(Debug, Clone)]
struct Config {
    connect_timeout: Duration,
    timeout: Option<Duration>,
    max_idle_per_host: usize,
    idle_timeout: Duration,
    max_redirects: Option<usize>,
    max_body_bytes: usize,
    /// Roots given to the builder; `None`: the system's, loaded on first use.
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::ClientTls>,
}

/// An HTTP/1.1 client with a keep-alive pool. Cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
}

struct Inner {
    config: Config,
    pool: RefCell<Pool>,
}

/// Settings for a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    config: Config,
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            config: Config {
                connect_timeout: Duration::from_secs(10),
                timeout: Some(Duration::from_secs(30)),
                max_idle_per_host: 16,
                idle_timeout: Duration::from_secs(30),
                max_redirects: None,
                max_body_bytes: 16 * 1024 * 1024,
                #[cfg(feature = "tls")]
                tls: None,
            },
        }
    }
}

impl ClientBuilder {
    /// Give up connecting after this long (default 10 s).
    pub fn connect_timeout(mut self, limit: Duration) -> ClientBuilder {
        self.config.connect_timeout = limit;
        self
    }

    /// Give up on a whole request — connect, send, the response and its body — after
    /// this long (default 30 s; `None`: no limit).
    pub fn timeout(mut self, limit: Option<Duration>) -> ClientBuilder {
        self.config.timeout = limit;
        self
    }

    /// Idle connections kept per host and port (default 16; 0 turns keep-alive off).
    pub fn max_idle_per_host(mut self, n: usize) -> ClientBuilder {
        self.config.max_idle_per_host = n;
        self
    }

    /// Drop pooled connections idle for longer than this (default 30 s).
    pub fn idle_timeout(mut self, limit: Duration) -> ClientBuilder {
        self.config.idle_timeout = limit;
        self
    }

    /// Follow up to `n` redirects (default: redirects are returned, not followed).
    pub fn follow_redirects(mut self, n: usize) -> ClientBuilder {
        self.config.max_redirects = Some(n);
        self
    }

    /// Largest response body accepted (default 16 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> ClientBuilder {
        self.config.max_body_bytes = limit;
        self
    }

    /// Trusts only the certificate authorities in `pem` for `https://` (instead of the
    /// system's store); for a private CA or a test certificate.
    #[cfg(feature = "tls")]
    pub fn tls_roots_pem(mut self, pem: &[u8]) -> std::io::Result<ClientBuilder> {
        self.config.tls = Some(crate::tls::ClientTls::from_roots_pem(pem)?);
        Ok(self)
    }

    /// Uses these TLS settings for `https://`.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::ClientTls) -> ClientBuilder {
        self.config.tls = Some(tls);
        self
    }

    /// The client.
    pub fn build(self) -> Client {
        Client {
            inner: Rc::new(Inner {
                config: self.config,
                pool: RefCell::new(Pool::default()),
            }),
        }
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// A client with default settings.
    pub fn new() -> Client {
        ClientBuilder::default().build()
    }

    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A `GET` request.
    pub fn get(&self, url: &str) -> RequestBuilder {
        self.request(Method::Get, url)
    }

    /// A `POST` request.
    pub fn post(&self, url: &str) -> RequestBuilder {
        self.request(Method::Post, url)
    }

    /// A `PUT` request.
    pub fn put(&self, url: &str) -> RequestBuilder {
        self.request(Method::Put, url)
    }

    /// A `DELETE` request.
    pub fn delete(&self, url: &str) -> RequestBuilder {
        self.request(Method::Delete, url)
    }

    /// A `HEAD` request (the response has no body).
    pub fn head(&self, url: &str) -> RequestBuilder {
        self.request(Method::Head, url)
    }

    /// A request with any method.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            method,
            url: url.to_string(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Idle connections in the pool now (for tests and diagnostics).
    pub fn idle_connections(&self) -> usize {
        self.inner.pool.borrow().len()
    }
}

/// A request being built: add headers, query parameters and a body, then `send`.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    client: Client,
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RequestBuilder {
    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> RequestBuilder {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds query parameters (percent-encoded for you).
    pub fn query(mut self, pairs: &[(&str, &str)]) -> RequestBuilder {
        self.query
            .extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// Sets the body bytes.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> RequestBuilder {
        self.body = body.into();
        self
    }

    /// Sets a text body (`Content-Type: text/plain; charset=utf-8`).
    pub fn text(self, body: impl Into<String>) -> RequestBuilder {
        self.body(body.into().into_bytes())
            .header("Content-Type", "text/plain; charset=utf-8")
    }

    /// Sets a JSON body (`Content-Type: application/json`).
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> RequestBuilder {
        let body = serde_json::to_vec(value).unwrap_or_default();
        self.body(body).header("Content-Type", "application/json")
    }

    /// Sends the request and waits for the response head; the body is read from the
    /// returned [`ClientResponse`].
    pub async fn send(self) -> Result<ClientResponse, ClientError> {
        let deadline = self.client.inner.config.timeout.map(|t| Instant::now() + t);
        let work = self.run(deadline);
        match self_timeout(deadline) {
            Some(limit) => timeout(limit, work).await.unwrap_or_else(|_| {
                Err(ClientError::Timeout(format!(
                    "no response within {limit:?}"
                )))
            }),
            None => work.await,
        }
    }

    async fn run(mut self, deadline: Option<Instant>) -> Result<ClientResponse, ClientError> {
        let mut url = Url::parse(&self.url)?;
        append_query(&mut url.target, &self.query);
        let mut redirects = 0;
        loop {
            let response = self.exchange(&url, deadline).await?;
            let follow = self.client.inner.config.max_redirects;
            let location = response.redirect_location();
            let (Some(max), Some(location)) = (follow, location) else {
                return Ok(response);
            };
            if redirects == max {
                return Err(ClientError::TooManyRedirects(max));
            }
            redirects += 1;
            let status = response.status().0;
            drop(response.bytes().await); // finish the body so the connection is reused
            url = url.join(&location)?;
            if status == 303 || (matches!(status, 301 | 302) && self.method == Method::Post) {
                self.method = Method::Get;
                self.body.clear();
                self.headers
                    .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
            }
        }
    }

    /// One request and its response head, on a pooled connection if there is one.
    async fn exchange(
        &self,
        url: &Url,
        deadline: Option<Instant>,
    ) -> Result<ClientResponse, ClientError> {
        let inner = &self.client.inner;
        let request = self.encode(url);
        let pooled =
            inner
                .pool
                .borrow_mut()
                .take(&url.host, url.port, url.tls, inner.config.idle_timeout);
        if let Some(io) = pooled {
            match response::exchange(io, &request, &self.method, &self.client, url, deadline).await
            {
                Err(response::Failure::BeforeReply(_)) if is_idempotent(&self.method) => {
                    // The server closed the pooled connection as we used it: once more,
                    // on a new connection.
                }
                Err(failure) => return Err(failure.into_error()),
                Ok(response) => return Ok(response),
            }
        }
        let io = self.connect(url).await?;
        response::exchange(io, &request, &self.method, &self.client, url, deadline)
            .await
            .map_err(response::Failure::into_error)
    }

    async fn connect(&self, url: &Url) -> Result<ConnIo, ClientError> {
        let config = &self.client.inner.config;
        let host_port = if url.host.contains(':') {
            format!("[{}]:{}", url.host, url.port)
        } else {
            format!("{}:{}", url.host, url.port)
        };
        let addrs = lookup_host(&host_port)
            .await
            .map_err(ClientError::Resolve)?;
        let mut last = None;
        for addr in addrs {
            let started = Instant::now();
            match TcpStream::connect_timeout(addr, config.connect_timeout).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    let read_wait = config.timeout.unwrap_or(Duration::from_secs(3600));
                    if !url.tls {
                        return Ok(ConnIo::new(stream, addr, read_wait));
                    }
                    let left = config.connect_timeout.saturating_sub(started.elapsed());
                    let stream = self.tls_handshake(stream, url, left).await?;
                    return Ok(ConnIo::new(stream, addr, read_wait));
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| std::io::Error::other("no address to connect to"));
        Err(if e.kind() == std::io::ErrorKind::TimedOut {
            ClientError::Timeout(e.to_string())
        } else {
            ClientError::Connect(e)
        })
    }

    /// TLS over `stream`, the handshake done within `limit`.
    #[cfg(feature = "tls")]
    async fn tls_handshake(
        &self,
        stream: TcpStream,
        url: &Url,
        limit: Duration,
    ) -> Result<crate::tls::TlsStream, ClientError> {
        let config = &self.client.inner.config;
        let roots = config
            .tls
            .clone()
            .unwrap_or_else(crate::tls::ClientTls::system);
        let fail = |cause| ClientError::Tls {
            host: url.host_header(),
            cause,
        };
        let session = roots
            .session(&url.host)
            .map_err(|e| fail(TlsError::Other(e.to_string())))?;
        let stream = crate::tls::TlsStream::new(stream, session);
        match timeout(limit, stream.handshake()).await {
            Ok(Ok(())) => Ok(stream),
            Ok(Err(e)) => Err(fail(TlsError::from_handshake(&e, &stream.first_bytes()))),
            Err(_) => Err(fail(TlsError::HandshakeTimeout)),
        }
    }

    #[cfg(not(feature = "tls"))]
    async fn tls_handshake(
        &self,
        _stream: TcpStream,
        _url: &Url,
        _limit: Duration,
    ) -> Result<TcpStream, ClientError> {
        Err(ClientError::UnsupportedScheme("https".to_string()))
    }

    /// The request head and body as bytes.
    fn encode(&self, url: &Url) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(url.target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        out.extend_from_slice(url.host_header().as_bytes());
        out.extend_from_slice(b"\r\n");
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !has("user-agent") {
            out.extend_from_slice(b"User-Agent: simmer\r\n");
        }
        for (name, value) in &self.headers {
            let clean = |t: &str| !t.bytes().any(|b| b == b'\r' || b == b'\n');
            if clean(name) && clean(value) {
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
        }
        let sends_body = !self.body.is_empty()
            || matches!(self.method, Method::Post | Method::Put | Method::Patch);
        if sends_body && !has("content-length") {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// Time left before `deadline`.
fn self_timeout(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

/// GET, HEAD, PUT, DELETE, OPTIONS and TRACE may be sent twice (RFC 9110 §9.2.2).
fn is_idempotent(method: &Method) -> bool {
    matches!(
        method,
        Method::Get | Method::Head | Method::Put | Method::Delete | Method::Options | Method::Trace
    )
}

fn append_query(target: &mut String, pairs: &[(String, String)]) {
    for (i, (name, value)) in pairs.iter().enumerate() {
        target.push(if i == 0 && !target.contains('?') {
            '?'
        } else {
            '&'
        });
        target.push_str(&encode_component(name));
        target.push('=');
        target.push_str(&encode_component(value));
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
