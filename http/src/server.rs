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
use std::time::{Duration, Instant};

use simmer_reactor::net::{TcpListener, TcpStream};
use simmer_reactor::time::{sleep, timeout, Readable};
use slab::Slab;

use crate::config::ServerConfig;
#[cfg(feature = "tls")]
use crate::conn::serve_tls_connection;
use crate::conn::{serve_connection, SlotGuard};
use crate::conn_io::ConnIo;
use crate::health::DrainState;
#[cfg(feature = "workers")]
use crate::inbox::Inbox;
use crate::router::{App, Router};
use crate::select::{select, Either};

/// An HTTP/1.1 server (uvicorn's part): `Server::bind(addr)?.serve(router).await` on
/// one loop, or `Server::bind(addr)?.workers(n).serve(|| router)` on `n` threads (see
/// [`Workers`](crate::Workers)).
pub struct Server {
    listener: Listening,
    config: ServerConfig,
    drain: DrainState,
}

/// The listening socket, registered with a reactor only once serving starts (so that
/// `bind` works outside a runtime, for workers on other threads).
enum Listening {
    Std(std::net::TcpListener),
    Registered(TcpListener),
}

impl Server {
    /// Listens on `addr` (backlog: `net.core.somaxconn`; `SO_REUSEADDR` set). Works
    /// inside or outside a runtime.
    ///
    /// The first server configured in a process raises its soft open-file limit to the
    /// hard limit (as Go's runtime does) and sizes the default `max_connections` by it.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server::with_listening(Listening::Std(crate::listen::bind(
            addr,
        )?)))
    }

    /// Listens on `addr` for HTTPS, with the certificate chain (leaf first) and the
    /// private key read from PEM files now, once. A missing or unreadable file, a file
    /// with no certificate or no key, or a key that does not belong to the certificate
    /// is an error naming the file. Each connection's handshake must finish within
    /// `tls_handshake_timeout` ([`ServerConfig`]); a client that speaks plain HTTP to
    /// the port is answered `400` in plain text and closed.
    #[cfg(feature = "tls")]
    pub fn bind_tls(
        addr: impl ToSocketAddrs,
        cert_chain_pem: impl AsRef<std::path::Path>,
        key_pem: impl AsRef<std::path::Path>,
    ) -> io::Result<Server> {
        let tls = crate::tls::ServerTls::from_pem_files(cert_chain_pem.as_ref(), key_pem.as_ref())?;
        Ok(Server::bind(addr)?.tls(tls))
    }

    /// Serves HTTPS with `tls` (made once, shared by every connection and worker).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::ServerTls) -> Server {
        self.config.tls = Some(tls);
        self
    }

    /// Serves on an existing listener.
    pub fn from_listener(listener: TcpListener) -> Server {
        Server::with_listening(Listening::Registered(listener))
    }

    /// Serves on a bound and listening std socket (it is switched to non-blocking mode).
    pub fn from_std(listener: std::net::TcpListener) -> Server {
        Server::with_listening(Listening::Std(listener))
    }

    fn with_listening(listener: Listening) -> Server {
        Server {
            listener,
            config: ServerConfig::default(),
            drain: DrainState::default(),
        }
    }

    /// Replaces the limits and timeouts, or says which setting is invalid. TLS
    /// settings already given (by `bind_tls` or `tls`) are kept when `config` has none.
    pub fn with_config(mut self, config: ServerConfig) -> io::Result<Server> {
        config.validate()?;
        #[cfg(feature = "tls")]
        let config = ServerConfig {
            tls: config.tls.clone().or_else(|| self.config.tls.take()),
            ..config
        };
        self.config = config;
        Ok(self)
    }

    /// The flag [`crate::health::handler`] reads: set when shutdown begins.
    pub fn drain_state(&self) -> DrainState {
        self.drain.clone()
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.listener {
            Listening::Std(l) => l.local_addr(),
            Listening::Registered(l) => l.local_addr(),
        }
    }

    /// Serves on `n` worker threads, each with its own loop and router (see
    /// [`Workers`](crate::Workers)); `n = 0` means one per available core.
    #[cfg(feature = "workers")]
    pub fn workers(self, n: usize) -> crate::Workers {
        crate::Workers::new(self, n)
    }

    /// The std socket, the settings and the drain flag, for the workers.
    #[cfg(feature = "workers")]
    pub(crate) fn into_parts(
        self,
    ) -> io::Result<(std::net::TcpListener, ServerConfig, DrainState)> {
        match self.listener {
            Listening::Std(l) => Ok((l, self.config, self.drain)),
            Listening::Registered(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "workers need a server made by Server::bind or Server::from_std \
                 (a TcpListener is already tied to this thread's reactor)",
            )),
        }
    }

    /// Serves `router` until SIGINT or SIGTERM, then shuts down gracefully: stops
    /// accepting, closes idle connections, lets in-flight requests finish (up to
    /// `shutdown_deadline`) and returns `Ok(())`. Must run inside a simmer runtime.
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
        let listener = match self.listener {
            Listening::Std(l) => TcpListener::from_std(l)?,
            Listening::Registered(l) => l,
        };
        serve_incoming(
            Incoming::Listener(listener),
            self.config,
            router.into_app()?,
            shutdown,
        )
        .await
    }
}

/// Where a loop's connections come from.
pub(crate) enum Incoming {
    /// Its own listening socket (one loop, or one `SO_REUSEPORT` socket per worker).
    Listener(TcpListener),
    /// Sockets the acceptor thread hands over.
    #[cfg(feature = "workers")]
    Inbox(std::sync::Arc<Inbox>),
}

impl Incoming {
    async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        match self {
            Incoming::Listener(listener) => listener.accept().await,
            #[cfg(feature = "workers")]
            Incoming::Inbox(inbox) => {
                let (stream, peer) = poll_fn(|cx| inbox.poll_next(cx)).await;
                stream.set_nonblocking(true)?;
                Ok((TcpStream::from_std(stream)?, peer))
            }
        }
    }
}

/// One loop's accept loop: serves connections from `incoming` until `shutdown`, then
/// drains them.
pub(crate) async fn serve_incoming(
    incoming: Incoming,
    config: ServerConfig,
    app: Rc<App>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let shared = Rc::new(Shared::new(config, app));
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = select(shared.next_connection(&incoming), shutdown.as_mut()).await;
        match accepted {
            Either::Left(Ok((stream, peer))) => start_connection(&shared, stream, peer),
            Either::Left(Err(e)) => {
                // A refused or reset connection, mostly: the listener is fine; pause
                // so that an error cannot spin the loop, then go on.
                simmer_executor::log_error!("simmer_http", "simmer-http: accept failed: {e}");
                sleep(Duration::from_millis(10)).await;
            }
            Either::Right(()) => break,
        }
    }
    drop(incoming); // new connections are refused from here on
    shared.begin_drain();
    let deadline = shared.config.shutdown_deadline;
    if timeout(deadline, poll_fn(|cx| shared.poll_all_closed(cx)))
        .await
        .is_err()
    {
        simmer_executor::log_warn!(
            "simmer_http",
            "simmer-http: {} connection(s) still busy after {}; closing them",
            shared.open_connections(),
            Readable(deadline)
        );
    }
    Ok(())
}

/// Spawns the task that serves one accepted connection (its TLS handshake included).
fn start_connection(shared: &Rc<Shared>, stream: TcpStream, peer: SocketAddr) {
    let slot = SlotGuard {
        shared: Rc::clone(shared),
        slot: shared.open_slot(),
    };
    let _ = stream.set_nodelay(true); // responses are written whole; don't delay them
                                      // Named after the client, for slow-poll warnings and traces.
    let name = format!("conn {peer}");
    #[cfg(feature = "tls")]
    if shared.config.tls.is_some() {
        let connection = async move {
            let shared = Rc::clone(&slot.shared);
            let tls = shared.config.tls.as_ref().expect("checked above");
            serve_tls_connection(stream, peer, tls, slot).await
        };
        drop(simmer_executor::spawn_named(name, connection));
        return;
    }
    let io = Rc::new(ConnIo::new(stream, peer, shared.config.body_read_timeout));
    drop(simmer_executor::spawn_named(
        name,
        serve_connection(io, slot),
    ));
}

/// True for "the process (EMFILE) or the system (ENFILE) has no descriptor left".
pub(crate) fn out_of_descriptors(e: &io::Error) -> bool {
    // The reactor adds context and keeps the OS error as the source.
    let os_error = e.raw_os_error().or_else(|| {
        let source = std::error::Error::source(e.get_ref()?)?;
        source.downcast_ref::<io::Error>()?.raw_os_error()
    });
    matches!(os_error, Some(libc::EMFILE | libc::ENFILE))
}

/// True if running out of descriptors should be reported now: the first time, then
/// at most once a minute however often accept fails meanwhile.
pub(crate) fn say_out_of_descriptors(last_said: &Cell<Option<Instant>>) -> bool {
    let now = Instant::now();
    match last_said.get() {
        Some(said) if now.duration_since(said) < Duration::from_secs(60) => false,
        _ => {
            last_said.set(Some(now));
            true
        }
    }
}

/// How often a loop out of descriptors retries when none of its own connections close
/// (the descriptors may be held elsewhere in the process).
pub(crate) const DESCRIPTOR_RETRY: Duration = Duration::from_millis(100);

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
    /// Connections closed so far (an accept paused for descriptors waits for a change).
    closed: Cell<u64>,
    /// When running out of descriptors was last reported (once a minute at most).
    out_of_descriptors_said: Cell<Option<Instant>>,
    /// How many of this loop's connections are in their grace (see `conn.rs`).
    pub(crate) in_grace: Cell<usize>,
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
            closed: Cell::new(0),
            out_of_descriptors_said: Cell::new(None),
            in_grace: Cell::new(0),
        }
    }

    /// The next connection, once fewer than `max_connections` are open. Out of file
    /// descriptors, it pauses accepting (saying so once) until a connection closes or
    /// a retry succeeds; the clients wait in the listen backlog meanwhile.
    async fn next_connection(&self, incoming: &Incoming) -> io::Result<(TcpStream, SocketAddr)> {
        loop {
            self.slot_available().await;
            match incoming.accept().await {
                Ok(connection) => return Ok(connection),
                Err(e) if out_of_descriptors(&e) => {
                    if say_out_of_descriptors(&self.out_of_descriptors_said) {
                        simmer_executor::log_error!(
                            "simmer_http",
                            "simmer-http: out of file descriptors with {} connection(s) open \
                             ({e}); accepting paused until descriptors free up \
                             (raise the limit: ulimit -n, or LimitNOFILE= in systemd)",
                            self.open_connections()
                        );
                    }
                    let closed = self.closed.get();
                    let freed = poll_fn(|cx| {
                        if self.closed.get() != closed {
                            return Poll::Ready(());
                        }
                        *self.accept_waiter.borrow_mut() = Some(cx.waker().clone());
                        Poll::Pending
                    });
                    select(freed, sleep(DESCRIPTOR_RETRY)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Resolves once fewer than `max_connections` are open.
    async fn slot_available(&self) {
        poll_fn(|cx| {
            if self.open_connections() >= self.config.max_connections {
                *self.accept_waiter.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            Poll::Ready(())
        })
        .await
    }

    fn open_slot(&self) -> usize {
        #[cfg(feature = "metrics")]
        crate::metrics::connection_opened();
        self.connections.borrow_mut().insert(None)
    }

    /// Called when a connection ends.
    pub(crate) fn close_slot(&self, slot: usize) {
        let _was_open = self.connections.borrow_mut().try_remove(slot).is_some();
        #[cfg(feature = "metrics")]
        if _was_open {
            crate::metrics::connection_closed();
        }
        self.closed.set(self.closed.get() + 1);
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

    /// Ready once shutdown begins; until then `slot`, the waiting connection, is woken
    /// when it does.
    pub(crate) fn poll_draining(&self, slot: usize, cx: &mut Context<'_>) -> Poll<()> {
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
