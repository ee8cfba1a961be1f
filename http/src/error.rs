//! Errors: protocol errors with their status, and application errors that handlers
//! return and the router turns into responses (FastAPI's `HTTPException` and
//! `exception_handler`).
//!
//! They are answered as FastAPI answers: `{"detail": "Not Found"}` for an error with a
//! message, and for a validation failure (a 422) one entry per failing field:
//! `{"detail": [{"type": "int_parsing", "loc": ["path", "item_id"], "msg": "…",
//! "input": "abc"}]}`. [`crate::Router::plain_errors`] answers with the message as
//! text instead.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;

use crate::json_string::push_string;
use crate::response::{IntoResponse, Response};
use crate::status::StatusCode;

/// An error that already knows its HTTP status and detail (FastAPI's `HTTPException`).
///
/// Returned by the parser for bad requests, by request helpers and extractors (a body
/// over the limit is 413, a field that does not validate is 422), and usable by
/// handlers: `Err(HttpError::new(404, "no such item"))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    status: StatusCode,
    message: Cow<'static, str>,
    /// For a validation failure: every field that failed.
    invalid: Vec<ValidationError>,
}

impl HttpError {
    /// An error with `status` and a message for the client (the `detail`).
    pub fn new(status: u16, message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError {
            status: StatusCode(status),
            message: message.into(),
            invalid: Vec::new(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::new(400, message)
    }

    /// 422 listing every field that failed validation.
    pub fn validation(errors: Vec<ValidationError>) -> HttpError {
        let message = match errors.first() {
            Some(first) if errors.len() == 1 => Cow::Owned(first.to_string()),
            Some(first) => Cow::Owned(format!("{first} (and {} more)", errors.len() - 1)),
            None => Cow::Borrowed("Unprocessable Entity"),
        };
        HttpError {
            status: StatusCode(422),
            message,
            invalid: errors,
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message (for a validation failure: its first field's, as one line).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The fields that failed validation (empty for other errors).
    pub fn validation_errors(&self) -> &[ValidationError] {
        &self.invalid
    }

    /// The FastAPI body: `{"detail":"…"}`, or `{"detail":[…]}` for a validation failure.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"detail\":");
        if self.invalid.is_empty() {
            push_string(&mut out, &self.message);
        } else {
            out.push('[');
            for (i, error) in self.invalid.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                error.push_json(&mut out);
            }
            out.push(']');
        }
        out.push('}');
        out
    }

    /// The message as a `text/plain` response (what [`crate::Router::plain_errors`]
    /// answers).
    pub fn to_text_response(&self) -> Response {
        Response::text(self.message.to_string()).with_status(self.status)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for HttpError {}

impl IntoResponse for HttpError {
    /// The JSON detail with the error's status. The response keeps the error, so the
    /// router can answer it as text instead, or with a registered exception handler.
    fn into_response(self) -> Response {
        let mut response = Response::json_bytes(self.to_json()).with_status(self.status);
        response.error = Some(Error::from(self));
        response
    }
}

/// Where a failing value came from, as FastAPI's `loc` says it: `["query", "limit"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loc {
    /// A name: the place (`path`, `query`, `header`, `body`) or a field.
    Name(Cow<'static, str>),
    /// A position: an index in a list, or a byte offset in a body that is not JSON.
    Index(usize),
}

/// One field that failed validation: an entry of a 422's `detail` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Pydantic's error type: `missing`, `int_parsing`, `json_invalid`…
    pub kind: Cow<'static, str>,
    /// Where: `["body", "price_cents"]`.
    pub loc: Vec<Loc>,
    /// What is wrong, for people.
    pub msg: Cow<'static, str>,
    /// The value that failed, as JSON text (`"\"abc\""`, `"12"`), or `None` for `null`.
    pub input: Option<String>,
}

impl ValidationError {
    /// An error of `kind` at `place` (`"path"`, `"query"`, `"header"`, `"body"`) and
    /// then `field`, if any.
    pub fn new(
        kind: impl Into<Cow<'static, str>>,
        place: &'static str,
        field: Option<&str>,
        msg: impl Into<Cow<'static, str>>,
    ) -> ValidationError {
        let mut loc = vec![Loc::Name(Cow::Borrowed(place))];
        if let Some(field) = field {
            loc.push(Loc::Name(Cow::Owned(field.to_string())));
        }
        ValidationError {
            kind: kind.into(),
            loc,
            msg: msg.into(),
            input: None,
        }
    }

    /// A text value that did not parse as `type_name` (`i64`, `f64`, `bool`…), with
    /// pydantic's type and message for the common types and `why` for the others.
    pub fn parsing(
        place: &'static str,
        field: &str,
        type_name: &str,
        why: &dyn fmt::Display,
    ) -> ValidationError {
        let integers = ["i8", "i16", "i32", "i64", "i128", "isize"];
        let unsigned = ["u8", "u16", "u32", "u64", "u128", "usize"];
        let (kind, msg): (&'static str, Cow<'static, str>) =
            if integers.contains(&type_name) || unsigned.contains(&type_name) {
                (
                    "int_parsing",
                    "Input should be a valid integer, unable to parse string as an integer".into(),
                )
            } else if type_name == "f32" || type_name == "f64" {
                (
                    "float_parsing",
                    "Input should be a valid number, unable to parse string as a number".into(),
                )
            } else if type_name == "bool" {
                (
                    "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input".into(),
                )
            } else {
                (
                    "value_error",
                    format!("Input should be a valid {type_name}: {why}").into(),
                )
            };
        ValidationError::new(kind, place, Some(field), msg)
    }

    /// Sets the input to a text value (it is quoted as a JSON string).
    pub fn with_text_input(mut self, input: &str) -> ValidationError {
        let mut json = String::new();
        push_string(&mut json, input);
        self.input = Some(json);
        self
    }

    /// Sets the input to JSON text as it is.
    pub fn with_json_input(mut self, json: String) -> ValidationError {
        self.input = Some(json);
        self
    }

    fn push_json(&self, out: &mut String) {
        out.push_str("{\"type\":");
        push_string(out, &self.kind);
        out.push_str(",\"loc\":[");
        for (i, part) in self.loc.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match part {
                Loc::Name(name) => push_string(out, name),
                Loc::Index(n) => {
                    let _ = write!(out, "{n}");
                }
            }
        }
        out.push_str("],\"msg\":");
        push_string(out, &self.msg);
        out.push_str(",\"input\":");
        out.push_str(self.input.as_deref().unwrap_or("null"));
        out.push('}');
    }
}

impl fmt::Display for ValidationError {
    /// `query.limit: Input should be a valid integer`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.loc.iter().enumerate() {
            let dot = if i > 0 { "." } else { "" };
            match part {
                Loc::Name(name) => write!(f, "{dot}{name}")?,
                Loc::Index(n) => write!(f, "{dot}{n}")?,
            }
        }
        write!(f, ": {}", self.msg)
    }
}

/// Any error a handler returns with `?` (like `anyhow::Error`, without a dependency).
///
/// It becomes a response in the router: by the handler registered for its type with
/// [`crate::Router::exception_handler`], as its own status if it is an [`HttpError`],
/// else as a 500 whose details go to the log, not to the client.
pub struct Error {
    inner: Box<dyn ErrorObject>,
}

/// What `Error` needs from the wrapped value: display, and access as `Any` for lookup.
/// (Not `Debug`: `Error`'s `Debug` shows the message, so a binary that never formats an
/// error with `{:?}` links no `Debug` code for the errors it answers.)
trait ErrorObject: fmt::Display + 'static {
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
    /// The message, as `Display` shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?})", self.inner.to_string())
    }
}
