//! The open-file limit: raised once to its hard ceiling, and the connection limit that
//! follows from it.
//!
//! Every connection is a file descriptor. Linux starts most processes with a soft limit
//! of 1024 descriptors and a much higher hard limit; the soft one may be raised by the
//! process itself. Go's runtime does this at start, and so does simmer when a server is
//! configured: a server that runs out of descriptors at 1,020 connections leaves the
//! rest of the clients in the listen backlog, then retransmitting SYNs.

use std::sync::OnceLock;

/// Descriptors kept back from connections for everything else a server opens:
/// files, database connections, the reactor itself.
const RESERVED: u64 = 64;

/// The soft `RLIMIT_NOFILE` after raising it to the hard limit (once per process).
/// `None` if it cannot be read.
pub(crate) fn open_file_limit() -> Option<u64> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    *LIMIT.get_or_init(raise_to_hard_limit)
}

/// Connections a server may hold given the open-file limit: the limit less a reserve
/// (at least 1); 10,000 when the limit is unknown or unlimited.
pub(crate) fn default_max_connections() -> usize {
    match open_file_limit() {
        Some(limit) if limit < 1 << 31 => limit.saturating_sub(RESERVED).max(1) as usize,
        _ => 10_000,
    }
}

fn raise_to_hard_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own; the resource id is valid.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we own; raising the soft limit up to the
        // hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        }
    }
    Some(limit.rlim_cur)
}
