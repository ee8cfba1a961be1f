//! What made a task runnable: recorded in the trace and the live page's ring.

/// What made a task runnable, as recorded in the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeSource {
    /// Another task (or the task itself) on the loop thread.
    Task,
    /// A socket became ready.
    Io,
    /// A timer fired.
    Timer,
    /// Another thread: the offload pool or a user's thread.
    Remote,
    /// The task yielded and was requeued after the I/O check.
    Yield,
}

impl WakeSource {
    /// The name written in traces.
    #[cfg(feature = "trace")]
    pub(crate) fn label(self) -> &'static str {
        match self {
            WakeSource::Task => "task",
            WakeSource::Io => "io",
            WakeSource::Timer => "timer",
            WakeSource::Remote => "other thread",
            WakeSource::Yield => "yield",
        }
    }
}
