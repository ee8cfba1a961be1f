//! # simmer-http: what uvicorn and FastAPI are, on simmer
//!
//! An HTTP/1.1 server on the simmer runtime: strict request parsing (its own syntax
//! parsers, held to httparse's verdicts by tests, and RFC 9112's rules on top),
//! keep-alive and pipelining, request bodies (Content-Length and chunked, with limits
//! and `100 Continue`), streamed responses, a router with path parameters, middleware
//! with `call_next`, and errors and panics turned into responses without taking the
//! server down. [`client::Client`] is the other
//! direction: outbound requests with a keep-alive pool.
//!
//! ```no_run
//! use simmer_http::{middleware, Request, Router, Server};
//!
//! async fn hello(_req: Request) -> &'static str {
//!     "Hello, World!"
//! }
//!
//! simmer::block_on(async {
//!     let router = Router::new().get("/", hello).middleware(middleware::process_time);
//!     Server::bind("127.0.0.1:8000")?.serve(router).await
//! })
//! .unwrap();
//! ```
//!
//! How a request travels: `server.rs` accepts and spawns one task per connection;
//! `conn.rs` reads into a reused buffer and asks `parse.rs` for a head; the request
//! (`request.rs`, body in `body.rs`) goes through middleware and the router
//! (`router.rs`); the response (`response.rs`) is serialized by `write.rs` into the
//! connection's output buffer, written once per pipelined batch.
#![deny(missing_docs)]

mod background;
mod body;
mod body_buffers;
pub mod client;
mod config;
mod conn;
mod conn_io;
mod date;
mod error;
pub mod extract;
#[cfg(feature = "json")]
mod extract_fields;
#[cfg(feature = "json")]
mod extract_serde;
mod fd_limit;
#[doc(hidden)]
pub mod fuzz;
mod handler;
mod handler_sync;
pub mod health;
#[cfg(feature = "workers")]
mod inbox;
mod inline_future;
mod inline_vec;
mod json_string;
#[cfg(feature = "json")]
mod json_write;
mod listen;
#[cfg(feature = "live")]
mod live;
mod method;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod middleware;
mod parse;
pub mod percent;
mod pooled;
mod request;
mod response;
mod route_tree;
mod router;
mod select;
mod server;
#[cfg(feature = "signals")]
mod signals;
mod status;
#[cfg(feature = "workers")]
mod stop_switch;
mod testclient;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
mod type_map;
mod words;
#[cfg(feature = "workers")]
mod workers;
mod write;
#[cfg(feature = "ws")]
pub mod ws;

/// Entry points for `benches/http_parse.rs`: not part of the API.
#[doc(hidden)]
pub mod bench {
    use crate::parse::{parse_head, HeadLimits, Parsed};
    use crate::request::RequestHead;
    use crate::response::Response;
    use crate::write::{write_response, Framing};

    /// Parses and validates a head as the server does, filling a request head (a new
    /// one each time: the server reuses its connection's); returns its length (0 if
    /// incomplete or invalid).
    pub fn parse_request(buf: &[u8]) -> usize {
        let limits = HeadLimits {
            max_request_line: 8192,
            max_header_bytes: 16384,
            max_headers: 100,
        };
        let mut shared = RequestHead::empty();
        match parse_head(buf, &limits, &mut shared.parsed) {
            Parsed::Complete(head) => {
                let len = head.len;
                shared.keep_bytes(&buf[..len]);
                std::hint::black_box(shared);
                len
            }
            _ => 0,
        }
    }

    /// Appends `response` to `out` as a keep-alive HTTP/1.1 response.
    pub fn write(out: &mut Vec<u8>, response: &Response) {
        let how = Framing {
            version: crate::method::Version::Http11,
            keep_alive: true,
            head_request: false,
        };
        write_response(out, response, how);
    }

    /// Appends `value` as JSON to `out` the way `Response::json` does (the same
    /// bytes as `serde_json::to_writer`).
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
        crate::json_write::write(out, value).expect("a value that serializes as JSON");
    }
}

pub use background::{BackgroundTasks, TaskOutcome};
pub use config::ServerConfig;
pub use error::{Error, HttpError, Loc, ValidationError};
pub use extract::State;
pub use handler::{BoxFuture, Extract, Handler, Middleware, NeededState, Next};
pub use handler_sync::SyncHandler;
pub use method::{Method, Version};
pub use request::Request;
#[cfg(feature = "json")]
pub use response::Json;
pub use response::{
    Body, BodySender, BodyStream, HeaderText, IntoResponse, Response, StreamClosed,
};
pub use router::Router;
pub use server::Server;
#[cfg(feature = "signals")]
pub use signals::shutdown_signal;
pub use status::StatusCode;
pub use testclient::{TestClient, TestRequest, TestResponse};
#[cfg(feature = "workers")]
pub use workers::{Distribution, Stopper, Workers};
