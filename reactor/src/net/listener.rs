//! `TcpListener`: accepts connections without blocking the loop.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

use crate::driver::with_context;
use crate::io::{Direction, Registration};
use crate::net::TcpStream;

/// A TCP socket listening for connections (backlog 1024, `SO_REUSEADDR` set).
pub struct TcpListener {
    io: mio::net::TcpListener,
    registration: Registration,
}

impl TcpListener {
    /// Binds to the first address of `addr` that works (`"127.0.0.1:0"` picks a port).
    ///
    /// Must be called inside a simmer runtime. A host name in `addr` is resolved with
    /// the blocking system resolver; pass an IP address to avoid that.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let mut last_error = None;
        for addr in addr.to_socket_addrs()? {
            match mio::net::TcpListener::bind(addr) {
                Ok(io) => return TcpListener::from_mio(io),
                Err(e) => last_error = Some(with_context(e, &format!("binding {addr}"))),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to bind to")
        }))
    }

    /// Wraps a bound std listener (it is switched to non-blocking mode).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    fn from_mio(mut io: mio::net::TcpListener) -> io::Result<TcpListener> {
        let registration = Registration::new(&mut io)?;
        Ok(TcpListener { io, registration })
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        match self
            .registration
            .poll_io(cx, Direction::Read, || self.io.accept())
        {
            Poll::Ready(Ok((stream, peer))) => {
                Poll::Ready(TcpStream::from_mio(stream).map(|s| (s, peer)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(with_context(e, "accepting a connection"))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Waits for the next connection and returns it as a std socket, not registered with
    /// this reactor: for handing it to another thread's loop (`TcpStream::from_std`
    /// there), as a server's acceptor does.
    pub async fn accept_std(&self) -> io::Result<(std::net::TcpStream, SocketAddr)> {
        poll_fn(|cx| {
            match self
                .registration
                .poll_io(cx, Direction::Read, || self.io.accept())
            {
                Poll::Ready(Ok((stream, peer))) => {
                    use std::os::fd::{FromRawFd, IntoRawFd};
                    // SAFETY: the descriptor comes straight from mio's stream, which
                    // gives up ownership of it here.
                    let stream = unsafe { std::net::TcpStream::from_raw_fd(stream.into_raw_fd()) };
                    Poll::Ready(Ok((stream, peer)))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(with_context(e, "accepting a connection"))),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.registration.deregister(&mut self.io);
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.io.local_addr().ok())
            .finish()
    }
}
