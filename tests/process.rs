//! Signals and bounded waits for the long-running processes a test starts (pathwise, nsd).
//!
//! Signals go through the `kill` program: the workspace forbids `unsafe`, and `kill(1)` is
//! everywhere the tests run (procps; `tests/setup` installs it when missing).

use std::fmt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A signal a test sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Reload the configuration.
    Hup,
    /// Stop (as Ctrl-C does).
    Int,
    /// Stop (as init systems do).
    Term,
    /// Stop now; cannot be caught.
    Kill,
}

impl Signal {
    /// The name `kill -s` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hup => "HUP",
            Self::Int => "INT",
            Self::Term => "TERM",
            Self::Kill => "KILL",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIG{}", self.name())
    }
}

/// Sends `signal` to process `pid`.
pub(crate) fn send(pid: u32, signal: Signal) -> Result<(), String> {
    let output = Command::new("kill")
        .args(["-s", signal.name(), &pid.to_string()])
        .output()
        .map_err(|e| format!("cannot run kill: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "kill -s {} {pid}: {}",
            signal.name(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Waits at most `timeout` for `child` to exit.
pub(crate) fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => return None,
        }
    }
}

/// SIGTERM, then SIGKILL when `child` has not exited within `grace`. Never panics: this runs
/// from Drop, during unwinding too. Returns the exit status when there is one.
pub(crate) fn terminate(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    if send(child.id(), Signal::Term).is_ok()
        && let Some(status) = wait_timeout(child, grace)
    {
        return Some(status);
    }
    eprintln!(
        "cleanup: pid {} ignored SIGTERM for {grace:?}; SIGKILL",
        child.id()
    );
    let _ = child.kill();
    child.wait().ok()
}
