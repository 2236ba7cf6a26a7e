//! A test that cannot make its check here (it needs root, or a tool that is missing) says so
//! and never passes for a check it did not make: under `CI=true` it fails; run by `tests/run`
//! it leaves a note that the script lists apart from the passes; run any other way it fails,
//! naming what it needed.

use std::path::PathBuf;

/// The directory where a test that could not make its check leaves a note (a file named after
/// the test, holding why); `tests/run` sets it and lists the notes after nextest's summary.
/// Not `PATHWISE_...`: pathwise reads every such variable as a config key, and refuses one it
/// does not know.
pub const UNCHECKED_VAR: &str = "PWTEST_UNCHECKED";

/// Reports that `test` could not make its check because of `why` (e.g. "needs root (network
/// namespaces)"); the caller returns at once. Panics under `CI=true`, and when no
/// [`UNCHECKED_VAR`] directory was given, since the test would otherwise pass without having
/// checked anything.
pub fn cannot_check(test: &str, why: &str) {
    if in_ci() {
        panic!("{test} could not make its check: {why}; CI=true, where every check is made");
    }
    let Some(dir) = std::env::var_os(UNCHECKED_VAR).map(PathBuf::from) else {
        panic!(
            "{test} could not make its check: {why}. Run the tests with tests/run, which lists \
             such a test apart from the passes, or give it what it needs"
        );
    };
    let note = dir.join(test);
    std::fs::write(&note, format!("{why}\n"))
        .unwrap_or_else(|e| panic!("{test}: write the note {}: {e}", note.display()));
    eprintln!("could not make its check: {test}: {why}");
}

/// `CI=true` (or `1`), as GitHub Actions, GitLab and most CI systems set it.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}
