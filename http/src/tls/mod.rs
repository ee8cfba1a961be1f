//! TLS (HTTPS) for the client and the server, with rustls (feature `tls`).
//!
//! TLS is a layer between the socket and HTTP. HTTP writes plaintext; TLS cuts it into
//! *records*, encrypts and authenticates each, and hands the ciphertext to TCP; on the
//! way in it collects whole records from the socket, checks and decrypts them, and
//! hands plaintext up. Before any of that, a *handshake* (a few records each way)
//! agrees on keys and proves the server's identity with its certificate chain.
//!
//! - [`stream`]: [`TlsStream`], rustls's state machine driven by the reactor's
//!   readiness inside the connection's own task (no helper thread).
//! - `accept`: the server's handshake, bounded by `tls_handshake_timeout`, and a
//!   plain-text 400 for a client that speaks plain HTTP to the TLS port.
//! - [`config`]: building rustls's client configuration (trust roots, ALPN) and the
//!   server's (certificate chain and key read from PEM files, once, at start).
//!
//! **The crypto provider is `ring`.** rustls needs a provider for its ciphers and
//! signatures: `ring` builds with nothing but a C compiler in about a minute on two
//! cores, while `aws-lc-rs` (rustls's default) needs cmake and compiles a large C
//! library, several minutes on a small CI machine. Both implement the same suites
//! (TLS 1.3 and 1.2, AES-GCM, ChaCha20-Poly1305, X25519, ECDSA, RSA, Ed25519); the
//! handshake cost is dominated by the same elliptic-curve and RSA operations.

pub(crate) mod accept;
pub mod config;
pub mod stream;

pub use config::{ClientTls, ServerTls};
pub use stream::TlsStream;
