//! # simmer-http: what uvicorn and FastAPI are, on simmer
//!
//! An HTTP/1.1 server on the simmer runtime: strict request parsing (httparse for the
//! syntax, RFC 9112's rules on top), keep-alive and pipelining, request bodies
//! (Content-Length and chunked, with limits and `100 Continue`), streamed responses,
//! a router with path parameters, middleware with `call_next`, and errors and panics
//! turned into responses without taking the server down.
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

mod body;
mod config;
mod conn;
mod conn_io;
mod date;
mod error;
mod handler;
mod inline_vec;
mod method;
pub mod middleware;
mod parse;
pub mod percent;
mod request;
mod response;
mod router;
mod select;
mod server;
#[cfg(feature = "signals")]
mod signals;
mod status;
mod write;

pub use config::ServerConfig;
pub use error::{Error, HttpError};
pub use handler::{BoxFuture, Handler, Middleware, Next};
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
