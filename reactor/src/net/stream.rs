//! `TcpStream`: reads and writes that wait on the reactor instead of blocking.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::driver::with_context;
use crate::io::{Direction, Registration};
use crate::time::timeout;

/// A TCP connection registered with the current reactor.
///
/// Methods take `&self`, so one task may read and write at once (e.g. with a `join`);
/// each direction has one waker, so two tasks must not read (or write) at the same time.
pub struct TcpStream {
    io: mio::net::TcpStream,
    registration: Registration,
}

impl TcpStream {
    /// Connects to `addr` (use [`crate::net::lookup_host`] to turn a name into addresses).
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let io = mio::net::TcpStream::connect(addr)
            .map_err(|e| with_context(e, &format!("connecting to {addr}")))?;
        let stream = TcpStream::from_mio(io)?;
        // A non-blocking connect finishes when the socket turns writable.
        poll_fn(|cx| stream.registration.poll_ready(cx, Direction::Write)).await;
        let failed = match stream.io.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => stream.io.peer_addr().err(),
        };
        match failed {
            Some(e) => Err(with_context(e, &format!("connecting to {addr}"))),
            None => Ok(stream),
        }
    }

    /// Connects to `addr`, giving up with `ErrorKind::TimedOut` after `limit`.
    pub async fn connect_timeout(addr: SocketAddr, limit: Duration) -> io::Result<TcpStream> {
        match timeout(limit, TcpStream::connect(addr)).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "connecting to {addr}: no answer within {}",
                    crate::time::Readable(limit)
                ),
            )),
        }
    }

    /// Wraps a connected std stream (it is switched to non-blocking mode).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    pub(crate) fn from_mio(mut io: mio::net::TcpStream) -> io::Result<TcpStream> {
        let registration = Registration::new(&mut io)?;
        Ok(TcpStream { io, registration })
    }

    /// Reads into `buf`; `Ok(0)` means the peer closed its side.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Reads exactly `buf.len()` bytes, or fails with `UnexpectedEof`.
    pub async fn read_exact(&self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    /// Writes some of `buf`; returns how much.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Writes from several buffers in one system call (`writev`); returns how much.
    pub async fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_vectored(cx, bufs)).await
    }

    /// Polls for readability without reading: `Ready` once a read may find bytes (or
    /// the end), `Pending` (the task woken when that changes) while the socket is
    /// known to be drained. Lets a caller wait without holding a buffer to read into.
    #[inline]
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.registration.poll_ready(cx, Direction::Read)
    }

    /// Polls a read. A short read (fewer bytes than `buf` holds) proves the socket is
    /// drained, so the next read waits for a readiness event instead of trying again.
    #[inline]
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let result = self
            .registration
            .poll_io(cx, Direction::Read, || (&self.io).read(buf));
        if let Poll::Ready(Ok(n)) = result {
            if n > 0 && n < buf.len() {
                self.registration.clear(Direction::Read, false);
            }
        }
        result
    }

    /// Polls a write. A short write proves the send buffer is full.
    #[inline]
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = self
            .registration
            .poll_io(cx, Direction::Write, || (&self.io).write(buf));
        if let Poll::Ready(Ok(n)) = result {
            if n < buf.len() {
                self.registration.clear(Direction::Write, false);
            }
        }
        result
    }

    /// Polls a vectored write.
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let result = self
            .registration
            .poll_io(cx, Direction::Write, || (&self.io).write_vectored(bufs));
        if let Poll::Ready(Ok(n)) = result {
            if n < total {
                self.registration.clear(Direction::Write, false);
            }
        }
        result
    }

    /// Shuts down the read half, the write half (sends FIN) or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.shutdown(how)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.nodelay()
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        self.registration.deregister(&mut self.io);
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.io.local_addr().ok())
            .field("peer_addr", &self.io.peer_addr().ok())
            .finish()
    }
}

#[cfg(feature = "futures-io")]
mod futures_io_impls {
    use super::*;
    use std::pin::Pin;

    impl futures_io::AsyncRead for TcpStream {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            TcpStream::poll_read(&self, cx, buf)
        }
    }

    impl futures_io::AsyncWrite for TcpStream {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            TcpStream::poll_write(&self, cx, buf)
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            TcpStream::poll_write_vectored(&self, cx, bufs)
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(self.shutdown(Shutdown::Write))
        }
    }
}
