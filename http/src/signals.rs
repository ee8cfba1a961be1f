//! SIGINT and SIGTERM as a future, through signal-hook-mio on the reactor.

use std::future::Future;
use std::io;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use simmer_reactor::Registered;

/// Registers for SIGINT and SIGTERM now (so none is missed) and returns a future that
/// resolves with the signal's name when one arrives.
pub fn shutdown_signal() -> io::Result<impl Future<Output = &'static str>> {
    let mut signals = Registered::new(Signals::new([SIGINT, SIGTERM])?)?;
    Ok(async move {
        let received = signals
            .read_with(|s| {
                s.pending()
                    .next()
                    .ok_or_else(|| io::ErrorKind::WouldBlock.into())
            })
            .await;
        match received {
            Ok(SIGINT) => "SIGINT",
            Ok(_) => "SIGTERM",
            Err(e) => {
                eprintln!("simmer-http: waiting for signals failed: {e}");
                std::future::pending().await
            }
        }
    })
}
