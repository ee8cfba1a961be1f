//! Idle keep-alive connections, per host, port and scheme (a TLS connection is
//! reused only for `https`, with its session already established).

use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::conn_io::ConnIo;

/// Idle connections, newest last.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Vec<Idle>,
}

struct Idle {
    host: String,
    port: u16,
    tls: bool,
    io: ConnIo,
    since: Instant,
}

impl Pool {
    pub(crate) fn len(&self) -> usize {
        self.idle.len()
    }

    /// The newest live idle connection to `host:port`. Connections idle too long, or
    /// that the server has closed meanwhile, are dropped on the way.
    pub(crate) fn take(
        &mut self,
        host: &str,
        port: u16,
        tls: bool,
        idle_timeout: Duration,
    ) -> Option<ConnIo> {
        while let Some(i) = self
            .idle
            .iter()
            .rposition(|c| c.port == port && c.tls == tls && c.host == host)
        {
            let candidate = self.idle.remove(i);
            if candidate.since.elapsed() <= idle_timeout && is_open(&candidate.io) {
                return Some(candidate.io);
            }
        }
        None
    }

    /// Keeps `io` for reuse, unless `host:port` already has `max` idle connections.
    pub(crate) fn put(&mut self, host: &str, port: u16, tls: bool, io: ConnIo, max: usize) {
        let idle_here = self
            .idle
            .iter()
            .filter(|c| c.port == port && c.tls == tls && c.host == host)
            .count();
        if idle_here < max {
            self.idle.push(Idle {
                host: host.to_string(),
                port,
                tls,
                io,
                since: Instant::now(),
            });
        }
    }
}

/// An idle connection is usable only if reading it would block: end-of-file means the
/// server closed it, and unexpected bytes mean it is out of step.
fn is_open(io: &ConnIo) -> bool {
    if io.buffered() > 0 {
        return false;
    }
    let mut probe = [0u8; 1];
    let mut cx = Context::from_waker(Waker::noop());
    matches!(io.stream.poll_read(&mut cx, &mut probe), Poll::Pending)
}
