//! What can go wrong with an outbound request, each kind its own variant.

use std::fmt;
use std::io;

/// An error from [`super::Client`].
#[derive(Debug)]
pub enum ClientError {
    /// The URL could not be parsed (the message says why).
    InvalidUrl(String),
    /// Only `http://` is supported: simmer's client has no TLS, so `https` fails here.
    UnsupportedScheme(String),
    /// The host name could not be resolved.
    Resolve(io::Error),
    /// No connection could be made (refused, unreachable, reset during connect).
    Connect(io::Error),
    /// The connect timeout or the whole-request timeout passed.
    Timeout(String),
    /// The server's reply is not valid HTTP/1.x.
    MalformedResponse(String),
    /// The response body is larger than the client's limit.
    BodyTooLarge(usize),
    /// More redirects than the client was told to follow.
    TooManyRedirects(usize),
    /// The connection failed while sending or receiving.
    Io(io::Error),
}

impl ClientError {
    /// True for [`ClientError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, ClientError::Timeout(_))
    }

    /// True when no connection could be made ([`ClientError::Connect`]).
    pub fn is_connect(&self) -> bool {
        matches!(self, ClientError::Connect(_))
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::InvalidUrl(why) => write!(f, "invalid URL {why}"),
            ClientError::UnsupportedScheme(scheme) => write!(
                f,
                "{scheme}:// is not supported: simmer's client speaks plain HTTP/1.1 only (no TLS); use http://"
            ),
            ClientError::Resolve(e) => write!(f, "name resolution failed: {e}"),
            ClientError::Connect(e) => write!(f, "could not connect: {e}"),
            ClientError::Timeout(what) => write!(f, "timed out: {what}"),
            ClientError::MalformedResponse(why) => write!(f, "malformed response: {why}"),
            ClientError::BodyTooLarge(limit) => write!(f, "response body larger than the limit of {limit} bytes"),
            ClientError::TooManyRedirects(n) => write!(f, "more than {n} redirects"),
            ClientError::Io(e) => write!(f, "connection error: {e}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Resolve(e) | ClientError::Connect(e) | ClientError::Io(e) => Some(e),
            _ => None,
        }
    }
}
