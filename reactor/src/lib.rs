//! # simmer-reactor: what waits
//!
//! The reactor is where the loop sleeps. It owns one `mio::Poll` (epoll on Linux) and
//! implements the executor's [`Park`](simmer_executor::Park): when no task is ready the
//! executor calls `park`, the reactor waits in `epoll_wait` until a socket is ready, the
//! next timer is due, or another thread writes its eventfd, and wakes the tasks waiting
//! on what happened.
//!
//! - [`driver`]: the `turn` — collect events, cache readiness, fire timers;
//! - `io.rs`: a registration per socket, with readiness cached so a task woken with
//!   nothing new makes no syscall;
//! - [`time`]: `sleep`, `timeout`, `interval` on a heap of deadlines;
//! - [`net`]: `TcpListener`, `TcpStream`, `lookup_host`;
//! - [`Registered`]: any other mio source (signals, pipes).
//!
//! Types here find their reactor through a thread-local set by [`Handle::enter`]; used
//! outside a runtime they return (I/O) or panic with (timers) a message saying so.
#![deny(missing_docs)]

pub mod driver;
mod io;
pub mod net;
mod source;
pub mod time;

pub use driver::{EnterGuard, Handle, Reactor, ReactorPark};
pub use source::Registered;
