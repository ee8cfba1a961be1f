//! A worker's inbox: accepted sockets handed over by the acceptor thread.
//!
//! The acceptor pushes a socket and wakes the worker's accept loop; the wake goes
//! through that worker's remote queue and unparks its reactor only if it sleeps. This
//! mutex is the one lock a connection meets, once, on its way in.

use std::collections::VecDeque;
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

/// Sockets waiting for one worker.
#[derive(Default)]
pub(crate) struct Inbox {
    state: Mutex<InboxState>,
}

#[derive(Default)]
struct InboxState {
    sockets: VecDeque<(TcpStream, SocketAddr)>,
    /// The worker's accept loop, when it waits for a socket.
    waiter: Option<Waker>,
}

impl Inbox {
    /// Called by the acceptor.
    pub(crate) fn push(&self, stream: TcpStream, peer: SocketAddr) {
        let waiter = {
            let mut state = self.lock();
            state.sockets.push_back((stream, peer));
            state.waiter.take()
        };
        if let Some(waker) = waiter {
            waker.wake();
        }
    }

    /// Called by the worker: the next socket, or `Pending` until one arrives.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<(TcpStream, SocketAddr)> {
        let mut state = self.lock();
        if let Some(next) = state.sockets.pop_front() {
            return Poll::Ready(next);
        }
        match &state.waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.waiter = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
