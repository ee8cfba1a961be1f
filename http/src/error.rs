//! Errors: protocol errors with their status, and application errors that handlers
//! return and the router turns into responses (FastAPI's `HTTPException` and
//! `exception_handler`).

use std::any::Any;
use std::borrow::Cow;
use std::fmt;

use crate::status::StatusCode;

/// An error that already knows its HTTP status and message (FastAPI's `HTTPException`).
///
/// Returned by the parser for bad requests, by request helpers (a body over the limit
/// is 413, invalid JSON is 422), and usable by handlers: `Err(HttpError::new(404, "no
/// such item"))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    status: StatusCode,
    message: Cow<'static, str>,
}

impl HttpError {
    /// An error with `status` and a message for the client.
    pub fn new(status: u16, message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError {
            status: StatusCode(status),
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::new(400, message)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for HttpError {}

/// Any error a handler returns with `?` (like `anyhow::Error`, without a dependency).
///
/// It becomes a response in the router: by the handler registered for its type with
/// [`crate::Router::exception_handler`], as its own status if it is an [`HttpError`],
/// else as a 500 whose details go to the log, not to the client.
pub struct Error {
    inner: Box<dyn ErrorObject>,
}

/// What `Error` needs from the wrapped value: display, and access as `Any` for lookup.
trait ErrorObject: fmt::Display + fmt::Debug + 'static {
    fn as_any(&self) -> &dyn Any;
}

impl<E: std::error::Error + 'static> ErrorObject for E {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Error {
    /// The wrapped error, if it is an `E`.
    pub fn downcast_ref<E: 'static>(&self) -> Option<&E> {
        self.inner.as_any().downcast_ref()
    }

    /// The wrapped error's `TypeId`, for looking up its handler.
    pub(crate) fn type_id(&self) -> std::any::TypeId {
        self.inner.as_any().type_id()
    }
}

impl<E: std::error::Error + 'static> From<E> for Error {
    fn from(e: E) -> Error {
        Error { inner: Box::new(e) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
