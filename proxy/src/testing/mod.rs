//! Test doubles shared by the in-crate tests: a scriptable upstream DNS server
//! with throwaway TLS certificates, and temporary files.

pub(crate) mod certs;
pub(crate) mod fake_upstream;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Reports that `test` could not make its check because of `why` (no IPv6 on this host...);
/// the caller returns at once. As the end-to-end tests do it (`tests/unchecked.rs`): a
/// failure under `CI=true`; a note in the `PWTEST_UNCHECKED` directory, which
/// `tests/run` lists apart from the passes; a failure when there is neither, since the test
/// would otherwise pass without having checked anything.
pub(crate) fn cannot_check(test: &str, why: &str) {
    let in_ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    assert!(
        !in_ci,
        "{test} could not make its check: {why}; CI=true, where every check is made"
    );
    let Some(dir) = std::env::var_os("PWTEST_UNCHECKED").map(PathBuf::from) else {
        panic!(
            "{test} could not make its check: {why}. Run the tests with tests/run, which lists \
             such a test apart from the passes"
        );
    };
    std::fs::write(dir.join(test), format!("{why}\n")).expect("write the note");
    eprintln!("could not make its check: {test}: {why}");
}

/// A file in the system's temporary directory, removed on drop.
pub(crate) struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// Writes `contents` to a fresh file whose name ends in `suffix`.
    pub(crate) fn new(suffix: &str, contents: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("pathwise-test-{}-{unique}-{suffix}", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, contents).expect("write a temporary file");
        Self { path }
    }

    /// Where the file is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A query as the tests compare it across pathwise: re-encoded without its DNS cookie
/// (pathwise puts its own in, RFC 7873) and in lower case (pathwise mixes the case of the
/// name it sends, DNS 0x20), so that what remains must be the client's byte for byte.
pub(crate) fn comparable(bytes: &[u8]) -> Vec<u8> {
    let mut message = hickory_proto::op::Message::from_vec(bytes).expect("a DNS message");
    if let Some(edns) = message.edns.as_mut() {
        edns.options_mut()
            .remove(hickory_proto::rr::rdata::opt::EdnsCode::Cookie);
    }
    message.to_vec().expect("encodable").to_ascii_lowercase()
}

/// The DNS cookie option of a query, if it has one.
pub(crate) fn cookie_of(bytes: &[u8]) -> Option<Vec<u8>> {
    let message = hickory_proto::op::Message::from_vec(bytes).expect("a DNS message");
    let edns = message.edns?;
    match edns
        .options()
        .get(hickory_proto::rr::rdata::opt::EdnsCode::Cookie)?
    {
        hickory_proto::rr::rdata::opt::EdnsOption::Unknown(_, data) => Some(data.clone()),
        _ => None,
    }
}
