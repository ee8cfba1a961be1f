//! Extractors: what a handler declares it needs, taken from the request before it runs
//! (FastAPI's typed parameters, axum's extractors).
//!
//! ```no_run
//! # #[cfg(feature = "json")] {
//! use simmer_http::extract::{Json, Path, Query};
//! use simmer_http::Router;
//!
//! #[derive(serde::Deserialize)]
//! struct Page { limit: Option<u32> }
//!
//! async fn item(Path(id): Path<i64>, Query(page): Query<Page>) -> String {
//!     format!("item {id}, limit {:?}", page.limit)
//! }
//!
//! let router = Router::new().get("/items/{id}", item);
//! # }
//! ```
//!
//! Two traits: [`FromRequestParts`] for what reads only the head (path, query,
//! headers, state), usable in any position, and [`FromRequest`] for what may consume
//! the body (`Json`, `Form`, `String`, `Vec<u8>`, `Request`), only as the last
//! argument: the body can be read once, and the type system says so. Every argument is
//! extracted even after one fails, and all validation failures are answered together.
//!
//! Extractors use only `Request`'s public accessors; anything they do, a handler
//! taking a plain `Request` can do by hand (`req.param_as("id")`, `req.json()`).

use std::any::TypeId;
use std::future::Future;
use std::ops::Deref;
use std::rc::Rc;

use crate::error::{HttpError, ValidationError};
use crate::handler::NeededState;
use crate::request::Request;
use crate::response::{IntoResponse, Response};

pub use crate::background::BackgroundTasks;
#[cfg(feature = "json")]
pub use crate::extract_serde::{Form, Header, Path, Query};
#[cfg(feature = "json")]
pub use crate::response::Json;

/// Reads what it needs from the request's head: usable as any argument.
pub trait FromRequestParts: Sized {
    /// Extracts the value, or says why not (a 422 listing the failing fields, or any
    /// other error with its status).
    fn from_request_parts(req: &Request) -> Result<Self, HttpError>;

    /// Adds the router state types this extractor reads, checked when serving starts.
    fn needed_state(needed: &mut Vec<NeededState>) {
        let _ = needed;
    }
}

/// May consume the request (its body): usable as the last argument only.
///
/// `M` tells apart the two ways of implementing it and is always inferred: types that
/// implement [`FromRequestParts`] get it through [`ViaParts`], body readers use
/// [`ViaBody`], and `Request` itself [`ViaRequest`].
pub trait FromRequest<M>: Sized {
    /// Extracts the value, reading the body if it needs to.
    fn from_request(req: Request) -> impl Future<Output = Result<Self, HttpError>> + 'static;

    /// Adds the router state types this extractor reads.
    fn needed_state(needed: &mut Vec<NeededState>) {
        let _ = needed;
    }

    /// Answers `req` with a one-argument handler taking `Self`: extracts, then calls.
    /// `Request` overrides it to call the handler at once, with nothing in between.
    fn call_with<F, Fut, R>(
        handler: &Rc<F>,
        req: Request,
    ) -> impl Future<Output = Response> + 'static
    where
        F: Fn(Self) -> Fut + 'static,
        Fut: Future<Output = R> + 'static,
        R: IntoResponse,
        Self: 'static,
    {
        let handler = Rc::clone(handler);
        async move {
            match Self::from_request(req).await {
                Ok(value) => handler(value).await.into_response(),
                Err(rejection) => rejection.into_response(),
            }
        }
    }
}

/// [`FromRequest`] marker: the extractor reads the head only.
#[derive(Debug)]
pub struct ViaParts;

/// [`FromRequest`] marker: the extractor reads the body.
#[derive(Debug)]
pub struct ViaBody;

/// [`FromRequest`] marker: the handler takes the whole `Request`.
#[derive(Debug)]
pub struct ViaRequest;

impl<T: FromRequestParts + 'static> FromRequest<ViaParts> for T {
    fn from_request(req: Request) -> impl Future<Output = Result<Self, HttpError>> + 'static {
        std::future::ready(T::from_request_parts(&req))
    }

    fn needed_state(needed: &mut Vec<NeededState>) {
        T::needed_state(needed);
    }
}

impl FromRequest<ViaRequest> for Request {
    fn from_request(req: Request) -> impl Future<Output = Result<Self, HttpError>> + 'static {
        std::future::ready(Ok(req))
    }

    /// The plain handler: called at once, its future awaited as it is.
    fn call_with<F, Fut, R>(
        handler: &Rc<F>,
        req: Request,
    ) -> impl Future<Output = Response> + 'static
    where
        F: Fn(Request) -> Fut + 'static,
        Fut: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        crate::handler::Responding(handler(req))
    }
}

/// The whole body as UTF-8 text (400 if it is not UTF-8, 413 over the limit).
impl FromRequest<ViaBody> for String {
    async fn from_request(mut req: Request) -> Result<Self, HttpError> {
        req.text().await
    }
}

/// The whole body as bytes (413 over the limit).
impl FromRequest<ViaBody> for Vec<u8> {
    async fn from_request(mut req: Request) -> Result<Self, HttpError> {
        req.body().await
    }
}

/// An extractor that may be absent: `None` instead of a rejection.
impl<T: FromRequestParts> FromRequestParts for Option<T> {
    fn from_request_parts(req: &Request) -> Result<Self, HttpError> {
        Ok(T::from_request_parts(req).ok())
    }
}

/// Router state registered with [`crate::Router::state`] (axum's `State`, FastAPI's
/// dependencies): `State(db): State<Db>`. A handler asking for a type the router was
/// never given makes [`crate::Server::serve`] fail at start-up, naming the type and
/// the route; it is never a panic at request time.
pub struct State<T>(pub Rc<T>);

impl<T> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: 'static> FromRequestParts for State<T> {
    fn from_request_parts(req: &Request) -> Result<Self, HttpError> {
        req.shared_state::<T>().map(State).ok_or_else(|| {
            // Unreachable once the router checked its handlers; kept as an answer
            // rather than a panic for a router built some other way.
            HttpError::new(
                500,
                format!("no state of type {}", std::any::type_name::<T>()),
            )
        })
    }

    fn needed_state(needed: &mut Vec<NeededState>) {
        needed.push((TypeId::of::<T>(), std::any::type_name::<T>()));
    }
}

/// Collects extraction failures across a handler's arguments: every validation error
/// from every argument, or the first other error (a 413 or a broken body wins over
/// field errors: there is nothing to validate).
#[derive(Default)]
pub(crate) struct Rejections {
    invalid: Vec<ValidationError>,
    other: Option<HttpError>,
}

impl Rejections {
    /// The value, or `None` after recording why not.
    pub(crate) fn keep<T>(&mut self, extracted: Result<T, HttpError>) -> Option<T> {
        match extracted {
            Ok(value) => Some(value),
            Err(error) if error.validation_errors().is_empty() => {
                self.other.get_or_insert(error);
                None
            }
            Err(error) => {
                self.invalid.extend_from_slice(error.validation_errors());
                None
            }
        }
    }

    /// The answer for the failures recorded.
    pub(crate) fn into_response(self) -> Response {
        match self.other {
            Some(error) => error.into_response(),
            None => HttpError::validation(self.invalid).into_response(),
        }
    }
}
