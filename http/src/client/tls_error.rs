//! Why a TLS handshake failed, in words a user can act on.

use std::fmt;
use std::io;

/// The cause of a failed TLS connection, from [`super::ClientError::Tls`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate chain does not lead to a trusted root: self-signed, or signed by
    /// a certificate authority the client was not given.
    UnknownIssuer,
    /// The server's certificate (or one in its chain) has expired, or is not valid yet.
    Expired,
    /// The certificate is valid, but not for the host name in the URL.
    NameMismatch,
    /// The server did not answer in TLS; the text is what it sent (often plain HTTP on
    /// a port that does not speak TLS).
    NotTls(String),
    /// The handshake did not finish within the connect timeout.
    HandshakeTimeout,
    /// Any other failure; the text is rustls's or the socket's reason.
    Other(String),
}

impl TlsError {
    /// Classifies a handshake error; `first_bytes` are the first bytes the server sent.
    pub(crate) fn from_handshake(error: &io::Error, first_bytes: &[u8]) -> TlsError {
        use rustls::CertificateError as Cert;
        if first_bytes.starts_with(b"HTTP/")
            || first_bytes.first().is_some_and(|b| !(20..=24).contains(b))
        {
            // A TLS record starts with a content type from 20 to 24.
            return TlsError::NotTls(String::from_utf8_lossy(first_bytes).into_owned());
        }
        let rustls_error = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>());
        match rustls_error {
            Some(rustls::Error::InvalidCertificate(cert)) => match cert {
                Cert::UnknownIssuer | Cert::BadSignature => TlsError::UnknownIssuer,
                Cert::Expired
                | Cert::ExpiredContext { .. }
                | Cert::NotValidYet
                | Cert::NotValidYetContext { .. } => TlsError::Expired,
                Cert::NotValidForName | Cert::NotValidForNameContext { .. } => {
                    TlsError::NameMismatch
                }
                other => TlsError::Other(format!("invalid certificate: {other:?}")),
            },
            Some(other) => TlsError::Other(other.to_string()),
            None => TlsError::Other(error.to_string()),
        }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::UnknownIssuer => f.write_str(
                "the certificate is not trusted (unknown issuer: self-signed or from a CA the client does not trust)",
            ),
            TlsError::Expired => f.write_str("the certificate has expired or is not valid yet"),
            TlsError::NameMismatch => f.write_str("the certificate is not valid for this host name"),
            TlsError::NotTls(start) => write!(
                f,
                "the server did not answer in TLS (it sent {start:?}; plain HTTP on this port? try http://)"
            ),
            TlsError::HandshakeTimeout => f.write_str("the TLS handshake did not finish in time"),
            TlsError::Other(why) => f.write_str(why),
        }
    }
}
