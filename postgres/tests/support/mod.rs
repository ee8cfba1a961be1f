//! Shared by the database tests: where the server is, and a runtime.
#![allow(dead_code)]

use std::io::Write as _;

/// `DATABASE_URL`, or `None` (with a note) when it is not set. Under CI it must be.
pub fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("DATABASE_URL must be set under CI (.ci/run sets it)")
        }
        Err(_) => {
            // Written to stderr directly: the test harness hides eprintln! of passing tests.
            let _ = writeln!(std::io::stderr(), "SKIPPED: DATABASE_URL is not set (bash .ci/postgres.sh starts a server and prints it)");
            None
        }
    }
}

/// A runtime without slow-poll warnings (a test may block on purpose).
pub fn rt() -> simmer::Runtime {
    simmer::Runtime::builder()
        .no_slow_poll_warnings()
        .build()
        .unwrap()
}
