//! The fuzz targets' checks (`fuzz/src/checks/`, included here by path) over every seed in
//! `fuzz/corpus/` and every input a fuzzer ever failed on in `fuzz/regressions/`, on stable
//! Rust, as part of `cargo nextest run --workspace` (see `fuzz/README.md`).

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/checks/mod.rs"]
pub mod checks;

/// `fuzz/` beside this crate.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<folder>/<target>/`, sorted; none when the folder does not exist.
fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(fuzz_dir().join(folder).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable folder").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// The regression inputs of bugs reported but not fixed yet (`fuzz/regressions/open-bugs`,
/// as `<target>/<file>`): their checks must still fail, so that the fix, when it lands, has to
/// take them off the list.
fn open_bugs() -> Vec<String> {
    let list = fs::read_to_string(fuzz_dir().join("regressions/open-bugs")).unwrap_or_default();
    list.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Runs `check` over every input of `target`, and fails naming each input whose check failed,
/// and each input of an open bug ([`open_bugs`]) whose check passed.
fn run(target: &str, check: fn(&[u8]), min_seeds: usize) {
    let seeds = inputs("corpus", target);
    assert!(
        seeds.len() >= min_seeds,
        "fuzz/corpus/{target}/ has {} seeds, expected at least {min_seeds}",
        seeds.len()
    );
    let open = open_bugs();
    let failed: Vec<String> = seeds
        .iter()
        .chain(&inputs("regressions", target))
        .filter(|path| {
            let input = fs::read(path).expect("a readable input");
            let failed = catch_unwind(AssertUnwindSafe(|| check(&input))).is_err();
            let name = path.file_name().expect("a file").to_string_lossy();
            failed != open.contains(&format!("{target}/{name}"))
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: checks failed on (or, for an open bug, passed on) {failed:#?}"
    );
}

#[test]
fn query_path_corpus_and_regressions_pass_the_checks() {
    run("query_path", checks::query_path, 40);
}

#[test]
fn response_path_corpus_and_regressions_pass_the_checks() {
    run("response_path", checks::response_path, 30);
}
