//! Workers: one server on N threads, each its own single-threaded loop.
//!
//! uvicorn scales with `--workers N` processes, each with its own event loop; actix-web
//! runs one single-threaded runtime per thread. simmer does the same with threads: each
//! worker has its own executor, reactor, timers and router, built on that thread by the
//! factory you pass, so nothing on the request path is shared, locked or `Send`. Only
//! the offload pool is shared (one bound for the process), and the stop switch.
//!
//! Connections reach workers in one of two ways ([`Distribution`]): one acceptor thread
//! deals accepted sockets round-robin into each worker's inbox, or every worker has its
//! own `SO_REUSEPORT` listener and the kernel picks one by a hash of the client's
//! address. The thread that calls [`Workers::serve`] supervises: it waits for SIGINT or
//! SIGTERM (then marks the server as draining, keeps accepting for `drain_grace`, and
//! stops every worker, each draining its in-flight requests) or for a worker to die
//! (then reports it, stops the others and returns an error).

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

use simmer_executor::{Config, Executor, OffloadPool};
use simmer_reactor::net::TcpListener;
use simmer_reactor::time::sleep;
use simmer_reactor::Reactor;

use crate::config::ServerConfig;
use crate::health::DrainState;
use crate::inbox::Inbox;
use crate::router::Router;
use crate::select::{select, Either};
use crate::server::{serve_incoming, Incoming, Server};
use crate::stop_switch::StopSwitch;
use simmer_executor::{log_error, log_info};
use simmer_reactor::time::Readable;

/// How accepted connections are spread over the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// One acceptor thread accepts every connection and deals them round-robin into
    /// the workers' inboxes (actix-web's way): even spread whatever the clients, for
    /// one extra thread and one cross-thread wake per connection. The default.
    Acceptor,
    /// Each worker has its own listening socket on the port (`SO_REUSEPORT`) and the
    /// kernel picks one per connection by a hash of the client's address and port: no
    /// thread in between, but a few clients can land unevenly (two of four keep-alive
    /// connections on one worker is common).
    ReusePort,
}

/// A server on several worker threads: made by [`Server::workers`], started by
/// [`Workers::serve`].
///
/// ```no_run
/// use simmer_http::{Request, Router, Server};
///
/// async fn hello(_req: Request) -> &'static str {
///     "Hello, World!"
/// }
///
/// fn main() -> std::io::Result<()> {
///     // Each worker calls the closure on its own thread: a `Router` and its state are
///     // `!Send` and never leave that thread. Share state through an `Arc` it clones.
///     Server::bind("127.0.0.1:8000")?
///         .workers(4)
///         .serve(|| Router::new().get("/", hello))
/// }
/// ```
pub struct Workers {
    /// The std socket and settings, or why the server cannot run on workers.
    server: io::Result<(std::net::TcpListener, ServerConfig)>,
    count: usize,
    distribution: Distribution,
    pin_to_cores: bool,
    runtime: Config,
    requests: StopRequests,
    /// Flipped by the supervisor once the grace is over: every worker stops accepting.
    stop: StopSwitch,
}

/// Asking the server to stop, from a signal or a [`Stopper`]: the first request marks
/// the server as draining and starts `drain_grace`; a second one ends the grace at once.
#[derive(Clone)]
struct StopRequests {
    drain: DrainState,
    /// Flipped by the first request (one seat: the supervisor).
    first: StopSwitch,
    /// Flipped by the second request (one seat: the supervisor, during the grace).
    second: StopSwitch,
}

impl StopRequests {
    fn new(drain: DrainState) -> StopRequests {
        StopRequests {
            drain,
            first: StopSwitch::new(1),
            second: StopSwitch::new(1),
        }
    }

    fn request(&self) {
        self.drain.begin();
        if !self.first.stop() {
            self.second.stop();
        }
    }
}

/// Stops a running [`Workers::serve`] as a signal would: made by [`Workers::stopper`],
/// usable from any thread.
#[derive(Clone)]
pub struct Stopper {
    requests: StopRequests,
}

impl Stopper {
    /// Begins the graceful shutdown, as SIGTERM does: the server's
    /// [`DrainState`] says draining from the moment this returns (so the health
    /// handler answers 503 on every worker), the workers go on accepting for
    /// `drain_grace`, then stop accepting and drain their in-flight requests, and
    /// `serve` returns. Called again during the grace, it ends the grace at once.
    pub fn stop(&self) {
        self.requests.request();
    }
}

impl std::fmt::Debug for Stopper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stopper")
    }
}

impl Workers {
    pub(crate) fn new(server: Server, count: usize) -> Workers {
        let count = match count {
            0 => available_cores(),
            n => n,
        };
        let drain = server.drain_state();
        Workers {
            server: server
                .into_parts()
                .map(|(listener, config, _)| (listener, config)),
            count,
            distribution: Distribution::Acceptor,
            pin_to_cores: false,
            runtime: Config::default(),
            requests: StopRequests::new(drain),
            // Seats: the workers, then the acceptor.
            stop: StopSwitch::new(count + 1),
        }
    }

    /// A handle that stops the workers from another thread (tests, embedders).
    pub fn stopper(&self) -> Stopper {
        Stopper {
            requests: self.requests.clone(),
        }
    }

    /// The flag [`crate::health::handler`] reads, shared by every worker: the same as
    /// [`Server::drain_state`] before `workers` was called. It is set when the
    /// graceful shutdown begins, then for `drain_grace` every worker goes on accepting
    /// and serving while the health route answers `503 draining`, so that a load
    /// balancer takes the server out before it stops accepting.
    ///
    /// ```no_run
    /// use simmer_http::{health, Router, Server};
    ///
    /// let workers = Server::bind("127.0.0.1:8000")?.workers(2);
    /// let drain = workers.drain_state();
    /// workers.serve(move || Router::new().get("/health", health::handler(drain.clone())))
    /// # ; Ok::<(), std::io::Error>(())
    /// ```
    pub fn drain_state(&self) -> DrainState {
        self.requests.drain.clone()
    }

    /// How connections reach the workers (default [`Distribution::Acceptor`]).
    pub fn distribution(mut self, distribution: Distribution) -> Workers {
        self.distribution = distribution;
        self
    }

    /// Pins worker `i` to CPU `i` (modulo the CPUs this process may use). Off by
    /// default: on a machine shared with other programs, pinning can leave a worker
    /// waiting for a busy core while another sits idle.
    pub fn pin_to_cores(mut self, pin: bool) -> Workers {
        self.pin_to_cores = pin;
        self
    }

    /// The executor settings of every worker (slow-poll threshold, trace, offload
    /// bound). Each worker's loop is named `simmer-worker-N` in slow-poll warnings and
    /// stats; with a trace path, every worker writes its rows into that one file, a
    /// thread row per worker named after it, on one clock.
    pub fn runtime_config(mut self, config: Config) -> Workers {
        self.runtime = config;
        self
    }

    /// How many workers will run.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Starts the workers, each calling `factory` on its own thread for its router, and
    /// blocks until they have all stopped. Call it outside a runtime (from `main`).
    ///
    /// SIGINT or SIGTERM (with the `signals` feature), or [`Stopper::stop`], begins
    /// the graceful shutdown: the [`DrainState`] says draining at once, every worker
    /// goes on accepting for `drain_grace` (a second signal or stop ends the grace
    /// early), then stops accepting and drains its in-flight requests within
    /// `shutdown_deadline`, and `serve` returns `Ok(())`. If a worker dies (its factory or its loop panics, or its
    /// runtime cannot start), the others are stopped the same way and `serve` returns
    /// an error naming the worker, so that the program exits non-zero rather than
    /// serving on fewer workers than it was asked for.
    ///
    /// With one worker the server runs on the calling thread, exactly as
    /// `Server::serve` inside a runtime would.
    pub fn serve<F>(self, factory: F) -> io::Result<()>
    where
        F: Fn() -> Router + Send + Sync + 'static,
    {
        self.serve_with(move || std::future::ready(Ok(factory())))
    }

    /// Like [`Workers::serve`], for a router that needs async setup on its worker's
    /// loop (a database connection per worker): `factory` returns a future of the
    /// router. An error from it stops the server as a dead worker does.
    pub fn serve_with<F, Fut>(self, factory: F) -> io::Result<()>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = io::Result<Router>> + 'static,
    {
        let Workers {
            server,
            count,
            distribution,
            pin_to_cores,
            runtime,
            requests,
            stop,
        } = self;
        let (listener, config) = server?;
        if count == 1 && !pin_to_cores {
            let reactor = Reactor::new()?;
            let executor = Executor::new(Box::new(reactor.park()), runtime);
            let _entered = reactor.handle().enter();
            return executor.block_on(async move {
                let asked = stop_asked(&requests, "shutting down gracefully".into())?;
                let grace = config.drain_grace;
                let shutdown = async move {
                    asked.await;
                    drain_grace(grace, &requests).await;
                };
                let listener = TcpListener::from_std(listener)?;
                let app = factory().await?.into_app()?;
                serve_incoming(Incoming::Listener(listener), config, app, shutdown).await
            });
        }
        let supervisor = Supervisor::start()?;
        let grace = config.drain_grace;
        supervisor.run(requests, stop, count, grace, |stop, exits| {
            let per_worker = ServerConfig {
                max_connections: config.max_connections.div_ceil(count),
                ..config
            };
            let pool = OffloadPool::new(runtime.offload_max_threads, runtime.offload_idle_timeout);
            let factory = Arc::new(factory);
            let mut threads = Vec::with_capacity(count + 1);
            let sources: Vec<Source> = match distribution {
                Distribution::ReusePort => reuse_port_listeners(listener, count)?
                    .into_iter()
                    .map(Source::Listener)
                    .collect(),
                Distribution::Acceptor => {
                    let inboxes: Vec<Arc<Inbox>> = (0..count).map(|_| Arc::default()).collect();
                    let acceptor = Acceptor {
                        listener,
                        inboxes: inboxes.clone(),
                        stop: stop.clone(),
                        seat: count,
                    };
                    let config = thread_config(&runtime, "simmer-acceptor");
                    let pool = pool.clone();
                    threads.push(spawn_thread(Who::Acceptor, exits, move || {
                        run_loop(config, &pool, acceptor.run())
                    })?);
                    inboxes.into_iter().map(Source::Inbox).collect()
                }
            };
            for (number, source) in sources.into_iter().enumerate() {
                let name = format!("simmer-worker-{number}");
                let config = thread_config(&runtime, &name);
                let (pool, factory, stop) = (pool.clone(), Arc::clone(&factory), stop.clone());
                let settings = per_worker.clone();
                threads.push(spawn_thread(Who::Worker(number), exits, move || {
                    if pin_to_cores {
                        pin_to_core(number);
                    }
                    run_loop(config, &pool, async move {
                        let router = factory().await?;
                        let incoming = source.register()?;
                        serve_incoming(incoming, settings, router.into_app()?, stop.stopped(number))
                            .await
                    })
                })?);
            }
            Ok(threads)
        })
    }
}

/// SIGINT or SIGTERM, by name; never, without the `signals` feature.
fn shutdown_signal() -> io::Result<impl std::future::Future<Output = &'static str>> {
    #[cfg(feature = "signals")]
    return crate::signals::shutdown_signal();
    #[cfg(not(feature = "signals"))]
    Ok(std::future::pending::<&'static str>())
}

/// Resolves at the first stop request: a signal (logged with `what`, then counted as
/// a request) or a [`Stopper`]. Registers for signals now, so none is missed.
fn stop_asked(
    requests: &StopRequests,
    what: String,
) -> io::Result<impl std::future::Future<Output = ()>> {
    let signal = shutdown_signal()?;
    let requests = requests.clone();
    Ok(async move {
        if let Either::Left(name) = select(signal, requests.first.stopped(0)).await {
            log_info!("simmer_http", "simmer-http: {name} received: {what}");
            requests.request();
        }
    })
}

/// After the first stop request: the server says draining (health answers 503) and
/// goes on accepting for `grace`, or until a second request (signal or `Stopper`).
async fn drain_grace(grace: Duration, requests: &StopRequests) {
    if grace.is_zero() {
        return;
    }
    log_info!(
        "simmer_http",
        "simmer-http: draining: accepting for {} more (stop again to end this now)",
        Readable(grace)
    );
    let again = async {
        // A signal that cannot be waited for leaves only the `Stopper`.
        let signal = async {
            match shutdown_signal() {
                Ok(signal) => signal.await,
                Err(_) => std::future::pending().await,
            }
        };
        select(signal, requests.second.stopped(0)).await
    };
    if let Either::Right(_) = select(sleep(grace), again).await {
        log_info!("simmer_http", "simmer-http: asked again: draining ends now");
    }
}

/// Who a thread is, in reports.
#[derive(Debug, Clone, Copy)]
enum Who {
    Worker(usize),
    Acceptor,
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::Worker(n) => write!(f, "worker {n} (thread simmer-worker-{n})"),
            Who::Acceptor => f.write_str("the acceptor (thread simmer-acceptor)"),
        }
    }
}

/// How a thread ended: `Err` holds what went wrong.
type Outcome = Result<(), String>;

/// Where threads report their end, for the supervisor.
#[derive(Default)]
struct Exits {
    state: Mutex<ExitsState>,
}

#[derive(Default)]
struct ExitsState {
    ended: Vec<(Who, Outcome)>,
    waiter: Option<Waker>,
}

impl Exits {
    fn report(&self, who: Who, outcome: Outcome) {
        let waiter = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.ended.push((who, outcome));
            state.waiter.take()
        };
        if let Some(waker) = waiter {
            waker.wake();
        }
    }

    async fn next(&self) -> (Who, Outcome) {
        poll_fn(|cx| {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if !state.ended.is_empty() {
                return Poll::Ready(state.ended.remove(0));
            }
            state.waiter = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// The calling thread's part: its own small loop that waits for a signal or a death.
struct Supervisor {
    reactor: Reactor,
    executor: Executor,
}

impl Supervisor {
    fn start() -> io::Result<Supervisor> {
        let reactor = Reactor::new()?;
        let config = Config {
            trace_path: None,
            ..Config::default()
        };
        let executor = Executor::new(Box::new(reactor.park()), config);
        Ok(Supervisor { reactor, executor })
    }

    /// Registers for signals, lets `spawn` start the threads, then waits: for a stop
    /// request (draining, `grace`, stop everyone, wait, `Ok`) or a thread's end (report
    /// it, stop the rest, `Err`).
    fn run(
        self,
        requests: StopRequests,
        stop: StopSwitch,
        count: usize,
        grace: Duration,
        spawn: impl FnOnce(&StopSwitch, &Arc<Exits>) -> io::Result<Vec<JoinHandle<()>>>,
    ) -> io::Result<()> {
        let _entered = self.reactor.handle().enter();
        let result = self.executor.block_on(async {
            let what = format!("stopping {count} worker(s) gracefully");
            let asked = stop_asked(&requests, what)?;
            let exits = Arc::new(Exits::default());
            let threads = match spawn(&stop, &exits) {
                Ok(threads) => threads,
                Err(e) => {
                    stop.stop();
                    return Err(e);
                }
            };
            let mut running = threads.len();
            let mut failure = None;
            let mut died = |(who, outcome): (Who, Outcome)| {
                running -= 1;
                let why = outcome
                    .err()
                    .unwrap_or_else(|| "stopped on its own".to_string());
                log_error!(
                    "simmer_http",
                    "simmer-http: {who} died: {why}; stopping the others"
                );
                failure = Some(format!("{who} died: {why}"));
            };
            match select(asked, exits.next()).await {
                Either::Left(()) => {
                    // Accepting goes on through the grace, unless a worker dies in it.
                    if let Either::Right(end) =
                        select(drain_grace(grace, &requests), exits.next()).await
                    {
                        died(end);
                    }
                }
                Either::Right(end) => {
                    requests.drain.begin();
                    died(end);
                }
            }
            stop.stop();
            while running > 0 {
                let (who, outcome) = exits.next().await;
                running -= 1;
                if let Err(why) = outcome {
                    log_error!(
                        "simmer_http",
                        "simmer-http: {who} failed while stopping: {why}"
                    );
                    failure.get_or_insert(format!("{who} failed: {why}"));
                }
            }
            for thread in threads {
                let _ = thread.join();
            }
            match failure {
                None => Ok(()),
                Some(why) => Err(io::Error::other(why)),
            }
        });
        result
    }
}

/// A worker's connections before its loop runs: `Send`, unlike what it becomes.
enum Source {
    Listener(std::net::TcpListener),
    Inbox(Arc<Inbox>),
}

impl Source {
    /// On the worker's thread: registers the listener with its reactor.
    fn register(self) -> io::Result<Incoming> {
        Ok(match self {
            Source::Listener(l) => Incoming::Listener(TcpListener::from_std(l)?),
            Source::Inbox(inbox) => Incoming::Inbox(inbox),
        })
    }
}

/// The acceptor thread's job: accept on the one listener, deal round-robin.
struct Acceptor {
    listener: std::net::TcpListener,
    inboxes: Vec<Arc<Inbox>>,
    stop: StopSwitch,
    seat: usize,
}

impl Acceptor {
    async fn run(self) -> io::Result<()> {
        let listener = TcpListener::from_std(self.listener)?;
        let mut next = 0;
        let out_of_descriptors_said = std::cell::Cell::new(None);
        loop {
            match select(listener.accept_std(), self.stop.stopped(self.seat)).await {
                Either::Left(Ok((stream, peer))) => {
                    self.inboxes[next].push(stream, peer);
                    next = (next + 1) % self.inboxes.len();
                }
                Either::Left(Err(e)) if crate::server::out_of_descriptors(&e) => {
                    if crate::server::say_out_of_descriptors(&out_of_descriptors_said) {
                        log_error!(
                            "simmer_http",
                            "simmer-http: out of file descriptors ({e}); accepting paused \
                             until descriptors free up (raise the limit: ulimit -n)"
                        );
                    }
                    sleep(crate::server::DESCRIPTOR_RETRY).await;
                }
                Either::Left(Err(e)) => {
                    log_error!("simmer_http", "simmer-http: accept failed: {e}");
                    sleep(Duration::from_millis(10)).await;
                }
                Either::Right(()) => return Ok(()),
            }
        }
    }
}

/// Starts a named thread whose end, normal or not, is reported to `exits`.
fn spawn_thread(
    who: Who,
    exits: &Arc<Exits>,
    body: impl FnOnce() -> io::Result<()> + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    let exits = Arc::clone(exits);
    let name = match who {
        Who::Worker(n) => format!("simmer-worker-{n}"),
        Who::Acceptor => "simmer-acceptor".to_string(),
    };
    std::thread::Builder::new().name(name).spawn(move || {
        let outcome = match catch_unwind(AssertUnwindSafe(body)) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(payload) => Err(format!("panicked: {}", panic_text(payload.as_ref()))),
        };
        exits.report(who, outcome);
    })
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a non-text panic payload)".to_string()
    }
}

/// Runs `future` on a new loop on this thread (reactor, executor, the shared pool).
fn run_loop(
    config: Config,
    pool: &OffloadPool,
    future: impl std::future::Future<Output = io::Result<()>>,
) -> io::Result<()> {
    let reactor = Reactor::new()?;
    let executor = Executor::with_offload_pool(Box::new(reactor.park()), config, pool);
    let _entered = reactor.handle().enter();
    executor.block_on(future)
}

/// A thread's executor settings: named after the thread (the trace file is shared).
fn thread_config(base: &Config, name: &str) -> Config {
    Config {
        name: Some(name.to_string()),
        ..base.clone()
    }
}

/// `count` listeners sharing the port of `first` (which is one of them).
fn reuse_port_listeners(
    first: std::net::TcpListener,
    count: usize,
) -> io::Result<Vec<std::net::TcpListener>> {
    crate::listen::allow_port_sharing(&first)?;
    let addr: SocketAddr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..count {
        listeners.push(crate::listen::bind_one(addr, true)?);
    }
    Ok(listeners)
}

/// The cores this process may run on (`available_parallelism`), at least 1.
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Pins the calling thread to the `number`-th CPU it is allowed on (best effort: a
/// failure leaves it unpinned).
fn pin_to_core(number: usize) {
    // SAFETY: cpu_set_t is plain data; zeroed is a valid empty set. The calls read
    // and write only the set we own, for the calling thread (pid 0).
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        if libc::sched_getaffinity(0, size, &mut allowed) != 0 {
            return;
        }
        let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &allowed))
            .collect();
        if cpus.is_empty() {
            return;
        }
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpus[number % cpus.len()], &mut one);
        libc::sched_setaffinity(0, size, &one);
    }
}
