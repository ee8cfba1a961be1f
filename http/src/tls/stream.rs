//! `TlsStream`: rustls's state machine driven by the reactor's readiness.
//!
//! rustls does no I/O of its own. It is a buffer-in, buffer-out machine:
//!
//! ```text
//!   socket ──read_tls──▶ [ records in ] ──process_new_packets──▶ [ plaintext ] ──reader()──▶ HTTP
//!   socket ◀─write_tls── [ records out ] ◀──────── encrypt ───── [ plaintext ] ◀─writer()── HTTP
//! ```
//!
//! Each `poll_*` below moves bytes one step along these pipes and, when a step would
//! block on the socket, returns `Pending` with the task's waker registered on the
//! reactor for that direction, exactly as a plain [`TcpStream`] does. Nothing runs
//! on another thread: the handshake, the encryption and the decryption happen inside
//! the connection's own task, when it polls.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::task::{Context, Poll};

use simmer_reactor::net::TcpStream;

/// The content type of a TLS handshake record: the first byte any TLS client sends.
const HANDSHAKE_RECORD: u8 = 0x16;

/// A TCP stream with TLS on top, for a client or a server connection.
///
/// Like [`TcpStream`], methods take `&self`: one task may read and write.
pub struct TlsStream {
    tcp: TcpStream,
    tls: RefCell<rustls::Connection>,
    /// Plaintext bytes accepted by the last `poll_write` whose records are not all on
    /// the socket yet. The write is reported done only once they are, so a caller that
    /// writes and then closes never loses the tail of its data.
    unacknowledged: Cell<usize>,
    /// The first bytes the peer sent, kept to explain a failed handshake ("that is
    /// plain HTTP, not TLS").
    first_bytes: RefCell<Vec<u8>>,
}

impl TlsStream {
    /// Wraps a connected stream; nothing is sent until the first poll.
    pub fn new(tcp: TcpStream, tls: impl Into<rustls::Connection>) -> TlsStream {
        TlsStream {
            tcp,
            tls: RefCell::new(tls.into()),
            unacknowledged: Cell::new(0),
            first_bytes: RefCell::new(Vec::new()),
        }
    }

    /// The TCP stream underneath.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Runs the handshake to its end (both sides' `Finished` messages exchanged).
    pub async fn handshake(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_handshake(cx)).await
    }

    /// The protocol agreed with ALPN (for example `b"http/1.1"`), if any.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.tls.borrow().alpn_protocol().map(<[u8]>::to_vec)
    }

    /// The first few bytes the peer sent (at most 8), for error messages.
    pub fn first_bytes(&self) -> Vec<u8> {
        self.first_bytes.borrow().clone()
    }

    fn poll_handshake(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut tls = self.tls.borrow_mut();
            let flushed = self.flush_records(&mut tls, cx)?;
            if !tls.is_handshaking() {
                return if flushed {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                };
            }
            if !tls.wants_read() {
                // Waiting only for our own records to leave.
                if flushed {
                    continue;
                }
                return Poll::Pending;
            }
            match self.read_records(&mut tls, cx)? {
                Poll::Ready(0) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection during the TLS handshake",
                    )))
                }
                Poll::Ready(_) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Polls a read of plaintext. `Ok(0)` means the peer closed the TLS session
    /// (close_notify); a TCP close without it is an `UnexpectedEof` error, since
    /// an attacker could have cut the data short.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut tls = self.tls.borrow_mut();
        loop {
            match tls.reader().read(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            // Handshake replies, key updates and alerts may be waiting to go out;
            // sending them is what lets the peer answer.
            self.flush_records(&mut tls, cx)?;
            match self.read_records(&mut tls, cx)? {
                Poll::Ready(_) => {} // the reader now has plaintext, an EOF, or nothing new
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Polls a write of plaintext: `Ready(n)` once `n` bytes are encrypted and on the
    /// socket. A `Pending` write must be polled again with the same bytes (as
    /// `write_all` does): they are already inside the TLS session.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    /// Polls a write from several buffers; see [`TlsStream::poll_write`].
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut tls = self.tls.borrow_mut();
        if self.unacknowledged.get() == 0 {
            let accepted = tls.writer().write_vectored(bufs)?;
            if accepted == 0 && bufs.iter().any(|b| !b.is_empty()) {
                // rustls's buffer is full (only while handshaking): send first.
                if !self.flush_records(&mut tls, cx)? {
                    return Poll::Pending;
                }
                return Poll::Ready(Ok(tls.writer().write_vectored(bufs)?));
            }
            self.unacknowledged.set(accepted);
        }
        if self.flush_records(&mut tls, cx)? {
            Poll::Ready(Ok(self.unacknowledged.replace(0)))
        } else {
            Poll::Pending
        }
    }

    /// Reads plaintext into `buf`; `Ok(0)` means the peer closed.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Writes all of `buf`.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match poll_fn(|cx| self.poll_write(cx, buf)).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Shuts down: for the write half, first tells the peer with a close_notify alert
    /// (sent if the socket takes it now; a close is not worth waiting for).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            let mut tls = self.tls.borrow_mut();
            tls.send_close_notify();
            let mut cx = Context::from_waker(std::task::Waker::noop());
            let _ = self.flush_records(&mut tls, &mut cx);
        }
        self.tcp.shutdown(how)
    }

    /// Writes queued TLS records to the socket. `Ok(true)` when none are left,
    /// `Ok(false)` when the socket is full (the waker is registered for writability).
    fn flush_records(
        &self,
        tls: &mut rustls::Connection,
        cx: &mut Context<'_>,
    ) -> io::Result<bool> {
        while tls.wants_write() {
            let mut socket = SocketWriter { tcp: &self.tcp, cx };
            match tls.write_tls(&mut socket) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Reads records from the socket and decrypts them. `Ready(0)` is the peer's TCP
    /// close. A protocol error (a bad record, a certificate rejected) sends the alert
    /// rustls queued for the peer and fails with the reason.
    fn read_records(
        &self,
        tls: &mut rustls::Connection,
        cx: &mut Context<'_>,
    ) -> io::Result<Poll<usize>> {
        let mut socket = SocketReader {
            tcp: &self.tcp,
            cx,
            first_bytes: &self.first_bytes,
        };
        let n = match tls.read_tls(&mut socket) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Poll::Pending),
            Err(e) => return Err(e),
        };
        if let Err(error) = tls.process_new_packets() {
            // The alert rustls queued, if the socket takes it; but not to a peer whose
            // first byte was no TLS handshake record (plain HTTP, say): to it an alert
            // is noise, and the server may answer it in its own language.
            let speaks_tls = self.first_bytes.borrow().first() == Some(&HANDSHAKE_RECORD);
            if speaks_tls || !tls.is_handshaking() {
                let mut cx = Context::from_waker(std::task::Waker::noop());
                let _ = self.flush_records(tls, &mut cx);
            }
            return Err(io::Error::new(io::ErrorKind::InvalidData, error));
        }
        Ok(Poll::Ready(n))
    }
}

/// The socket as `io::Read` for `read_tls`: "would block" instead of `Pending`.
struct SocketReader<'a, 'b> {
    tcp: &'a TcpStream,
    cx: &'a mut Context<'b>,
    first_bytes: &'a RefCell<Vec<u8>>,
}

impl Read for SocketReader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.tcp.poll_read(self.cx, buf) {
            Poll::Ready(Ok(n)) => {
                let mut first = self.first_bytes.borrow_mut();
                if first.len() < 8 {
                    let take = n.min(8 - first.len());
                    first.extend_from_slice(&buf[..take]);
                }
                Ok(n)
            }
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

/// The socket as `io::Write` for `write_tls`.
struct SocketWriter<'a, 'b> {
    tcp: &'a TcpStream,
    cx: &'a mut Context<'b>,
}

impl Write for SocketWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self.tcp.poll_write_vectored(self.cx, bufs) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for TlsStream {
    /// Says close_notify, if the session is established and the socket takes it now,
    /// so the peer knows the data ended here rather than being cut short.
    fn drop(&mut self) {
        let tls = self.tls.get_mut();
        if tls.is_handshaking() {
            return;
        }
        tls.send_close_notify();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let _ = self.flush_records(&mut self.tls.borrow_mut(), &mut cx);
    }
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream").field("tcp", &self.tcp).finish()
    }
}
