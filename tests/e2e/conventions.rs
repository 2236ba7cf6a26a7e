//! The repository stands alone: no tracked file cites a document that is not in it. Code,
//! comments, configuration, dashboards and rules point to `docs/` or to an RFC instead.
//!
//! Every line of every file `git ls-files` lists (tracked, or new and not ignored) is checked,
//! but the lock files and the fuzz corpus (generated). The patterns are built from pieces so that this file passes its own check.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The name of the contract document the repository once pointed to.
const CONTRACT: &str = concat!("SP", "EC");
/// The name of the style guide the repository once pointed to.
const GUIDE: &str = concat!("ST", "YLE");
/// The section sign: RFC sections are written "section N" instead, so any of these is a slip.
const SECTION_SIGN: char = '\u{a7}';
/// An issue tracker's word, followed (after an optional space and `#`) by a digit.
const ISSUE: &str = concat!("iss", "ue");

/// The repository's root: the parent of this crate's directory.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits inside the repository")
        .to_path_buf()
}

/// Every tracked file (and every new one git does not ignore) but the lock files and the fuzz
/// corpus. Panics when git cannot list them: a check that could not look must not pass.
fn tracked_files(root: &Path) -> Vec<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .unwrap_or_else(|error| panic!("run `git ls-files` in {}: {error}", root.display()));
    assert!(
        output.status.success(),
        "`git ls-files` in {} failed: {}",
        root.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let files: Vec<String> = String::from_utf8(output.stdout)
        .expect("git prints UTF-8 paths here")
        .split('\0')
        .filter(|path| !path.is_empty())
        .filter(|path| !path.ends_with(".lock") && !path.starts_with("fuzz/corpus/"))
        .map(str::to_owned)
        .collect();
    assert!(
        files.len() > 100,
        "git ls-files listed only {} files in {}",
        files.len(),
        root.display()
    );
    files
}

/// Whether `word` occurs in `line` as a word of its own: no ASCII letter right before or after
/// it. An identifier ending in `_` and the word, or the word with `.md`, match; `AF_UNSPEC` and
/// `UNSPECIFIED` (the socket API's own words) do not.
fn has_word(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphabetic())
            && !after.is_some_and(|c| c.is_ascii_alphabetic())
    })
}

/// Whether `line` cites an issue by number: the word in any case, an optional space and `#`, a
/// digit.
fn cites_issue(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.match_indices(ISSUE).any(|(at, _)| {
        let rest = lower[at + ISSUE.len()..].trim_start_matches(' ');
        let rest = rest.strip_prefix('#').unwrap_or(rest);
        rest.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// What is wrong with `line`, if anything.
fn outside_reference(line: &str) -> Option<&'static str> {
    if has_word(line, CONTRACT) {
        Some("cites the contract document; point to docs/ instead")
    } else if has_word(line, GUIDE) {
        Some("cites the style guide; say the thing itself")
    } else if line.contains(SECTION_SIGN) {
        Some("uses the section sign; write \"RFC NNNN section N\" or point to docs/")
    } else if cites_issue(line) {
        Some("cites an issue number; say the thing itself")
    } else {
        None
    }
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let root = repository();
    let mut findings = Vec::new();
    let mut checked = 0;
    for path in tracked_files(&root) {
        let Ok(bytes) = std::fs::read(root.join(&path)) else {
            // Listed by git but deleted in the work tree: nothing to read.
            continue;
        };
        // Binary files (images, compiled fixtures) have no lines to cite anything in.
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        checked += 1;
        for (number, line) in text.lines().enumerate() {
            if let Some(problem) = outside_reference(line) {
                findings.push(format!(
                    "{path}:{}: {problem}\n    {}",
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(checked > 100, "only {checked} text files were checked");
    assert!(
        findings.is_empty(),
        "{} line(s) point outside the repository:\n{}",
        findings.len(),
        findings.join("\n")
    );
}

#[test]
fn the_patterns_catch_what_they_are_for_and_only_that() {
    let section = format!("RFC 1035 {SECTION_SIGN}4.1.1");
    let caught = [
        format!("the contract is {CONTRACT}.md"),
        format!("/// Every default of {CONTRACT} section 6."),
        format!("pub const BEYOND_{CONTRACT}: [&str; 3]"),
        format!("// the ladder ({GUIDE} 5)"),
        section,
        format!("# the targets of {ISSUE} 6"),
        format!("//! Hostile clients ({} #8)", "Issue"),
    ];
    for line in &caught {
        assert!(outside_reference(line).is_some(), "not caught: {line}");
    }
    let passed = [
        "getaddrinfo(AF_UNSPEC) asks A and AAAA together",
        "Ipv4Addr::UNSPECIFIED",
        "RFC 6724 section 2.1's default table",
        "see docs/behaviour.md",
        "the upstream spec as text: UpstreamSpec",
        "a known issue with glibc",
    ];
    for line in passed {
        assert_eq!(outside_reference(line), None, "caught: {line}");
    }
}
