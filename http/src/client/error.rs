//! What can go wrong with an outbound request, each kind its own variant.

use std::fmt;
use std::io;

/// An error from [`super::Client`].
#[derive(Debug)]
pub enum ClientError {
    /// The URL could not be parsed (the message says why).
    InvalidUrl(String),
    /// The URL's scheme is neither `http` nor `https` (or it is `https` and the `tls`
    /// feature is off).
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
    /// The TLS handshake with `host` failed; `cause` says why.
    #[cfg(feature = "tls")]
    Tls {
        /// `host:port` as in the URL.
        host: String,
        /// What went wrong.
        cause: super::TlsError,
    },
    /// The connection failed while sending or receiving.
    Io(io::Error),
}

impl ClientError {
    /// True for [`ClientError::Timeout`] and a TLS handshake that timed out.
    pub fn is_timeout(&self) -> bool {
        #[cfg(feature = "tls")]
        if let ClientError::Tls { cause, .. } = self {
            return *cause == super::TlsError::HandshakeTimeout;
        }
        matches!(self, ClientError::Timeout(_))
    }

    /// The cause of a failed TLS handshake, if that is what failed.
    #[cfg(feature = "tls")]
    pub fn tls_cause(&self) -> Option<&super::TlsError> {
        match self {
            ClientError::Tls { cause, .. } => Some(cause),
            _ => None,
        }
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
            ClientError::UnsupportedScheme(scheme) if scheme == "https" => write!(
                f,
                "https:// needs simmer-http's `tls` feature, which this build leaves out"
            ),
            ClientError::UnsupportedScheme(scheme) => write!(
                f,
                "{scheme}:// is not supported: simmer's client speaks http:// and https://"
            ),
            ClientError::Resolve(e) => write!(f, "name resolution failed: {e}"),
            ClientError::Connect(e) => write!(f, "could not connect: {e}"),
            ClientError::Timeout(what) => write!(f, "timed out: {what}"),
            ClientError::MalformedResponse(why) => write!(f, "malformed response: {why}"),
            ClientError::BodyTooLarge(limit) => {
                write!(f, "response body larger than the limit of {limit} bytes")
            }
            ClientError::TooManyRedirects(n) => write!(f, "more than {n} redirects"),
            #[cfg(feature = "tls")]
            ClientError::Tls { host, cause } => write!(f, "TLS with {host} failed: {cause}"),
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
