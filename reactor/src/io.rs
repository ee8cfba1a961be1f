//! Registrations: a socket's place in the reactor, with its cached readiness.
//!
//! Readiness is cached per registration: an event sets bits, an operation that returns
//! `WouldBlock` (or a short read/write, which proves the socket drained) clears them. A
//! task woken with nothing new therefore makes no syscall, and a drained socket is not
//! read again until the next edge.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use mio::event::Source;
use mio::{Interest, Token};
use simmer_executor::coop;

use crate::driver::{with_context, Handle};

/// Which half of a socket an operation uses: it has its own waker and readiness bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// Readiness bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Readiness(u8);

impl Readiness {
    const READABLE: u8 = 1;
    const WRITABLE: u8 = 1 << 1;
    const READ_CLOSED: u8 = 1 << 2;
    const WRITE_CLOSED: u8 = 1 << 3;
    const ERROR: u8 = 1 << 4;

    pub(crate) fn from_event(event: &mio::event::Event) -> Readiness {
        let mut bits = 0;
        if event.is_readable() {
            bits |= Self::READABLE;
        }
        if event.is_writable() {
            bits |= Self::WRITABLE;
        }
        if event.is_read_closed() {
            bits |= Self::READ_CLOSED;
        }
        if event.is_write_closed() {
            bits |= Self::WRITE_CLOSED;
        }
        if event.is_error() {
            bits |= Self::ERROR;
        }
        Readiness(bits)
    }

    /// Bits that let an operation in `direction` make progress.
    fn mask(direction: Direction) -> u8 {
        match direction {
            Direction::Read => Self::READABLE | Self::READ_CLOSED | Self::ERROR,
            Direction::Write => Self::WRITABLE | Self::WRITE_CLOSED | Self::ERROR,
        }
    }

    /// The "data/space available" bit alone (a short transfer clears only this).
    fn level(direction: Direction) -> u8 {
        match direction {
            Direction::Read => Self::READABLE,
            Direction::Write => Self::WRITABLE,
        }
    }
}

/// What the reactor keeps per registration, shared (one `Rc`) by the reactor's table
/// and the registration: an operation reads and clears the readiness bits in place,
/// without borrowing the table or looking the registration up in it.
#[derive(Default)]
pub(crate) struct ScheduledIo {
    readiness: Cell<u8>,
    reader: Cell<Option<Waker>>,
    writer: Cell<Option<Waker>>,
}

impl ScheduledIo {
    /// Adds an event's readiness; queues the wakers of the directions it unblocks.
    #[inline]
    pub(crate) fn set(&self, readiness: Readiness, to_wake: &mut Vec<Waker>) {
        self.readiness.set(self.readiness.get() | readiness.0);
        if readiness.0 & Readiness::mask(Direction::Read) != 0 {
            if let Some(waker) = self.reader.take() {
                to_wake.push(waker);
            }
        }
        if readiness.0 & Readiness::mask(Direction::Write) != 0 {
            if let Some(waker) = self.writer.take() {
                to_wake.push(waker);
            }
        }
    }
}

/// A source registered with the current reactor; deregistered by its owner's drop.
pub(crate) struct Registration {
    handle: Handle,
    io: Rc<ScheduledIo>,
    key: usize,
}

impl Registration {
    /// Registers `source` for both directions, edge-triggered.
    pub(crate) fn new(source: &mut impl Source) -> io::Result<Registration> {
        let handle = Handle::current()?;
        let io = Rc::new(ScheduledIo::default());
        let key = handle.inner.sources.borrow_mut().insert(Rc::clone(&io));
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = handle.registry(|r| r.register(source, Token(key), interest)) {
            handle.inner.sources.borrow_mut().remove(key);
            return Err(with_context(e, "registering a socket with epoll"));
        }
        Ok(Registration { handle, io, key })
    }

    /// Ready if the cache says `direction` can make progress; else stores the waker.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<()> {
        if self.io.readiness.get() & Readiness::mask(direction) != 0 {
            return Poll::Ready(());
        }
        let slot = match direction {
            Direction::Read => &self.io.reader,
            Direction::Write => &self.io.writer,
        };
        let waker = match slot.take() {
            Some(waker) if waker.will_wake(cx.waker()) => waker,
            _ => cx.waker().clone(),
        };
        slot.set(Some(waker));
        Poll::Pending
    }

    /// Forgets `direction`'s readiness: `all` after `WouldBlock`, just the level bit
    /// after a short transfer (closed/error bits stay so EOF is still seen).
    #[inline]
    pub(crate) fn clear(&self, direction: Direction, all: bool) {
        let bits = if all {
            Readiness::mask(direction)
        } else {
            Readiness::level(direction)
        };
        self.io.readiness.set(self.io.readiness.get() & !bits);
    }

    /// Runs a non-blocking `op` once the cache says it may succeed, spending one unit of
    /// the task's coop budget, and clears readiness when it reports `WouldBlock`. A
    /// socket that is not ready spends no budget: only operations that may complete do.
    #[inline]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        if self.poll_ready(cx, direction).is_pending() {
            return Poll::Pending;
        }
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.clear(direction, true);
                    if self.poll_ready(cx, direction).is_pending() {
                        return Poll::Pending;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// Removes `source` from epoll and forgets the registration.
    pub(crate) fn deregister(&self, source: &mut impl Source) {
        // The fd is about to be closed anyway; a failure here changes nothing.
        let _ = self.handle.registry(|r| r.deregister(source));
        self.handle.inner.sources.borrow_mut().try_remove(self.key);
    }
}
