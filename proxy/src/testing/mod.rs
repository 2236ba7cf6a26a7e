//! Test doubles shared by the in-crate tests (STYLE 14): a scriptable upstream DNS server
//! with throwaway TLS certificates, and temporary files.

pub(crate) mod certs;
pub(crate) mod fake_upstream;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

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
