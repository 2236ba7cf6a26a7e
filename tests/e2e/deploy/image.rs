//! `deploy/Dockerfile` and `.dockerignore`: what the image is (a locked release build, a
//! non-root user by number, the file capability, the ports, a HEALTHCHECK on the default
//! metrics address), what the build context keeps; and the image's capability model run for
//! real: a copy of the binary with `cap_net_bind_service=+ep`, started as Kubernetes starts
//! the sidecar (non-root, NET_BIND_SERVICE the only capability, no_new_privs), binds port 53,
//! and cannot even start when NET_BIND_SERVICE is dropped too. The image itself is not built:
//! there is no container engine here.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pathwise_tests::{NetNs, Run, TempDir, cannot_check, require_root_for};

use super::{Process, check_config, parse, read, repo};

/// The Dockerfile's instructions (continuation lines joined, comments dropped), each as
/// (INSTRUCTION, arguments), and the index of the final stage's FROM.
fn instructions() -> (Vec<(String, String)>, usize) {
    let text = read(&repo("deploy/Dockerfile"));
    let mut out: Vec<(String, String)> = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && pending.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => pending.push_str(start),
            None => {
                pending.push_str(line);
                let (instruction, args) = pending.split_once(' ').unwrap_or((&pending, ""));
                out.push((instruction.to_ascii_uppercase(), args.trim().to_owned()));
                pending.clear();
            }
        }
    }
    let last_from = out.iter().rposition(|(i, _)| i == "FROM").expect("a FROM");
    (out, last_from)
}

#[test]
fn dockerfile_builds_locked_and_runs_non_root_on_distroless_with_a_healthcheck() {
    let (all, final_from) = instructions();
    let final_stage = &all[final_from..];
    let get = |stage: &[(String, String)], name: &str| -> Vec<String> {
        stage
            .iter()
            .filter(|(i, _)| i == name)
            .map(|(_, a)| a.clone())
            .collect()
    };
    assert!(get(&all, "FROM").len() >= 2, "a multi-stage build");
    assert!(
        all[final_from]
            .1
            .starts_with("gcr.io/distroless/cc-debian12")
    );
    let runs = get(&all[..final_from], "RUN").join("\n");
    assert!(
        runs.contains("cargo build --release --locked -p pathwise"),
        "{runs}"
    );
    assert!(runs.contains("setcap cap_net_bind_service=+ep"), "{runs}");

    let user = get(final_stage, "USER");
    let uid = user
        .last()
        .and_then(|u| u.split(':').next())
        .and_then(|u| u.parse::<u32>().ok());
    assert!(
        uid.is_some_and(|uid| uid != 0),
        "a numeric non-root USER: {user:?}"
    );
    let exposed = get(final_stage, "EXPOSE").join(" ");
    let exposed: Vec<&str> = exposed.split_whitespace().collect();
    for port in ["53/udp", "53/tcp", "9153/tcp"] {
        assert!(exposed.contains(&port), "EXPOSE {port}: {exposed:?}");
    }
    assert_eq!(
        get(final_stage, "ENTRYPOINT"),
        [r#"["/usr/local/bin/pathwise"]"#]
    );

    // The HEALTHCHECK asks /healthz where pathwise serves it by default.
    let defaults = check_config("", &[], "an empty config");
    let metrics = defaults["metrics"]["listen"].as_str().expect("metrics on");
    let healthcheck = get(final_stage, "HEALTHCHECK").join(" ");
    assert!(
        healthcheck.contains(&format!("http://{metrics}/healthz")),
        "HEALTHCHECK on {metrics}: {healthcheck}"
    );
    let client = healthcheck
        .split('"')
        .nth(1)
        .expect("CMD in exec form, the client first");
    assert!(
        get(final_stage, "COPY").iter().any(|c| c.ends_with(client)),
        "the HEALTHCHECK's {client} is copied into the final image (distroless has none)"
    );

    // The toolchain is at least the workspace's rust-version.
    let manifest = parse("toml", &[&repo("Cargo.toml")])
        .pop()
        .expect("Cargo.toml");
    let msrv = manifest["workspace"]["package"]["rust-version"]
        .as_str()
        .expect("rust-version");
    let arg = get(&all, "ARG")
        .into_iter()
        .find(|a| a.starts_with("RUST_VERSION="));
    let version = arg.as_deref().and_then(|a| a.strip_prefix("RUST_VERSION="));
    let number = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    assert!(
        version.is_some_and(|v| number(v) >= number(msrv)),
        "ARG RUST_VERSION {version:?} below rust-version {msrv}"
    );
}

#[test]
fn dockerignore_drops_build_output_and_keeps_every_workspace_member() {
    let ignore = read(&repo(".dockerignore"));
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for needed in ["target/", ".git/"] {
        assert!(patterns.contains(&needed), ".dockerignore lacks {needed}");
    }
    let manifest = parse("toml", &[&repo("Cargo.toml")])
        .pop()
        .expect("Cargo.toml");
    let members = manifest["workspace"]["members"]
        .as_array()
        .expect("members");
    let mut kept: Vec<String> = members
        .iter()
        .filter_map(|m| m.as_str())
        .map(str::to_owned)
        .collect();
    kept.extend(["Cargo.toml".to_owned(), "Cargo.lock".to_owned()]);
    for path in &kept {
        let path = path.as_str();
        let dropped = patterns.iter().find(|p| {
            let p = p.trim_end_matches('/');
            p == path || p == "*" || p == "**"
        });
        assert!(
            dropped.is_none(),
            ".dockerignore drops {path}, which the build needs"
        );
    }
}

/// The sidecar's start as the container runtime makes it, after `securityContext:
/// {runAsUser: 65532, allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add:
/// [NET_BIND_SERVICE]}}`: user 65532, bounding set NET_BIND_SERVICE, no_new_privs, and the
/// capability in the permitted set before the exec (runc puts the added capabilities there;
/// setpriv keeps root's across the user change). `bounding` is setpriv's syntax.
fn start_as_kubernetes(ns: &NetNs, binary: &Path, bounding: &str) -> Process {
    let mut command = Command::new("ip");
    command
        .args(["netns", "exec", ns.name(), "setpriv"])
        .args(["--reuid=65532", "--regid=65532", "--clear-groups"])
        .arg(format!("--bounding-set={bounding}"))
        .args(["--inh-caps=-all", "--no-new-privs", "--"])
        .arg(binary)
        .args(["serve", "--listen", "127.0.0.1:53", "--metrics", "off"])
        // Never asked: no query is sent, and metrics (its readiness probe) are off.
        .args(["--upstream", "127.0.0.1:9"]);
    Process::start(&mut command)
}

#[test]
fn image_file_capability_binds_port_53_under_kubernetes_restrictions() {
    let test = "image_file_capability_binds_port_53_under_kubernetes_restrictions";
    if !require_root_for(test, "a network namespace, setcap, setpriv to another user") {
        return;
    }
    let setcap = Path::new("/usr/sbin/setcap");
    if !setcap.exists() {
        cannot_check(
            test,
            "needs /usr/sbin/setcap (Debian's libcap2-bin; tests/setup installs it)",
        );
        return;
    }
    // As the Dockerfile does it: a copy of the binary, root-owned, mode 0755, +ep.
    let dir = TempDir::new("image-binary");
    let binary = dir.path().join("pathwise");
    std::fs::copy(pathwise_tests::pathwise(), &binary).expect("copy the binary");
    Run::command(
        Command::new(setcap)
            .arg("cap_net_bind_service=+ep")
            .arg(&binary),
    )
    .success();
    let ns = NetNs::new("pwcap");

    let mut pathwise = start_as_kubernetes(&ns, &binary, "-all,+net_bind_service");
    pathwise.wait_for("listening on udp 127.0.0.1:53", Duration::from_secs(10));
    let status = pathwise.stop();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );

    // `drop: [ALL]` without the add: the kernel refuses to run a binary whose file capability
    // cannot be granted, rather than letting it fail later on the bind.
    let mut refused = start_as_kubernetes(&ns, &binary, "-all");
    let status = refused.wait(Duration::from_secs(10));
    assert!(
        !status.success(),
        "started without NET_BIND_SERVICE:\n{refused}"
    );
    assert!(
        refused.log().contains("Operation not permitted"),
        "expected the exec refused:\n{refused}"
    );
}
