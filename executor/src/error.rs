//! Why a task or an offloaded job produced no value.

use std::any::Any;
use std::fmt;

/// Why a task or offloaded job produced no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The task's future (or the offloaded closure) panicked; this is the panic message.
    Panic(String),
    /// The task was aborted with [`JoinHandle::abort`](crate::JoinHandle::abort) or its
    /// runtime shut down.
    Aborted,
    /// `offload` was called outside a simmer runtime, so there was no pool to run it.
    NoRuntime,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panic(msg) => write!(f, "task panicked: {msg}"),
            JoinError::Aborted => f.write_str("task was aborted"),
            JoinError::NoRuntime => f.write_str(
                "offload was called outside a simmer runtime; call it from a task or future \
                 driven by simmer::block_on",
            ),
        }
    }
}

impl std::error::Error for JoinError {}

/// Turns a panic payload into the message users see in `JoinError::Panic`.
pub(crate) fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "task panicked with a non-string payload".to_string()
    }
}
