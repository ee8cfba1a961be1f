//! Listening sockets, made with socket2 so the backlog and `SO_REUSEPORT` are ours to set.
//!
//! The backlog is the queue of connections the kernel has completed but the server has
//! not accepted yet. When it is full, Linux drops the client's handshake packets and the
//! client retransmits its SYN after 1 s, 3 s, 7 s…: a burst of connects then takes tens
//! of seconds. We ask for a large backlog; the kernel caps it at `net.core.somaxconn`
//! (4096 on current kernels).

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

#[cfg(feature = "workers")]
use socket2::SockRef;
use socket2::{Domain, Protocol, Socket, Type};

/// What we pass to `listen(2)`; Linux lowers it to `net.core.somaxconn`.
pub(crate) const BACKLOG: i32 = 65_535;

/// Binds to the first address of `addr` that works and starts listening.
pub(crate) fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
    let mut last_error = None;
    for addr in addr.to_socket_addrs()? {
        match bind_one(addr, false) {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind to")))
}

/// A listener on exactly `addr`, with `SO_REUSEADDR` (restart without waiting for
/// TIME_WAIT) and, if asked, `SO_REUSEPORT` (several listeners share the port and the
/// kernel spreads connections over them by a hash of the client's address and port).
pub(crate) fn bind_one(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let context = |e: io::Error| io::Error::new(e.kind(), format!("binding {addr}: {e}"));
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(context)?;
    socket.set_reuse_address(true).map_err(context)?;
    if reuse_port {
        socket.set_reuse_port(true).map_err(context)?;
    }
    socket.bind(&addr.into()).map_err(context)?;
    socket.listen(BACKLOG).map_err(context)?;
    Ok(socket.into())
}

/// Turns on `SO_REUSEPORT` on a listener that is already bound, so that more listeners
/// can join its port (Linux accepts this: the check is made when the next one binds).
#[cfg(feature = "workers")]
pub(crate) fn allow_port_sharing(listener: &TcpListener) -> io::Result<()> {
    SockRef::from(listener).set_reuse_port(true)
}
