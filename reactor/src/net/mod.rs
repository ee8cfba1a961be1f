//! TCP on the reactor: [`TcpListener`] and [`TcpStream`], plus [`lookup_host`].

mod listener;
mod stream;

pub use listener::TcpListener;
pub use stream::TcpStream;

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `host:port` to socket addresses without blocking the loop.
///
/// IP literals (`127.0.0.1:80`, `[::1]:80`) are parsed on the spot. Names go to the
/// system resolver (`getaddrinfo`), which blocks — possibly for seconds — so it runs on
/// the offload pool: a small lesson in why `offload` exists.
pub async fn lookup_host(host_and_port: &str) -> io::Result<Vec<SocketAddr>> {
    if let Ok(addr) = host_and_port.parse::<SocketAddr>() {
        return Ok(vec![addr]);
    }
    let owned = host_and_port.to_string();
    let resolved = simmer_executor::offload(move || owned.to_socket_addrs().map(Vec::from_iter))
        .await
        .map_err(io::Error::other)?;
    let addrs = resolved
        .map_err(|e| io::Error::new(e.kind(), format!("resolving {host_and_port}: {e}")))?;
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("resolving {host_and_port}: no addresses"),
        ));
    }
    Ok(addrs)
}
