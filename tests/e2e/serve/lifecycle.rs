//! The process (docs/behaviour.md): SIGHUP reloads (a bad config is refused and the old one keeps
//! serving), SIGTERM and SIGINT stop with status 0, `check-config`, and a clear message when
//! port 53 cannot be bound.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pathwise_tests::{Pathwise, Run, Signal, TempDir, Upstream, cannot_check, require_root_for};

use super::zone::*;
use super::{NATIVE_PATHS, TEREDO_PATHS, assert_filtered, config, paired_aaaa, start};

const RELOAD_TIMEOUT: Duration = Duration::from_secs(5);

#[test]
fn sighup_with_a_broken_config_is_refused_and_the_old_one_keeps_serving() {
    let (upstream, pathwise) = start(TEREDO_PATHS, "");
    assert_filtered(&paired_aaaa(&pathwise, "127.0.0.1", DUAL));
    pathwise.write_config(&config(
        &upstream,
        TEREDO_PATHS,
        "[policy]\nfilter_aaaa = \"never\"\nsurely_not_a_key = 1\n",
    ));
    let mark = pathwise.log_len();
    pathwise.send_signal(Signal::Hup);
    let line = pathwise.wait_for_log_since(mark, "config reload refused", RELOAD_TIMEOUT);
    assert!(
        line.contains("surely_not_a_key"),
        "expected the refusal to name the bad key policy.surely_not_a_key: {line}"
    );
    // The old config (filter active) still serves: the "never" of the refused one is not in.
    assert_filtered(&paired_aaaa(&pathwise, "127.0.0.2", DUAL));
}

#[test]
fn sighup_with_a_bad_value_is_refused() {
    let (upstream, pathwise) = start(TEREDO_PATHS, "");
    pathwise.dig(DUAL, "A").run().rcode_is("NOERROR");
    pathwise.write_config(&config(
        &upstream,
        TEREDO_PATHS,
        "[policy]\nfilter_aaaa = \"sometimes\"\n",
    ));
    let mark = pathwise.log_len();
    pathwise.send_signal(Signal::Hup);
    let line = pathwise.wait_for_log_since(mark, "config reload refused", RELOAD_TIMEOUT);
    assert!(
        line.contains("policy.filter_aaaa"),
        "expected the refusal to name policy.filter_aaaa: {line}"
    );
    assert_filtered(&paired_aaaa(&pathwise, "127.0.0.1", DUAL));
}

#[test]
fn sighup_to_filter_aaaa_never_keeps_paired_aaaa() {
    let (upstream, pathwise) = start(TEREDO_PATHS, "");
    assert_filtered(&paired_aaaa(&pathwise, "127.0.0.1", DUAL));
    pathwise.write_config(&config(
        &upstream,
        TEREDO_PATHS,
        "[policy]\nfilter_aaaa = \"never\"\n",
    ));
    let mark = pathwise.log_len();
    pathwise.send_signal(Signal::Hup);
    pathwise.wait_for_log_since(mark, "config reloaded", RELOAD_TIMEOUT);
    let aaaa = paired_aaaa(&pathwise, "127.0.0.1", DUAL);
    aaaa.rcode_is("NOERROR").answers_are("AAAA", &[DUAL_AAAA]);
}

/// Regression: the summary a reload logs showed the path state from before the reload (the
/// path watcher had not taken the new `paths.override` yet), and the strategy as `Sequential`.
#[test]
fn sighup_logs_the_new_path_state_and_the_strategy_as_configured() {
    let (upstream, pathwise) = start(TEREDO_PATHS, "");
    pathwise.wait_for_log("upstream strategy sequential, timeout", RELOAD_TIMEOUT);
    pathwise.write_config(&config(&upstream, NATIVE_PATHS, ""));
    let mark = pathwise.log_len();
    pathwise.send_signal(Signal::Hup);
    pathwise.wait_for_log_since(mark, "config reloaded", RELOAD_TIMEOUT);
    let line = pathwise.wait_for_log_since(mark, "filter_aaaa teredo-only is", RELOAD_TIMEOUT);
    assert!(
        line.contains("paths native6+ipv4") && line.contains("is inactive"),
        "expected the reloaded path state, native6 and ipv4 with the filter inactive: {line}"
    );
}

#[test]
fn environment_wins_over_the_config_file() {
    let upstream = Upstream::start(&super::zone::unsigned());
    let config = config(
        &upstream,
        TEREDO_PATHS,
        "[policy]\nfilter_aaaa = \"teredo-only\"\n",
    );
    let pathwise =
        Pathwise::start_with_env(&config, &[], &[("PATHWISE_POLICY__FILTER_AAAA", "never")]);
    let aaaa = paired_aaaa(&pathwise, "127.0.0.1", DUAL);
    aaaa.rcode_is("NOERROR").answers_are("AAAA", &[DUAL_AAAA]);
}

#[test]
fn sigterm_exits_zero() {
    let (_upstream, mut pathwise) = start(TEREDO_PATHS, "");
    pathwise.dig(DUAL, "A").run().rcode_is("NOERROR");
    let status = pathwise.stop_with(Signal::Term);
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );
}

#[test]
fn sigint_exits_zero() {
    let (_upstream, mut pathwise) = start(TEREDO_PATHS, "");
    pathwise.dig(DUAL, "A").run().rcode_is("NOERROR");
    let status = pathwise.stop_with(Signal::Int);
    assert_eq!(status.code(), Some(0), "exit status after SIGINT: {status}");
}

/// Regression: the `listening on` lines, which supervisors and this harness take for "ready",
/// came before the signal handlers were installed, so a signal right after them met the
/// default action: SIGTERM and SIGINT killed pathwise instead of draining it (`signal: 2
/// (SIGINT)`, not exit status 0), and SIGHUP killed it instead of reloading. A race, so
/// several tries. (The other signal tests answer a query first: by then the handlers are in.)
#[test]
fn signal_right_after_listening_is_handled() {
    let upstream = Upstream::start(&super::zone::unsigned());
    for attempt in 1..=10 {
        for signal in [Signal::Term, Signal::Int] {
            let mut pathwise = Pathwise::start(&config(&upstream, TEREDO_PATHS, ""), &[]);
            let status = pathwise.stop_with(signal);
            assert_eq!(
                status.code(),
                Some(0),
                "attempt {attempt}: exit status after {signal} sent as soon as pathwise logged \
                 `listening on`: {status}"
            );
        }
        let pathwise = Pathwise::start(&config(&upstream, TEREDO_PATHS, ""), &[]);
        pathwise.send_signal(Signal::Hup);
        pathwise.wait_for_log("config reloaded", RELOAD_TIMEOUT);
        pathwise.dig(DUAL, "A").run().rcode_is("NOERROR");
    }
}

#[test]
fn check_config_accepts_the_deploy_example() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/pathwise.toml");
    let run = Run::pathwise([Path::new("check-config"), &example]);
    run.success().check(
        !run.stdout().trim().is_empty(),
        "expected the effective config on stdout",
    );
}

#[test]
fn check_config_prints_the_effective_config() {
    let dir = TempDir::new("check-config");
    let file = dir.write("good.toml", "[policy]\nfilter_aaaa = \"no-native\"\n");
    let run = Run::pathwise([Path::new("check-config"), &file]);
    run.success().check(
        run.stdout().contains("filter_aaaa") && run.stdout().contains("no-native"),
        "expected the effective config, with filter_aaaa = no-native, on stdout",
    );
}

#[test]
fn check_config_names_the_bad_key_on_one_line() {
    let dir = TempDir::new("check-config");
    let file = dir.write("bad.toml", "[policy]\nfilter_aaaa = \"sometimes\"\n");
    let run = Run::pathwise([Path::new("check-config"), &file]);
    let output = format!("{}{}", run.stdout(), run.stderr());
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    run.exit_code(1)
        .check(lines.len() == 1, "expected exactly one line of output")
        .check(
            lines.first().is_some_and(|l| {
                l.contains("policy.filter_aaaa")
                    && l.contains("sometimes")
                    && ["teredo-only", "no-native", "always", "never"]
                        .iter()
                        .all(|v| l.contains(v))
            }),
            "expected the line to name policy.filter_aaaa, the bad value and the accepted values \
             (docs/configuration.md)",
        );
}

#[test]
fn port_53_without_cap_net_bind_service_says_so() {
    let test = "port_53_without_cap_net_bind_service_says_so";
    if !require_root_for(test, "setpriv to run pathwise as nobody") {
        return;
    }
    let unprivileged_start =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
            .unwrap_or(1024);
    if unprivileged_start <= 53 {
        cannot_check(
            test,
            &format!(
                "net.ipv4.ip_unprivileged_port_start is {unprivileged_start} here, so anyone \
                 may bind port 53"
            ),
        );
        return;
    }
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(pathwise_tests::pathwise())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:53",
            "--upstream",
            "127.0.0.1:9",
        ])
        .args(["--metrics", "off"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("run setpriv");
    let output = wait_with_deadline(child, Duration::from_secs(10), &command);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("CAP_NET_BIND_SERVICE"),
        "expected a failure naming CAP_NET_BIND_SERVICE\n--- command: {command:?}\n\
         --- status: {}\n--- stderr:\n{stderr}",
        output.status
    );
}

/// Waits for `child` to exit and collects its output; kills it after `deadline` (if it
/// managed to bind port 53 it would serve forever).
fn wait_with_deadline(
    mut child: std::process::Child,
    deadline: Duration,
    command: &Command,
) -> std::process::Output {
    let started = std::time::Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if started.elapsed() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("wait");
            panic!(
                "{command:?} still ran after {deadline:?}: it should have failed to bind\n\
                 --- stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("wait")
}
