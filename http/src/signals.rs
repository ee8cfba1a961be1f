//! SIGINT and SIGTERM as a future: signal-hook writes a byte into a socket pair whose
//! reading end sits on the reactor, the classic self-pipe.

use std::future::Future;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::low_level::pipe;
use simmer_reactor::Registered;

/// Registers for SIGINT and SIGTERM now (so none is missed) and returns a future that
/// resolves with the signal's name when one arrives.
pub fn shutdown_signal() -> io::Result<impl Future<Output = &'static str>> {
    let (reader, writer) = std::os::unix::net::UnixStream::pair()?;
    reader.set_nonblocking(true)?;
    let got_sigint = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(SIGINT, Arc::clone(&got_sigint))?;
    pipe::register(SIGINT, writer.try_clone()?)?;
    pipe::register(SIGTERM, writer)?;
    let mut reader = Registered::new(mio::net::UnixStream::from_std(reader))?;
    Ok(async move {
        let woken = reader.read_with(|r| r.read(&mut [0u8; 8])).await;
        match woken {
            Ok(_) if got_sigint.load(Ordering::SeqCst) => "SIGINT",
            Ok(_) => "SIGTERM",
            Err(e) => {
                simmer_executor::log_error!(
                    "simmer_http",
                    "simmer-http: waiting for signals failed: {e}"
                );
                std::future::pending().await
            }
        }
    })
}
