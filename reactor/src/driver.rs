//! The reactor's core: one `mio::Poll`, the registrations' readiness, and the timers.
//!
//! A `turn` waits in `epoll_wait` (edge-triggered) for at most the time until the next
//! timer, records the readiness of every event in its registration, wakes the task
//! waiting for that direction, then fires expired timers.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use simmer_executor::{report, Park, Unpark, WakeSource};
use slab::Slab;

use crate::io::{Readiness, ScheduledIo};
use crate::time::TimerQueue;

/// Token of the waker that ends a park from another thread.
const UNPARK_TOKEN: Token = Token(usize::MAX);

/// The reactor: create one per runtime, give [`Reactor::park`] to the executor, and
/// [`Handle::enter`] it on the loop thread so I/O types and timers can find it.
pub struct Reactor {
    handle: Handle,
}

/// A cheap, clonable reference to a reactor (single-threaded).
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Rc<Inner>,
}

/// The reactor's state, shared by its handles.
pub(crate) struct Inner {
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    /// Readiness and wakers per registration; the slab key is the mio token.
    pub(crate) sources: RefCell<Slab<Rc<ScheduledIo>>>,
    pub(crate) timers: RefCell<TimerQueue>,
    unparker: Arc<MioUnpark>,
    /// Wakers collected during a turn, woken after the borrows above are released.
    to_wake: RefCell<Vec<Waker>>,
    /// When the last turn's wait ended, if it read the clock (it does whenever a timer
    /// is pending): what [`Sleep::reset_after`](crate::time::Sleep::reset_after)
    /// counts from.
    pub(crate) woke_at: Cell<Option<Instant>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

impl Reactor {
    /// Opens an epoll instance and its cross-thread waker.
    pub fn new() -> io::Result<Reactor> {
        let poll = Poll::new().map_err(|e| with_context(e, "creating the epoll instance"))?;
        let waker = mio::Waker::new(poll.registry(), UNPARK_TOKEN)
            .map_err(|e| with_context(e, "creating the reactor's eventfd waker"))?;
        Ok(Reactor {
            handle: Handle {
                inner: Rc::new(Inner {
                    poll: RefCell::new(poll),
                    events: RefCell::new(Events::with_capacity(1024)),
                    sources: RefCell::new(Slab::new()),
                    timers: RefCell::new(TimerQueue::new()),
                    unparker: Arc::new(MioUnpark(waker)),
                    to_wake: RefCell::new(Vec::new()),
                    woke_at: Cell::new(None),
                }),
            },
        })
    }

    /// A handle to this reactor.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// The executor's [`Park`]: sleeping in this reactor until I/O, a timer or an unpark.
    pub fn park(&self) -> ReactorPark {
        ReactorPark {
            handle: self.handle.clone(),
        }
    }
}

impl Handle {
    /// The reactor of the runtime this thread is running, or a clear error outside one.
    pub fn current() -> io::Result<Handle> {
        CURRENT
            .with(|current| current.borrow().clone())
            .ok_or_else(|| {
                io::Error::other(
                    "no simmer runtime is running on this thread: sockets and timers need a \
                 reactor; use them inside simmer::block_on (or Runtime::block_on)",
                )
            })
    }

    /// Makes this reactor the current one on this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        let previous = CURRENT.with(|current| current.replace(Some(self.clone())));
        EnterGuard { previous }
    }

    pub(crate) fn registry<R>(&self, f: impl FnOnce(&mio::Registry) -> R) -> R {
        f(self.inner.poll.borrow().registry())
    }
}

/// Restores the previous current reactor when dropped.
pub struct EnterGuard {
    previous: Option<Handle>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// The reactor as the executor's [`Park`].
pub struct ReactorPark {
    handle: Handle,
}

impl Park for ReactorPark {
    fn park(&mut self, timeout: Option<Duration>) {
        if let Err(e) = self.handle.inner.turn(timeout) {
            // epoll_wait fails only on programming errors (EBADF, EINVAL); say so loudly
            // but keep the loop alive.
            simmer_executor::log_error!("simmer_reactor", "simmer: reactor turn failed: {e}");
        }
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.handle.inner.unparker.clone()
    }
}

/// Ends a park by writing the reactor's eventfd.
struct MioUnpark(mio::Waker);

impl Unpark for MioUnpark {
    fn unpark(&self) {
        if let Err(e) = self.0.wake() {
            simmer_executor::log_error!(
                "simmer_reactor",
                "simmer: could not wake the reactor: {e}"
            );
        }
    }
}

impl Inner {
    fn turn(&self, timeout: Option<Duration>) -> io::Result<()> {
        let next_timer = self.timers.borrow_mut().next_deadline();
        let timeout = match next_timer {
            // A non-blocking check stays one: no clock read needed to shorten it.
            Some(_) if timeout == Some(Duration::ZERO) => timeout,
            Some(deadline) => {
                let until_timer = deadline.saturating_duration_since(Instant::now());
                Some(timeout.map_or(until_timer, |t| t.min(until_timer)))
            }
            None => timeout,
        };
        // A non-blocking check with nothing registered has nothing to collect: skip the
        // syscall (remote wakes arrive through the executor's queue, not through epoll).
        let nothing_to_collect =
            timeout == Some(Duration::ZERO) && self.sources.borrow().is_empty();
        if !nothing_to_collect {
            self.poll_events(timeout)?;
        }
        let Some(deadline) = next_timer else {
            self.woke_at.set(None);
            return Ok(());
        };
        let now = Instant::now();
        self.woke_at.set(Some(now));
        // Nothing can fire before the earliest deadline.
        if deadline <= now {
            self.fire_timers(now);
        }
        Ok(())
    }

    fn poll_events(&self, timeout: Option<Duration>) -> io::Result<()> {
        let mut events = self.events.borrow_mut();
        match self.poll.borrow_mut().poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(with_context(e, "waiting for I/O events")),
        }
        let mut to_wake = self.to_wake.borrow_mut();
        let sources = self.sources.borrow();
        let mut delivered = 0;
        for event in events.iter() {
            if event.token() == UNPARK_TOKEN {
                continue;
            }
            let Some(io) = sources.get(event.token().0) else {
                continue; // deregistered while the event was in flight
            };
            delivered += 1;
            io.set(Readiness::from_event(event), &mut to_wake);
        }
        drop((sources, events));
        report::io_events(delivered);
        let wakers = std::mem::take(&mut *to_wake);
        drop(to_wake);
        self.wake_all(wakers, WakeSource::Io);
        Ok(())
    }

    fn fire_timers(&self, now: Instant) {
        let mut to_wake = std::mem::take(&mut *self.to_wake.borrow_mut());
        let fired =
            self.timers
                .borrow_mut()
                .fire_expired_late(now, &mut to_wake, report::timer_lateness);
        report::timers_fired(fired as u64);
        self.wake_all(to_wake, WakeSource::Timer);
    }

    /// Wakes collected wakers with no reactor borrow held, then keeps the buffer.
    fn wake_all(&self, mut wakers: Vec<Waker>, source: WakeSource) {
        if !wakers.is_empty() {
            report::waking_from(source, || wakers.drain(..).for_each(Waker::wake));
        }
        let mut slot = self.to_wake.borrow_mut();
        if slot.is_empty() {
            *slot = wakers;
        }
    }
}

/// Adds what simmer was doing to an OS error; the original stays reachable as the
/// error's `source()` (so that e.g. `EMFILE` can still be told apart).
pub(crate) fn with_context(e: io::Error, what: &str) -> io::Error {
    io::Error::new(
        e.kind(),
        Context {
            what: what.to_string(),
            error: e,
        },
    )
}

/// An OS error and what simmer was doing when it happened.
#[derive(Debug)]
struct Context {
    what: String,
    error: io::Error,
}

impl std::fmt::Display for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.error)
    }
}

impl std::error::Error for Context {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
