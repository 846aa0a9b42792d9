//! The signals that stop `postsource serve`: Ctrl-C (SIGINT) and, on unix, SIGTERM,
//! which `kill`, systemd, container runtimes and test harnesses send. Both shut
//! down gracefully; unhandled, SIGTERM would kill the process mid-chunk.

use std::io;

/// The stop signals, caught from [`Stop::listen`] on.
pub(super) struct Stop {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Stop {
    /// Installs the handlers now, so that a signal sent as soon as the address is
    /// printed is caught rather than left to its default action.
    pub(super) fn listen() -> io::Result<Stop> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Stop {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Stop {})
    }

    /// Waits for the next stop signal; the exit status of a process that it would
    /// have killed (130 for SIGINT, 143 for SIGTERM), or `None` when signals can no
    /// longer be received.
    pub(super) async fn next(&mut self) -> Option<i32> {
        #[cfg(unix)]
        {
            tokio::select! {
                got = self.interrupt.recv() => got.map(|()| 130),
                got = self.terminate.recv() => got.map(|()| 143),
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await.ok().map(|()| 130)
    }
}
