//! A pool of connections: at most `max_size` open, tasks wait (with a timeout) when all
//! are busy, broken ones are discarded and replaced, idle ones are checked on checkout.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use simmer_reactor::time::timeout;

use crate::client::Client;
use crate::config::Config;
use crate::error::Error;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    config: Config,
    max_size: usize,
    acquire_timeout: Duration,
    check_after_idle: Duration,
}

impl PoolBuilder {
    /// Most connections open at once (default 10).
    pub fn max_size(mut self, n: usize) -> PoolBuilder {
        self.max_size = n.max(1);
        self
    }

    /// How long `get` waits for a free connection (default 30 s).
    pub fn acquire_timeout(mut self, limit: Duration) -> PoolBuilder {
        self.acquire_timeout = limit;
        self
    }

    /// A connection idle for longer than this is checked with an empty query before it
    /// is handed out (default 30 s).
    pub fn check_after_idle(mut self, idle: Duration) -> PoolBuilder {
        self.check_after_idle = idle;
        self
    }

    /// The pool (connections open on demand).
    pub fn build(self) -> Pool {
        Pool {
            inner: Rc::new(Inner {
                settings: self,
                idle: RefCell::new(Vec::new()),
                open: Cell::new(0),
                waiters: RefCell::new(Vec::new()),
            }),
        }
    }
}

/// A connection pool; cheap to clone (clones share the connections).
#[derive(Clone)]
pub struct Pool {
    inner: Rc<Inner>,
}

struct Inner {
    settings: PoolBuilder,
    idle: RefCell<Vec<(Client, Instant)>>,
    /// Connections open: idle, handed out, or being opened.
    open: Cell<usize>,
    waiters: RefCell<Vec<Waker>>,
}

impl Pool {
    /// Settings for a pool connecting to `url`.
    pub fn builder(url: &str) -> Result<PoolBuilder, Error> {
        Ok(PoolBuilder {
            config: Config::from_url(url)?,
            max_size: 10,
            acquire_timeout: Duration::from_secs(30),
            check_after_idle: Duration::from_secs(30),
        })
    }

    /// A pool of at most `max_size` connections to `url`.
    pub fn new(url: &str, max_size: usize) -> Result<Pool, Error> {
        Ok(Pool::builder(url)?.max_size(max_size).build())
    }

    /// A connection, opened if needed, or waited for if all `max_size` are busy.
    pub async fn get(&self) -> Result<PooledClient, Error> {
        let limit = self.inner.settings.acquire_timeout;
        match timeout(limit, self.acquire()).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(format!(
                "no database connection free within {limit:?}"
            ))),
        }
    }

    /// (open, idle) connections right now.
    pub fn status(&self) -> (usize, usize) {
        (self.inner.open.get(), self.inner.idle.borrow().len())
    }

    async fn acquire(&self) -> Result<PooledClient, Error> {
        let inner = &self.inner;
        loop {
            loop {
                // The borrow ends with this statement: the health check below awaits,
                // and other tasks return connections meanwhile.
                let next = inner.idle.borrow_mut().pop();
                let Some((mut client, since)) = next else {
                    break;
                };
                if client.is_broken() || client.closed_by_server() {
                    inner.open.set(inner.open.get() - 1);
                    continue;
                }
                if since.elapsed() >= inner.settings.check_after_idle
                    && client.batch_execute("").await.is_err()
                {
                    inner.open.set(inner.open.get() - 1);
                    continue;
                }
                return Ok(PooledClient {
                    client: Some(client),
                    pool: Rc::clone(inner),
                });
            }
            if inner.open.get() < inner.settings.max_size {
                inner.open.set(inner.open.get() + 1);
                return match Client::connect_with(&inner.settings.config).await {
                    Ok(client) => Ok(PooledClient {
                        client: Some(client),
                        pool: Rc::clone(inner),
                    }),
                    Err(e) => {
                        inner.open.set(inner.open.get() - 1);
                        inner.wake_waiters();
                        Err(e)
                    }
                };
            }
            let mut waited = false;
            poll_fn(|cx| {
                if waited {
                    return Poll::Ready(());
                }
                waited = true;
                inner.waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            })
            .await;
        }
    }
}

impl Inner {
    /// Wakes every waiting task (one that gave up must not swallow the only wake).
    fn wake_waiters(&self) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        waiters.into_iter().for_each(Waker::wake);
    }
}

/// A connection borrowed from a [`Pool`]; derefs to [`Client`] and goes back on drop
/// (or is discarded if it broke).
pub struct PooledClient {
    client: Option<Client>,
    pool: Rc<Inner>,
}

impl std::ops::Deref for PooledClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for PooledClient {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("present until drop")
    }
}

impl Drop for PooledClient {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            if client.is_broken() {
                self.pool.open.set(self.pool.open.get() - 1);
            } else {
                self.pool.idle.borrow_mut().push((client, Instant::now()));
            }
        }
        self.pool.wake_waiters();
    }
}
