//! Tests that need root skip themselves outside CI and fail inside it.

/// True when the process runs as root. Otherwise the test should return early: this prints
/// why on stderr and returns false, unless the environment says `CI=true`, where it panics,
/// because in CI a test may not skip itself.
pub fn require_root(test_name: &str) -> bool {
    require_root_for(test_name, "network namespaces, files under /etc/netns")
}

/// [`require_root`] for a test that needs root for `needs` (a port below 1024, `setpriv`...).
pub fn require_root_for(test_name: &str, needs: &str) -> bool {
    if effective_uid() == Some(0) {
        return true;
    }
    let why = format!(
        "{test_name} needs root ({needs}); \
         run the tests as root, e.g. `sudo -E cargo nextest run -p pathwise-tests`"
    );
    if in_ci() {
        panic!("{why}; CI=true, where a test may not skip itself");
    }
    eprintln!("skipped: {why}");
    false
}

/// The effective user id, from `/proc/self/status` (`Uid: real effective saved fs`).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// `CI=true` (or `1`), as GitHub Actions, GitLab and most CI systems set it.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}
