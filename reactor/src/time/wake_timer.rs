//! The kernel timer that ends a park when the next deadline is due.
//!
//! The plain way to sleep until a deadline is `epoll_wait`'s timeout. Linux then arms a
//! high-resolution timer for every wait that blocks and cancels it when an event ends
//! the wait first. A loop under load blocks and wakes thousands of times a second, so it
//! pays that arm and cancel thousands of times, and on a virtual machine reprogramming
//! the CPU's timer is a trip to the hypervisor. With a timerfd registered in epoll the
//! kernel timer stays armed from one wait to the next: it is set again only when the
//! earliest deadline comes before it, or after it has gone off. `epoll_wait` itself
//! then waits with no timeout.
//!
//! `benches/http.sh` and `README.md` ("Timers without a timeout per wait") give the
//! measured difference. Elsewhere than Linux the reactor keeps using the timeout.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

/// A timerfd in the reactor's epoll set, armed for the earliest pending deadline.
pub(crate) struct WakeTimer {
    fd: OwnedFd,
    /// The deadline the timerfd is set for, if it has been set.
    armed: Cell<Option<Instant>>,
    /// How many times it was set.
    #[cfg(test)]
    arms: Cell<u64>,
}

impl WakeTimer {
    /// Creates a timerfd on the monotonic clock (the clock `Instant` reads) and
    /// registers it under `token`.
    pub(crate) fn new(registry: &Registry, token: Token) -> io::Result<WakeTimer> {
        // SAFETY: timerfd_create takes no pointers; a negative return is an error.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor we just opened and nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // Edge-triggered: each expiry is one event, and setting the timer again clears
        // it, so the fd never has to be read.
        registry.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)?;
        Ok(WakeTimer {
            fd,
            armed: Cell::new(None),
            #[cfg(test)]
            arms: Cell::new(0),
        })
    }

    /// Makes sure the timer goes off by `deadline`, which is after `now`.
    ///
    /// A timer already set for a moment between `now` and `deadline` is left alone: it
    /// will end a wait a little early (its timer was cancelled or postponed), and the
    /// turn after it sets it again. One set for later, or already gone off, is set anew.
    pub(crate) fn arm_by(&self, deadline: Instant, now: Instant) -> io::Result<()> {
        if let Some(armed) = self.armed.get() {
            if armed > now && armed <= deadline {
                return Ok(());
            }
        }
        self.set(deadline.saturating_duration_since(now))?;
        self.armed.set(Some(deadline));
        #[cfg(test)]
        self.arms.set(self.arms.get() + 1);
        Ok(())
    }

    /// How many times the timer has been set.
    #[cfg(test)]
    pub(crate) fn arms(&self) -> u64 {
        self.arms.get()
    }

    /// Sets the timer to go off once, `after` from now (relative time cannot be earlier
    /// than the deadline it was computed from: `now` was read before this call).
    fn set(&self, after: Duration) -> io::Result<()> {
        // A zero it_value would disarm the timer; the smallest real delay goes off at once.
        let after = after.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `fd` is our open timerfd, `spec` a valid itimerspec for the call to
        // read, and a null old_value is allowed.
        let result =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if result < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer() -> (mio::Poll, WakeTimer) {
        let poll = mio::Poll::new().unwrap();
        let timer = WakeTimer::new(poll.registry(), Token(7)).unwrap();
        (poll, timer)
    }

    #[test]
    fn a_later_deadline_keeps_the_timer_an_earlier_one_sets_it() {
        let (_poll, timer) = timer();
        let now = Instant::now();
        timer.arm_by(now + Duration::from_secs(5), now).unwrap();
        assert_eq!(timer.arms(), 1);
        timer.arm_by(now + Duration::from_secs(9), now).unwrap();
        assert_eq!(
            timer.arms(),
            1,
            "a later deadline is served by the earlier timer"
        );
        timer.arm_by(now + Duration::from_secs(2), now).unwrap();
        assert_eq!(timer.arms(), 2, "an earlier deadline sets the timer again");
        let later = now + Duration::from_secs(3);
        timer.arm_by(now + Duration::from_secs(4), later).unwrap();
        assert_eq!(timer.arms(), 3, "a timer that has gone off is set again");
    }

    #[test]
    fn the_timer_wakes_epoll_once_per_expiry() {
        let (mut poll, timer) = timer();
        let mut events = mio::Events::with_capacity(8);
        for round in 0..3 {
            let now = Instant::now();
            timer.arm_by(now + Duration::from_millis(5), now).unwrap();
            poll.poll(&mut events, Some(Duration::from_secs(10)))
                .unwrap();
            let fired: Vec<_> = events.iter().map(|e| e.token()).collect();
            assert_eq!(fired, [Token(7)], "round {round}");
            assert!(now.elapsed() >= Duration::from_millis(5), "never early");
        }
        // Gone off and not set again: no further event (edge-triggered, not read).
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .unwrap();
        assert!(events.is_empty());
    }
}
