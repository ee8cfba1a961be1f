//! The trace recorder without the `trace` feature: `Tracer` and `PoolTrace` are empty
//! enums, so an `Option<Tracer>` is always `None` and the compiler drops every trace
//! call and the JSON writer with it. A trace path (`SIMMER_TRACE`) is then ignored, with
//! a note (through the log shim: the `log` facade, else stderr).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub use crate::wake_source::WakeSource;

/// A loop's recorder: none can exist without the `trace` feature.
pub(crate) enum Tracer {}

/// The offload pool's recorder: none can exist either.
pub(crate) enum PoolTrace {}

impl Tracer {
    /// Says that tracing is not built in; never a recorder.
    pub(crate) fn start(path: PathBuf, _loop_name: Option<&str>) -> Option<Tracer> {
        crate::log_warn!(
            "simmer",
            "simmer: not tracing to {}: built without the trace feature",
            path.display()
        );
        None
    }

    pub(crate) fn pool(&self) -> &Arc<PoolTrace> {
        match *self {}
    }

    pub(crate) fn now(&self) -> u64 {
        match *self {}
    }

    pub(crate) fn name_task(&self, _task: u64, _name: &str) {
        match *self {}
    }

    pub(crate) fn poll(&self, _task: u64, _start: u64) {
        match *self {}
    }

    pub(crate) fn wake(&self, _task: u64, _source: WakeSource) {
        match *self {}
    }

    pub(crate) fn write(&self) -> io::Result<()> {
        match *self {}
    }

    pub(crate) fn path(&self) -> &Path {
        match *self {}
    }
}

impl PoolTrace {
    pub(crate) fn offload(&self, _thread: u64, _began: Instant) {
        match *self {}
    }
}
