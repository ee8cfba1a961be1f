//! `Transport`: a connection's byte stream, plain TCP or TLS over TCP.
//!
//! The connection loop, the body reader and the client speak HTTP to a `Transport`
//! and never ask which kind it is: both kinds read and write the same way. Without
//! the `tls` feature there is one kind, and the `match`es compile away.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::task::{Context, Poll};

use simmer_reactor::net::TcpStream;

#[cfg(feature = "tls")]
use crate::tls::TlsStream;

/// Plain TCP or TLS over TCP.
pub(crate) enum Transport {
    /// Bytes go to the socket as they are.
    Plain(TcpStream),
    /// Bytes are TLS records (boxed: rustls's session state is a few hundred bytes).
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
}

impl From<TcpStream> for Transport {
    fn from(stream: TcpStream) -> Transport {
        Transport::Plain(stream)
    }
}

#[cfg(feature = "tls")]
impl From<TlsStream> for Transport {
    fn from(stream: TlsStream) -> Transport {
        Transport::Tls(Box::new(stream))
    }
}

impl Transport {
    /// The TCP stream underneath.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.tcp(),
        }
    }

    /// Polls a read; `Ok(0)` means the peer closed.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self {
            Transport::Plain(tcp) => tcp.poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_read(cx, buf),
        }
    }

    /// Polls for readability without reading (see `TcpStream::poll_read_ready`). A TLS
    /// session may hold decrypted bytes the socket no longer shows, so it is always
    /// ready: its read is what waits.
    #[inline]
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        match self {
            Transport::Plain(tcp) => tcp.poll_read_ready(cx),
            #[cfg(feature = "tls")]
            Transport::Tls(_) => Poll::Ready(()),
        }
    }

    /// Polls a write.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Transport::Plain(tcp) => tcp.poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_write(cx, buf),
        }
    }

    /// Polls a vectored write.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self {
            Transport::Plain(tcp) => tcp.poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.poll_write_vectored(cx, bufs),
        }
    }

    /// Reads into `buf`; `Ok(0)` means the peer closed.
    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Writes some of `bufs` in one call; returns how much.
    #[allow(dead_code)] // for callers that batch responses
    pub(crate) async fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_vectored(cx, bufs)).await
    }

    /// Writes all of `buf`.
    pub(crate) async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match poll_fn(|cx| self.poll_write(cx, buf)).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Shuts down a half (for TLS, the write half first says close_notify).
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Transport::Plain(tcp) => tcp.shutdown(how),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.shutdown(how),
        }
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    #[allow(dead_code)]
    pub(crate) fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.tcp().set_nodelay(nodelay)
    }
}
