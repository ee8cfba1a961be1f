//! `Server`: accepts connections, runs one task per connection, shuts down gracefully.

use std::cell::{Cell, RefCell};
#[cfg(not(feature = "signals"))]
use std::future::pending;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use simmer_reactor::net::{TcpListener, TcpStream};
use simmer_reactor::time::{sleep, timeout, Readable};
use slab::Slab;

use crate::config::ServerConfig;
use crate::conn::serve_connection;
use crate::health::DrainState;
use crate::router::{App, Router};
use crate::select::{select, Either};

/// An HTTP/1.1 server (uvicorn's part): `Server::bind(addr)?.serve(router).await`.
pub struct Server {
    listener: TcpListener,
    config: ServerConfig,
    drain: DrainState,
}

impl Server {
    /// Listens on `addr`. Must be called inside a simmer runtime.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server::from_listener(TcpListener::bind(addr)?))
    }

    /// Serves on an existing listener.
    pub fn from_listener(listener: TcpListener) -> Server {
        Server {
            listener,
            config: ServerConfig::default(),
            drain: DrainState::default(),
        }
    }

    /// Replaces the limits and timeouts, or says which setting is invalid.
    pub fn with_config(mut self, config: ServerConfig) -> io::Result<Server> {
        config.validate()?;
        self.config = config;
        Ok(self)
    }

    /// The flag [`crate::health::handler`] reads: set when shutdown begins.
    pub fn drain_state(&self) -> DrainState {
        self.drain.clone()
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves `router` until SIGINT or SIGTERM, then shuts down gracefully: stops
    /// accepting, closes idle connections, lets in-flight requests finish (up to
    /// `shutdown_deadline`) and returns `Ok(())`.
    ///
    /// Without the `signals` feature it serves until the runtime is dropped.
    pub async fn serve(self, router: Router) -> io::Result<()> {
        #[cfg(feature = "signals")]
        {
            let signal = crate::signals::shutdown_signal()?;
            self.serve_until(router, async move {
                let name = signal.await;
                simmer_executor::log_info!(
                    "simmer_http",
                    "simmer-http: {name} received: shutting down gracefully"
                );
            })
            .await
        }
        #[cfg(not(feature = "signals"))]
        self.serve_until(router, pending::<()>()).await
    }

    /// Serves `router` until `shutdown` completes, then shuts down gracefully.
    pub async fn serve_until(
        self,
        router: Router,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        // Draining starts with the signal; the listener stays open `drain_grace` longer.
        let (drain, grace) = (self.drain, self.config.drain_grace);
        let shutdown = async move {
            shutdown.await;
            drain.begin();
            if !grace.is_zero() {
                simmer_executor::log_info!(
                    "simmer_http",
                    "simmer-http: draining: accepting for {} more",
                    Readable(grace)
                );
                sleep(grace).await;
            }
        };
        let shared = Rc::new(Shared::new(self.config, router.into_app()));
        let mut shutdown = pin!(shutdown);
        let listener = self.listener;
        loop {
            let accepted = select(shared.accept_when_allowed(&listener), shutdown.as_mut()).await;
            match accepted {
                Either::Left(Ok((stream, peer))) => {
                    let slot = shared.open_slot();
                    let connection = serve_connection(stream, peer, Rc::clone(&shared), slot);
                    // Named after the client, for slow-poll warnings and traces.
                    drop(simmer_executor::spawn_named(
                        format!("conn {peer}"),
                        connection,
                    ));
                }
                Either::Left(Err(e)) => {
                    // EMFILE and friends: the listener is fine; pause so the error
                    // cannot spin the loop, then go on.
                    simmer_executor::log_error!("simmer_http", "simmer-http: accept failed: {e}");
                    sleep(Duration::from_millis(10)).await;
                }
                Either::Right(()) => break,
            }
        }
        drop(listener); // new connections are refused from here on
        shared.begin_drain();
        let deadline = shared.config.shutdown_deadline;
        if timeout(deadline, poll_fn(|cx| shared.poll_all_closed(cx)))
            .await
            .is_err()
        {
            simmer_executor::log_info!(
                "simmer_http",
                "simmer-http: {} connection(s) still busy after {}; closing them",
                shared.open_connections(),
                Readable(deadline)
            );
        }
        Ok(())
    }
}

/// What the accept loop and every connection share.
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) app: Rc<App>,
    /// One entry per open connection: the waker of its idle wait, if it is idle.
    connections: RefCell<Slab<Option<Waker>>>,
    draining: Cell<bool>,
    /// The accept loop, waiting for a connection slot.
    accept_waiter: RefCell<Option<Waker>>,
    /// `serve_until`, waiting for the last connection to close.
    drain_waiter: RefCell<Option<Waker>>,
}

impl Shared {
    fn new(config: ServerConfig, app: Rc<App>) -> Shared {
        Shared {
            config,
            app,
            connections: RefCell::new(Slab::new()),
            draining: Cell::new(false),
            accept_waiter: RefCell::new(None),
            drain_waiter: RefCell::new(None),
        }
    }

    /// Accepts once fewer than `max_connections` are open.
    async fn accept_when_allowed(
        &self,
        listener: &TcpListener,
    ) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| {
            if self.open_connections() >= self.config.max_connections {
                *self.accept_waiter.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            listener.poll_accept(cx)
        })
        .await
    }

    fn open_slot(&self) -> usize {
        crate::metrics::connection_opened();
        self.connections.borrow_mut().insert(None)
    }

    /// Called when a connection ends.
    pub(crate) fn close_slot(&self, slot: usize) {
        if self.connections.borrow_mut().try_remove(slot).is_some() {
            crate::metrics::connection_closed();
        }
        if let Some(w) = self.accept_waiter.borrow_mut().take() {
            w.wake();
        }
        if let Some(w) = self.drain_waiter.borrow_mut().take() {
            w.wake();
        }
    }

    fn open_connections(&self) -> usize {
        self.connections.borrow().len()
    }

    /// True once shutdown has begun.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.get()
    }

    /// Resolves when shutdown begins; `slot` is the waiting connection.
    pub(crate) async fn draining(&self, slot: usize) {
        poll_fn(|cx| {
            if self.draining.get() {
                return Poll::Ready(());
            }
            if let Some(waiting) = self.connections.borrow_mut().get_mut(slot) {
                match waiting {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *waiting = Some(cx.waker().clone()),
                }
            }
            Poll::Pending
        })
        .await
    }

    fn begin_drain(&self) {
        self.draining.set(true);
        let wakers: Vec<Waker> = self
            .connections
            .borrow_mut()
            .iter_mut()
            .filter_map(|(_, w)| w.take())
            .collect();
        wakers.into_iter().for_each(Waker::wake);
    }

    fn poll_all_closed(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.open_connections() == 0 {
            return Poll::Ready(());
        }
        *self.drain_waiter.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}
