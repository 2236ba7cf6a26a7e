//! Finds the `pathwise` binary next to the running test binary and brings it up to date, once.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The path of an up-to-date `pathwise` binary, `target/<profile>/pathwise`.
///
/// A test crate cannot use `CARGO_BIN_EXE_*` for another package's binary, and
/// `cargo nextest run -p pathwise-tests` does not build it, so the first call in each process
/// runs `$CARGO build -p pathwise --bin pathwise` with this test binary's profile and target
/// directory. Cargo's own fingerprints make that a no-op when nothing changed.
pub fn pathwise() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build)
}

/// Where the running test binary was built: `<target dir>[/<triple>]/<profile>/deps/e2e-<hash>`.
struct BuildDirs {
    target_dir: PathBuf,
    triple: Option<OsString>,
    profile_dir: PathBuf,
}

impl BuildDirs {
    fn of_current_exe() -> Self {
        let exe = std::env::current_exe().expect("the path of the running test binary");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .unwrap_or_else(|| panic!("{} is not in <target>/<profile>/deps", exe.display()))
            .to_path_buf();
        let above = profile_dir
            .parent()
            .expect("a profile directory has a parent");
        // Cargo marks the root of every target directory with CACHEDIR.TAG; a directory above
        // the profile without it is a `--target <triple>` directory.
        if above.join("CACHEDIR.TAG").is_file() {
            let target_dir = above.to_path_buf();
            return Self {
                target_dir,
                triple: None,
                profile_dir,
            };
        }
        let triple = above.file_name().map(OsString::from);
        let target_dir = above
            .parent()
            .expect("a triple directory has a parent")
            .to_path_buf();
        Self {
            target_dir,
            triple,
            profile_dir,
        }
    }

    /// The cargo profile flag for this profile directory (`debug` is the `dev` profile).
    fn profile_args(&self) -> Vec<OsString> {
        match self.profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => vec![],
            Some("release") => vec!["--release".into()],
            Some(other) => vec!["--profile".into(), other.into()],
            None => panic!(
                "profile directory {} has no name",
                self.profile_dir.display()
            ),
        }
    }
}

fn build() -> PathBuf {
    let dirs = BuildDirs::of_current_exe();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "-p",
            "pathwise",
            "--bin",
            "pathwise",
            "--target-dir",
        ])
        .arg(&dirs.target_dir)
        .args(dirs.profile_args());
    if let Some(triple) = &dirs.triple {
        command.arg("--target").arg(triple);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo:?}: {e}"));
    if !output.status.success() {
        panic!(
            "building pathwise failed ({}): {command:?}\n--- stderr ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let binary = dirs
        .profile_dir
        .join(format!("pathwise{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{command:?} succeeded but {} is missing",
        binary.display()
    );
    binary
}
