//! Library messages (the slow-poll warning, accept errors, failed handlers, the access
//! log, shutdown): through the [`log`](https://docs.rs/log) facade when the `log`
//! feature is on and the application installed a logger, else on stderr as before, so
//! a learner without a logger still sees the slow-poll warning.

use std::fmt;

/// How serious a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something failed (a handler error, an accept error).
    Error,
    /// Something to fix (a slow poll).
    Warn,
    /// Worth knowing (the access log, shutdown).
    Info,
}

/// Sends one message to the installed logger under `target`, or prints it to stderr
/// when there is none (`log::max_level()` is `Off`) or the `log` feature is off.
pub fn emit(level: Level, target: &str, message: fmt::Arguments<'_>) {
    #[cfg(feature = "log")]
    if log::max_level() != log::LevelFilter::Off {
        let level = match level {
            Level::Error => log::Level::Error,
            Level::Warn => log::Level::Warn,
            Level::Info => log::Level::Info,
        };
        log::log!(target: target, level, "{message}");
        return;
    }
    let _ = (level, target);
    eprintln!("{message}");
}

/// `emit(Level::Error, target, format_args!(...))`.
#[macro_export]
macro_rules! log_error {
    ($target:expr, $($arg:tt)+) => {
        $crate::diag::emit($crate::diag::Level::Error, $target, format_args!($($arg)+))
    };
}

/// `emit(Level::Warn, target, format_args!(...))`.
#[macro_export]
macro_rules! log_warn {
    ($target:expr, $($arg:tt)+) => {
        $crate::diag::emit($crate::diag::Level::Warn, $target, format_args!($($arg)+))
    };
}

/// `emit(Level::Info, target, format_args!(...))`.
#[macro_export]
macro_rules! log_info {
    ($target:expr, $($arg:tt)+) => {
        $crate::diag::emit($crate::diag::Level::Info, $target, format_args!($($arg)+))
    };
}
