//! Interrupting a run: on Ctrl-C, SIGTERM or SIGHUP (CI systems send
//! SIGTERM on cancel and timeout) no new scenario starts and running ones
//! stop their current step; a second signal exits at once.

use crate::exit_code;

/// The signals that interrupt a run: Ctrl-C (SIGINT), SIGTERM and SIGHUP.
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Listens from now on (inside the runtime); `None` when the system
    /// refuses, in which case only the default handling remains.
    fn new() -> Option<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(Signals {
            term: signal(SignalKind::terminate()).ok()?,
            hup: signal(SignalKind::hangup()).ok()?,
        })
    }

    /// The next signal's name.
    async fn next(&mut self) -> Option<&'static str> {
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.ok().map(|()| "Ctrl-C"),
            r = self.term.recv() => r.map(|()| "SIGTERM"),
            r = self.hup.recv() => r.map(|()| "SIGHUP"),
        }
    }
}

/// What becomes true when the run is interrupted: on the first signal
/// when `handle` (listened for on `rt`), else never.
pub fn interrupt(rt: &tokio::runtime::Runtime, handle: bool) -> tokio::sync::watch::Receiver<bool> {
    let (stop, interrupt) = tokio::sync::watch::channel(false);
    if handle {
        let signals = {
            let _guard = rt.enter();
            Signals::new()
        };
        rt.spawn(async move {
            let Some(mut signals) = signals else { return };
            if let Some(name) = signals.next().await {
                eprintln!("\nconform: interrupted ({name}): no new scenario starts; running ones clean up (a second signal quits now)");
                let _ = stop.send(true);
                if signals.next().await.is_some() {
                    std::process::exit(i32::from(exit_code::INTERRUPTED));
                }
            }
        });
    } else {
        // Kept alive, never sent: runs in tests and library use are not interruptible.
        std::mem::forget(stop);
    }
    interrupt
}
