//! `Registered<S>`: any mio event source (a pipe, a signal fd, a Unix socket) on the
//! reactor, for readiness-driven I/O beyond the built-in TCP types.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use mio::event::Source;

use crate::io::{Direction, Registration};

/// A mio source registered with the current reactor; deregistered on drop.
pub struct Registered<S: Source> {
    source: S,
    registration: Registration,
}

impl<S: Source> Registered<S> {
    /// Registers `source` for read and write readiness. Must run inside a runtime.
    pub fn new(mut source: S) -> io::Result<Registered<S>> {
        let registration = Registration::new(&mut source)?;
        Ok(Registered {
            source,
            registration,
        })
    }

    /// The source.
    pub fn get_ref(&self) -> &S {
        &self.source
    }

    /// Runs `op` until it does not report `WouldBlock`, waiting for read readiness
    /// in between.
    pub async fn read_with<R>(
        &mut self,
        mut op: impl FnMut(&mut S) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// Polls `op` under read readiness.
    pub fn poll_read_with<R>(
        &mut self,
        cx: &mut Context<'_>,
        op: &mut impl FnMut(&mut S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let source = &mut self.source;
        self.registration
            .poll_io(cx, Direction::Read, || op(source))
    }
}

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        self.registration.deregister(&mut self.source);
    }
}
