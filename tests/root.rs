//! Tests that need root: without it they cannot make their check, and say so (see
//! [`cannot_check`]).

use crate::unchecked::cannot_check;

/// True when the process runs as root. Otherwise the test should return early: this reports
/// that it could not make its check (see [`cannot_check`]: a failure under `CI=true`) and
/// returns false.
pub fn require_root(test_name: &str) -> bool {
    require_root_for(test_name, "network namespaces, files under /etc/netns")
}

/// [`require_root`] for a test that needs root for `needs` (a port below 1024, `setpriv`...).
pub fn require_root_for(test_name: &str, needs: &str) -> bool {
    if effective_uid() == Some(0) {
        return true;
    }
    cannot_check(test_name, &format!("needs root ({needs})"));
    false
}

/// The effective user id, from `/proc/self/status` (`Uid: real effective saved fs`).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}
