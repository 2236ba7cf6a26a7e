//! `Pathwise`: one `pathwise serve` process owned by a test. Started on port 0 with
//! a config file the test wrote, its ports learnt from the `listening on` log lines, its log
//! collected as it runs, stopped on Drop, and its command, config and log printed when the
//! test fails.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::process::{Signal, send, terminate, wait_timeout};
use crate::{Dig, NetNs, TempDir};

/// How long start-up may take, to both `listening on` lines.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a stop may take: pathwise drains for at most 10s (`drain_limit`).
const STOP_TIMEOUT: Duration = Duration::from_secs(12);

/// A running `pathwise serve`.
#[derive(Debug)]
pub struct Pathwise {
    child: Option<Child>,
    command_line: String,
    dir: TempDir,
    config_path: PathBuf,
    log: Arc<Log>,
    udp: SocketAddr,
    tcp: SocketAddr,
    status: Option<ExitStatus>,
    netns: Option<String>,
}

impl Pathwise {
    /// Writes `config` (TOML) to a scratch directory and runs `pathwise serve --config FILE
    /// --listen 127.0.0.1:0 --metrics off EXTRA_ARGS...` (`--listen` and `--metrics` only when
    /// `extra_args` has none), with no `PATHWISE_*` variables from the test's environment and
    /// `NO_COLOR=1`. Returns once it has logged both `listening on` lines.
    ///
    /// Panics unless `config` or `extra_args` names an upstream (`upstream.servers`,
    /// `upstream.resolv_conf` or `--upstream`): without one pathwise would forward to the
    /// host's `/etc/resolv.conf`, and the tests talk to no server they did not start.
    pub fn start(config: &str, extra_args: &[&str]) -> Self {
        Self::start_with_env(config, extra_args, &[])
    }

    /// [`start`](Self::start) with these environment variables set (`PATHWISE_*` ones among
    /// them reach pathwise; the test's own never do).
    pub fn start_with_env(config: &str, extra_args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::launch(None, config, extra_args, env)
    }

    /// [`start`](Self::start) inside a network namespace (`ip netns exec NAME pathwise ...`);
    /// [`dig`](Self::dig) queries then run inside it too.
    pub fn start_in_netns(netns: &NetNs, config: &str, extra_args: &[&str]) -> Self {
        Self::launch(Some(netns.name()), config, extra_args, &[])
    }

    fn launch(
        netns: Option<&str>,
        config: &str,
        extra_args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let names_upstream = config.contains("servers")
            || config.contains("resolv_conf")
            || extra_args.contains(&"--upstream");
        assert!(
            names_upstream,
            "the config names no upstream, so pathwise would forward to the host's \
             /etc/resolv.conf; give it a test upstream (upstream.servers, upstream.resolv_conf \
             or --upstream):\n{config}"
        );
        let dir = TempDir::new("pathwise");
        let config_path = dir.write("pathwise.toml", config);
        let mut command = match netns {
            Some(name) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", name]).arg(crate::pathwise());
                command
            }
            None => Command::new(crate::pathwise()),
        };
        command.arg("serve").arg("--config").arg(&config_path);
        if !extra_args.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        if !extra_args.contains(&"--metrics") {
            command.args(["--metrics", "off"]);
        }
        command.args(extra_args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PATHWISE_") {
                command.env_remove(key);
            }
        }
        command.envs(env.iter().copied());
        command
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let command_line = format!("{command:?}");
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {command_line}: {e}"));
        let log = Arc::new(Log::default());
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        log.collect(stdout, "stdout: ");
        log.collect(stderr, "");
        let unbound = SocketAddr::from(([0, 0, 0, 0], 0));
        let mut pathwise = Self {
            child: Some(child),
            command_line,
            dir,
            config_path,
            log,
            udp: unbound,
            tcp: unbound,
            status: None,
            netns: netns.map(str::to_owned),
        };
        pathwise.udp = pathwise.listening_on("udp");
        pathwise.tcp = pathwise.listening_on("tcp");
        pathwise
    }

    /// The metrics endpoint's address (`listening on http ADDR`), when started with
    /// `--metrics ADDR`.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.listening_on("http")
    }

    /// The address of the first `listening on TRANSPORT ADDR` line.
    fn listening_on(&self, transport: &str) -> SocketAddr {
        let prefix = format!("listening on {transport} ");
        let line = self.wait_for_log(&prefix, START_TIMEOUT);
        let after = &line[line.find(&prefix).expect("the line has it") + prefix.len()..];
        let word = after.split_whitespace().next().unwrap_or_default();
        word.parse()
            .unwrap_or_else(|e| panic!("`{word}` in the log line {line:?} is no address: {e}"))
    }

    /// The UDP address pathwise answers on.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp
    }

    /// The TCP address pathwise answers on.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp
    }

    /// A dig query to pathwise over UDP.
    pub fn dig(&self, name: &str, qtype: &str) -> Dig {
        self.in_my_netns(Dig::new(self.udp, name, qtype))
    }

    fn in_my_netns(&self, dig: Dig) -> Dig {
        match &self.netns {
            Some(name) => dig.in_netns(name),
            None => dig,
        }
    }

    /// A dig query to pathwise over TCP.
    pub fn dig_tcp(&self, name: &str, qtype: &str) -> Dig {
        self.in_my_netns(Dig::new(self.tcp, name, qtype).tcp())
    }

    /// The process id; panics once pathwise has been stopped.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("pathwise has been stopped").id()
    }

    /// Whether the process is still running (it has not exited, nor been stopped).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(status))) => {
                self.finish(status);
                false
            }
            Some(Err(_)) | None => false,
        }
    }

    /// The resident set size (`VmRSS` of `/proc/PID/status`), in bytes.
    pub fn rss(&self) -> u64 {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|number| number.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no VmRSS line in {path}:\n{status}"));
        kib * 1024
    }

    /// The config file pathwise was started with (and reloads on SIGHUP).
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The scratch directory holding the config file; removed on Drop unless the test failed.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Replaces the config file's contents (pathwise reads it on SIGHUP).
    pub fn write_config(&self, config: &str) {
        std::fs::write(&self.config_path, config)
            .unwrap_or_else(|e| panic!("write {}: {e}", self.config_path.display()));
    }

    /// Sends `signal` to pathwise.
    pub fn send_signal(&self, signal: Signal) {
        let child = self.child.as_ref().expect("pathwise has been stopped");
        send(child.id(), signal).unwrap_or_else(|e| panic!("{signal}: {e}"));
    }

    /// The number of log lines so far: a mark for [`wait_for_log_since`](Self::wait_for_log_since).
    pub fn log_len(&self) -> usize {
        self.log.lock().lines.len()
    }

    /// The whole log so far, one line each (stdout lines prefixed `stdout: `).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().lines.clone()
    }

    /// Waits for a log line containing `substring` and returns it; panics after `timeout`
    /// or when pathwise's output ends first.
    pub fn wait_for_log(&self, substring: &str, timeout: Duration) -> String {
        self.wait_for_log_since(0, substring, timeout)
    }

    /// [`wait_for_log`](Self::wait_for_log) looking only at lines from number `from` on.
    pub fn wait_for_log_since(&self, from: usize, substring: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut state = self.log.lock();
        loop {
            let found = state
                .lines
                .iter()
                .skip(from)
                .find(|l| l.contains(substring));
            if let Some(line) = found {
                return line.clone();
            }
            let now = Instant::now();
            let why = if state.open_streams == 0 {
                "pathwise's output ended (it exited?)"
            } else if now >= deadline {
                "timed out"
            } else {
                state = self
                    .log
                    .changed
                    .wait_timeout(state, deadline - now)
                    .expect("the log lock")
                    .0;
                continue;
            };
            drop(state);
            panic!("waiting {timeout:?} for a log line containing {substring:?}: {why}");
        }
    }

    /// SIGTERM, and the exit status once pathwise has drained and exited. Panics when it has
    /// not exited within 12s (it drains for at most 10s).
    pub fn stop(&mut self) -> ExitStatus {
        self.stop_with(Signal::Term)
    }

    /// Sends `signal` (SIGTERM or SIGINT) and returns the exit status, as [`stop`](Self::stop).
    pub fn stop_with(&mut self, signal: Signal) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        self.send_signal(signal);
        let child = self.child.as_mut().expect("running");
        let Some(status) = wait_timeout(child, STOP_TIMEOUT) else {
            panic!("pathwise did not exit within {STOP_TIMEOUT:?} of {signal}");
        };
        self.finish(status);
        status
    }

    fn finish(&mut self, status: ExitStatus) {
        self.status = Some(status);
        self.child = None;
        // Let the readers take in the last lines before anyone looks at the log.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut state = self.log.lock();
        while state.open_streams > 0 && Instant::now() < deadline {
            state = self
                .log
                .changed
                .wait_timeout(state, Duration::from_millis(50))
                .expect("the log lock")
                .0;
        }
    }
}

impl Drop for Pathwise {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take()
            && let Some(status) = terminate(&mut child, Duration::from_secs(3))
        {
            self.status = Some(status);
        }
        if std::thread::panicking() {
            eprintln!("{self}");
        }
    }
}

impl fmt::Display for Pathwise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = std::fs::read_to_string(&self.config_path).unwrap_or_default();
        writeln!(f, "--- pathwise: {}", self.command_line)?;
        if let Some(status) = self.status {
            writeln!(f, "--- status: {status}")?;
        }
        writeln!(f, "--- config {}:\n{config}", self.config_path.display())?;
        write!(f, "--- log:")?;
        for line in &self.log.lock().lines {
            write!(f, "\n{line}")?;
        }
        Ok(())
    }
}

/// The lines pathwise has written so far, filled by one reader thread per stream.
#[derive(Debug, Default)]
struct Log {
    state: Mutex<LogState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct LogState {
    lines: Vec<String>,
    open_streams: usize,
}

impl Log {
    fn lock(&self) -> MutexGuard<'_, LogState> {
        // A panicking test thread never holds this lock while it panics; be lenient anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads `stream` line by line on a thread of its own until it closes.
    fn collect(self: &Arc<Self>, stream: impl Read + Send + 'static, prefix: &'static str) {
        self.lock().open_streams += 1;
        let log = Arc::clone(self);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buffer = Vec::new();
            while matches!(reader.read_until(b'\n', &mut buffer), Ok(n) if n > 0) {
                let text = String::from_utf8_lossy(&buffer);
                let line = format!(
                    "{prefix}{}",
                    strip_ansi(text.trim_end_matches(['\n', '\r']))
                );
                log.lock().lines.push(line);
                log.changed.notify_all();
                buffer.clear();
            }
            log.lock().open_streams -= 1;
            log.changed.notify_all();
        });
    }
}

/// Drops ANSI escape sequences (`ESC [ ... final`), should colours slip through `NO_COLOR`.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}
