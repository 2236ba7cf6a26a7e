//! The deployment files against the real binary and the tools made for them:
//! `kubernetes` (every ConfigMap passes `check-config` as its pod sees it; probes, ports,
//! labels, memory sized from the cache; kustomize renders), `node_local` (the DaemonSet; its
//! set-up serves a pod network from its link-local address in a namespace), `systemd` (`systemd-analyze verify` and `security`;
//! the unit's credentials bind port 53 without root and the path watcher's netlink socket
//! works under them), `image` (what the Dockerfile says; the image's file capability binds
//! port 53 under Kubernetes' restrictions), and the TOML snippets of `deploy/README.md`.
//!
//! YAML and TOML are read by Debian's `python3` (`python3-yaml`, Python 3.11's `tomllib`): the
//! test crate parses nothing but JSON. There is no container engine and no cluster here: the
//! image is never built, and the manifests are checked by reading them (and rendered by
//! `kubectl kustomize` where kubectl exists).

mod image;
mod kubernetes;
mod linters;
mod node_local;
mod systemd;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use pathwise_tests::{Run, TempDir};
use serde_json::Value;

/// A path in the repository.
fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Each file parsed by Debian's python3: `yaml` gives a list of its documents, `toml` a table.
fn parse(kind: &str, files: &[&Path]) -> Vec<Value> {
    const SCRIPT: &str = "import json, sys, tomllib, yaml\n\
        kind, out = sys.argv[1], []\n\
        for path in sys.argv[2:]:\n\
        \x20   with open(path, 'rb') as f:\n\
        \x20       out.append([d for d in yaml.safe_load_all(f) if d is not None]\n\
        \x20                  if kind == 'yaml' else tomllib.load(f))\n\
        json.dump(out, sys.stdout)\n";
    let run = Run::command(
        Command::new("/usr/bin/python3")
            .args(["-c", SCRIPT, kind])
            .args(files),
    );
    run.check(
        run.stderr().is_empty() || !run.stderr().contains("No module named 'yaml'"),
        "python3-yaml is missing (`apt-get install python3-yaml`; tests/setup installs it)",
    )
    .success();
    match run.json() {
        Value::Array(values) => values,
        other => run.fail(format!("expected a JSON array, got {other}")),
    }
}

/// `pathwise check-config` on `toml` with these environment variables (and none of the
/// test's own `PATHWISE_*`); the effective configuration it prints, parsed.
fn check_config(toml: &str, env: &[(String, String)], what: &str) -> Value {
    let dir = TempDir::new("deploy-config");
    let file = dir.write("pathwise.toml", toml);
    let mut command = Command::new(pathwise_tests::pathwise());
    command.arg("check-config").arg(&file);
    for (key, _) in std::env::vars() {
        if key.starts_with("PATHWISE_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let run = Run::command(&mut command);
    run.check(
        run.stdout().contains("[listen]"),
        format!("{what} fails check-config:\n{toml}"),
    );
    let printed = dir.write("effective.toml", run.stdout());
    parse("toml", &[&printed]).pop().expect("one table")
}

#[test]
fn readme_toml_snippets_pass_check_config() {
    let readme = read(&repo("deploy/README.md"));
    let mut snippets = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(text), "```") => {
                snippets.push(std::mem::take(text));
                current = None;
            }
            (Some(text), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(
        !snippets.is_empty(),
        "deploy/README.md has ```toml snippets"
    );
    for (n, snippet) in snippets.iter().enumerate() {
        check_config(
            snippet,
            &[],
            &format!("deploy/README.md's TOML snippet {}", n + 1),
        );
    }
}

/// A long-running process a test started under a wrapper the harness does not know
/// (`setpriv`): its stderr in a file, read back for log lines; killed on Drop.
struct Process {
    child: Option<Child>,
    command_line: String,
    log: PathBuf,
    _dir: TempDir,
}

impl Process {
    fn start(command: &mut Command) -> Self {
        let dir = TempDir::new("deploy-process");
        let log = dir.path().join("stderr");
        let stderr = File::create(&log).expect("create the log file");
        let command_line = format!("{command:?}");
        let child = command
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {command_line}: {e}"));
        Self {
            child: Some(child),
            command_line,
            log,
            _dir: dir,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for a log line containing `text` and returns it; panics, with the log, after
    /// `timeout` or when the process exits first.
    fn wait_for(&mut self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.log().lines().find(|l| l.contains(text)) {
                return line.to_owned();
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                panic!(
                    "no log line with {text:?} within {timeout:?} (exit status {exited:?})\n{self}"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The exit status once the process has exited, waiting at most `timeout`.
    fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {timeout:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, and the exit status (pathwise drains for at most 10s).
    fn stop(&mut self) -> ExitStatus {
        let pid = self.pid().to_string();
        Run::command(Command::new("kill").args(["-s", "TERM", &pid])).success();
        self.wait(Duration::from_secs(12))
    }
}

impl std::fmt::Display for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- command: {}\n--- stderr:\n{}",
            self.command_line,
            self.log()
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("{self}");
        }
    }
}
