//! SIGTERM and SIGINT: the first asks for a graceful stop, a second one ends the process at once.

use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Exit code when a second signal cuts the graceful stop short.
const FORCED_EXIT_CODE: i32 = 130;

/// Waits for the signal that asks the service to stop.
pub struct StopSignals {
    signals: Signals,
}

impl StopSignals {
    /// Installs the handlers. From now on SIGTERM/SIGINT no longer kill the process outright.
    pub fn install() -> io::Result<StopSignals> {
        let received = Arc::new(AtomicBool::new(false));
        for signal in [SIGTERM, SIGINT] {
            // Order matters: the conditional exit fires only if the flag was already set,
            // that is on the second signal.
            signal_hook::flag::register_conditional_shutdown(
                signal,
                FORCED_EXIT_CODE,
                Arc::clone(&received),
            )?;
            signal_hook::flag::register(signal, Arc::clone(&received))?;
        }
        let signals = Signals::new([SIGTERM, SIGINT])?;
        Ok(StopSignals { signals })
    }

    /// Blocks until SIGTERM or SIGINT arrives and returns its name.
    pub fn wait(&mut self) -> &'static str {
        match self.signals.forever().next() {
            Some(SIGINT) => "SIGINT",
            Some(SIGTERM) => "SIGTERM",
            _ => "a stop signal",
        }
    }
}
