//! Server limits and timeouts, with the defaults users of uvicorn and nginx expect.

use std::io;
use std::time::Duration;

use crate::parse::HeadLimits;

/// Limits and timeouts for a [`crate::Server`]. Start from `ServerConfig::default()`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Longest request line (method, target, version); over it: 414. Default 8 KiB.
    pub max_request_line: usize,
    /// Largest header section; over it: 431. Default 16 KiB, at most 64 KiB.
    pub max_header_bytes: usize,
    /// Most header fields; over it: 431. Default 100.
    pub max_headers: usize,
    /// Largest request body; a declared length over it is answered 413 without reading
    /// the body, a chunked body is cut off at it. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Time allowed for a request's head, from its first byte (and for a new
    /// connection's first request, from the accept); then 408 and close. Default 10 s.
    pub header_read_timeout: Duration,
    /// How long an idle keep-alive connection is kept (uvicorn's default). Default 5 s.
    pub keep_alive_timeout: Duration,
    /// Longest wait for each piece of a request body; then 408. Default 30 s.
    pub body_read_timeout: Duration,
    /// Longest wait for the client to take response bytes; then close. Default 30 s.
    pub write_timeout: Duration,
    /// Connections served at once (by each worker: its share of it). Further clients
    /// wait in the listen backlog (they are accepted as others close) rather than
    /// getting a 503. Default: the open-file limit (raised to its hard limit first)
    /// less 64 descriptors for everything else; 10,000 if the limit is unknown.
    pub max_connections: usize,
    /// On shutdown, how long in-flight requests may take to finish. Default 10 s.
    pub shutdown_deadline: Duration,
    /// On shutdown, how long to go on accepting and serving first, with
    /// [`crate::health::handler`] answering 503, so a load balancer's health checks see
    /// the drain and stop sending before the listener closes. Default 0 (close at once).
    pub drain_grace: Duration,
    /// Serve HTTPS with this certificate chain and key ([`crate::Server::bind_tls`]
    /// sets it); `None` (the default) serves plain HTTP.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::ServerTls>,
    /// Time a new TLS connection has to finish its handshake; then it is closed.
    /// Default 10 s.
    #[cfg(feature = "tls")]
    pub tls_handshake_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_request_line: 8 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            max_body_bytes: 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(5),
            body_read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: crate::fd_limit::default_max_connections(),
            shutdown_deadline: Duration::from_secs(10),
            drain_grace: Duration::ZERO,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

impl ServerConfig {
    /// Checks that every setting makes sense, naming the one that does not.
    pub fn validate(&self) -> io::Result<()> {
        let bad = |what: &str| {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                what.to_string(),
            ))
        };
        if self.max_request_line < 16 {
            return bad("max_request_line must be at least 16 bytes");
        }
        if self.max_header_bytes < self.max_request_line {
            return bad("max_header_bytes must be at least max_request_line");
        }
        if self.max_header_bytes > 64 * 1024 - 1 {
            return bad("max_header_bytes must be below 64 KiB");
        }
        if self.max_headers == 0 {
            return bad("max_headers must be at least 1 (HTTP/1.1 requires Host)");
        }
        if self.max_connections == 0 {
            return bad("max_connections must be at least 1");
        }
        for (name, d) in [
            ("header_read_timeout", self.header_read_timeout),
            ("keep_alive_timeout", self.keep_alive_timeout),
            ("body_read_timeout", self.body_read_timeout),
            ("write_timeout", self.write_timeout),
            #[cfg(feature = "tls")]
            ("tls_handshake_timeout", self.tls_handshake_timeout),
        ] {
            if d.is_zero() {
                return bad(&format!("{name} must be above zero"));
            }
        }
        Ok(())
    }

    pub(crate) fn head_limits(&self) -> HeadLimits {
        HeadLimits {
            max_request_line: self.max_request_line,
            max_header_bytes: self.max_header_bytes,
            max_headers: self.max_headers,
        }
    }
}
