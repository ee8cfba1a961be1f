//! A readiness route for load balancers: `200 ok` while the server serves, `503
//! draining` once it has begun a graceful shutdown, so a balancer that checks it stops
//! sending new requests while the in-flight ones finish. Set
//! [`crate::ServerConfig::drain_grace`] to how long the balancer needs to notice (its
//! check interval times its fall count): for that long after the shutdown signal the
//! server keeps accepting and serving, with this route answering 503.
//!
//! ```no_run
//! use simmer_http::{health, Router, Server};
//!
//! simmer::block_on(async {
//!     let server = Server::bind("127.0.0.1:8000")?;
//!     let router = Router::new().get("/health", health::handler(server.drain_state()));
//!     server.serve(router).await
//! })
//! .unwrap();
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::handler::{BoxFuture, Handler};
use crate::request::Request;
use crate::response::Response;
use crate::status::StatusCode;

/// Whether a server has begun draining. [`crate::Server::drain_state`] hands one out;
/// clones share the same flag (across threads too), and it never goes back.
#[derive(Debug, Clone, Default)]
pub struct DrainState(Arc<AtomicBool>);

impl DrainState {
    /// True once the server has begun its graceful shutdown.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Marks the server as draining.
    pub(crate) fn begin(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The readiness handler: `200 ok` normally, `503 draining` (with `Retry-After: 1`)
/// once `state` says the server is draining.
pub fn handler(state: DrainState) -> impl Handler {
    Health(state)
}

struct Health(DrainState);

impl Handler for Health {
    fn call(&self, _req: Request) -> BoxFuture {
        let response = if self.0.is_draining() {
            Response::text("draining")
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
                .with_header("retry-after", "1")
        } else {
            Response::text("ok")
        };
        Box::pin(std::future::ready(response))
    }
}
