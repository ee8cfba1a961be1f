//! Errors: the server's (with SQLSTATE, message, detail, hint) and the client's own.

use std::fmt;
use std::io;

/// What the server said went wrong (an `ErrorResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbError {
    /// `ERROR`, `FATAL`, ...
    pub severity: String,
    /// The SQLSTATE code, e.g. `42601` for a syntax error, `23505` for a unique violation.
    pub code: String,
    /// The primary message.
    pub message: String,
    /// Optional detail.
    pub detail: Option<String>,
    /// Optional hint.
    pub hint: Option<String>,
}

/// An error from the PostgreSQL client.
#[derive(Debug)]
pub enum Error {
    /// The server rejected the statement, the login or the connection.
    Db(DbError),
    /// The connection URL or configuration is invalid.
    Config(String),
    /// No connection could be made (refused, unreachable, name not found).
    Connect(io::Error),
    /// The connect timeout or the pool's acquire timeout passed.
    Timeout(String),
    /// The connection broke (server shut down, network error).
    Io(io::Error),
    /// The server's messages did not follow the protocol.
    Protocol(String),
    /// A value could not be converted (NULL into a non-`Option`, wrong type, bad index).
    Conversion(String),
}

impl Error {
    /// The SQLSTATE code, when the server reported the error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Db(db) => Some(&db.code),
            _ => None,
        }
    }

    /// The server's error, if this is one.
    pub fn as_db_error(&self) -> Option<&DbError> {
        match self {
            Error::Db(db) => Some(db),
            _ => None,
        }
    }

    /// True if the connection can no longer be used.
    pub(crate) fn breaks_connection(&self) -> bool {
        match self {
            Error::Io(_) | Error::Protocol(_) | Error::Timeout(_) => true,
            Error::Db(db) => db.severity == "FATAL" || db.severity == "PANIC",
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Db(db) => {
                write!(f, "{} {}: {}", db.severity, db.code, db.message)?;
                if let Some(detail) = &db.detail {
                    write!(f, " (detail: {detail})")?;
                }
                if let Some(hint) = &db.hint {
                    write!(f, " (hint: {hint})")?;
                }
                Ok(())
            }
            Error::Config(why) => write!(f, "invalid configuration: {why}"),
            Error::Connect(e) => write!(f, "could not connect to the database: {e}"),
            Error::Timeout(what) => write!(f, "timed out: {what}"),
            Error::Io(e) => write!(f, "database connection error: {e}"),
            Error::Protocol(why) => write!(f, "protocol error: {why}"),
            Error::Conversion(why) => write!(f, "conversion error: {why}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect(e) | Error::Io(e) => Some(e),
            _ => None,
        }
    }
}
