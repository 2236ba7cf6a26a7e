//! `deploy/systemd/`: the unit passes `systemd-analyze verify` (no warning either) and
//! `systemd-analyze security` at "OK"; it runs the shipped config, whose upstreams are never
//! pathwise itself; and, systemd not being PID 1 here, its credentials are rebuilt with
//! `setpriv` (a non-root user, CAP_NET_BIND_SERVICE ambient and the whole bounding set,
//! no_new_privs) around its own ExecStart and config in a network namespace: pathwise binds
//! port 53 on 127.0.0.1 and ::1, answers, and sees a path change through its netlink socket.
//! The unit's other restrictions (file system, system calls) need systemd to apply them.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pathwise_tests::{Dig, NetNs, Run, TempDir, Upstream, cannot_check, require_root_for};

use super::{Process, check_config, read, repo};
use crate::serve::zone::{DUAL, DUAL_A, DUAL_AAAA, unsigned};

/// Where the unit expects the binary and its config.
const INSTALLED: &str = "/usr/local/bin/pathwise";
const CONFIG: &str = "/etc/pathwise/pathwise.toml";
/// The copy of the host's nameservers the shipped config forwards to.
const UPSTREAM_FILE: &str = "/etc/pathwise/upstream-resolv.conf";

/// The unit's `[Service]` settings, in order (a key may repeat).
fn service_settings() -> Vec<(String, String)> {
    let unit = read(&repo("deploy/systemd/pathwise.service"));
    let mut section = "";
    let mut settings = Vec::new();
    for line in unit.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section == "[Service]"
            && !line.starts_with('#')
            && let Some((key, value)) = line.split_once('=')
        {
            settings.push((key.to_owned(), value.to_owned()));
        }
    }
    settings
}

fn setting<'a>(settings: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    settings
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// `systemd-analyze`, or None when it is missing: then `test` could not make its check (see
/// [`cannot_check`]).
fn systemd_analyze(test: &str) -> Option<&'static str> {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok()
    {
        return Some("systemd-analyze");
    }
    cannot_check(
        test,
        "needs systemd-analyze (Debian's systemd package; tests/setup installs it)",
    );
    None
}

#[test]
fn unit_passes_systemd_analyze_verify_and_security() {
    let Some(analyze) = systemd_analyze("unit_passes_systemd_analyze_verify_and_security") else {
        return;
    };
    let unit = read(&repo("deploy/systemd/pathwise.service"));
    assert!(unit.contains(INSTALLED), "the unit runs {INSTALLED}");
    // verify checks that the programs exist: the binary under test stands in for the
    // installed one.
    let binary = pathwise_tests::pathwise().to_str().expect("a UTF-8 path");
    let dir = TempDir::new("unit");
    let path = dir.write("pathwise.service", &unit.replace(INSTALLED, binary));

    let verify = Run::command(Command::new(analyze).arg("verify").arg(&path));
    verify.success().check(
        verify.stdout().is_empty() && verify.stderr().is_empty(),
        "expected no warnings from systemd-analyze verify",
    );
    // Exposure 0.0 (locked down) to 10.0 (unsafe), times ten; 2.0 and below is "OK".
    let security = Run::command(
        Command::new(analyze)
            .args(["security", "--offline=yes", "--threshold=20"])
            .arg(&path),
    );
    security.success();
}

#[test]
fn unit_runs_the_shipped_config_which_never_forwards_to_itself() {
    let settings = service_settings();
    let one = |key: &str| match setting(&settings, key)[..] {
        [value] => value,
        ref values => panic!("{key}: expected one value, got {values:?}"),
    };
    assert_eq!(
        one("ExecStart"),
        format!("{INSTALLED} serve --config {CONFIG}")
    );
    assert_eq!(
        setting(&settings, "ExecReload"),
        [
            format!("{INSTALLED} check-config {CONFIG}").as_str(),
            "/bin/kill -HUP $MAINPID"
        ]
    );
    assert_eq!(one("Type"), "simple", "pathwise does not speak sd_notify");
    assert_eq!(one("DynamicUser"), "yes");
    assert_eq!(one("AmbientCapabilities"), "CAP_NET_BIND_SERVICE");
    assert_eq!(one("CapabilityBoundingSet"), "CAP_NET_BIND_SERVICE");
    assert_eq!(one("NoNewPrivileges"), "yes");
    let families: Vec<&str> = one("RestrictAddressFamilies").split_whitespace().collect();
    for family in ["AF_INET", "AF_INET6", "AF_NETLINK"] {
        assert!(
            families.contains(&family),
            "RestrictAddressFamilies lacks {family}"
        );
    }
    assert!(setting(&settings, "SystemCallFilter").contains(&"@system-service"));
    // The path watcher reads /proc/net; port 53 is the host's, not a user namespace's.
    for (key, value) in [
        ("ProcSubset", "pid"),
        ("PrivateUsers", "yes"),
        ("PrivateNetwork", "yes"),
    ] {
        assert!(
            !setting(&settings, key).contains(&value),
            "{key}={value} breaks pathwise"
        );
    }

    let shipped = read(&repo("deploy/systemd/pathwise.toml"));
    let effective = check_config(&shipped, &[], "deploy/systemd/pathwise.toml");
    assert_eq!(effective["upstream"]["resolv_conf"], UPSTREAM_FILE);
    assert_ne!(
        effective["upstream"]["resolv_conf"], "/etc/resolv.conf",
        "once /etc/resolv.conf names pathwise, it holds no upstream"
    );
    let listen = effective["listen"]["addresses"].to_string();
    assert!(
        listen.contains("\"127.0.0.1:53\""),
        "listen.addresses {listen}"
    );
}

/// `CAP_NET_BIND_SERVICE CAP_X` as setpriv's `-all,+net_bind_service,+x`.
fn setpriv_caps(value: &str) -> String {
    let mut caps = String::from("-all");
    for cap in value.split_whitespace() {
        let name = cap.trim_start_matches("CAP_").to_ascii_lowercase();
        caps.push_str(&format!(",+{name}"));
    }
    caps
}

/// One line of `/proc/PID/status`, e.g. `CapEff`, without its key.
fn proc_status(pid: u32, key: &str) -> String {
    let status = read(Path::new(&format!("/proc/{pid}/status")));
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"));
    line[key.len() + 1..].trim().to_owned()
}

#[test]
fn unit_credentials_bind_port_53_and_watch_the_host_without_root() {
    let test = "unit_credentials_bind_port_53_and_watch_the_host_without_root";
    if !require_root_for(test, "a network namespace, setpriv to another user") {
        return;
    }
    let settings = service_settings();
    let ns = NetNs::new("pwunit");
    // The host's resolver before pathwise, as the copy the README's steps make holds it.
    let nsd: SocketAddr = "127.0.0.153:53".parse().expect("an address");
    let _upstream = Upstream::start_in_netns(&ns, nsd, &unsigned());
    let dir = TempDir::new("unit-sandbox");
    let resolv = dir.write("upstream-resolv.conf", "nameserver 127.0.0.153\n");
    let resolv = resolv.to_str().expect("a UTF-8 path");
    let shipped = read(&repo("deploy/systemd/pathwise.toml"));
    assert!(
        shipped.contains(UPSTREAM_FILE),
        "the shipped config reads {UPSTREAM_FILE}"
    );
    let config = dir.write("pathwise.toml", &shipped.replace(UPSTREAM_FILE, resolv));

    // DynamicUser: an unprivileged user with no groups; 65534 stands in for it.
    let mut command = Command::new("ip");
    command.args(["netns", "exec", ns.name(), "setpriv"]).args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]);
    let bounding = setting(&settings, "CapabilityBoundingSet")[0];
    command.arg(format!("--bounding-set={}", setpriv_caps(bounding)));
    let ambient = setpriv_caps(setting(&settings, "AmbientCapabilities")[0]);
    command.arg(format!("--inh-caps={ambient}"));
    command.arg(format!("--ambient-caps={ambient}"));
    assert_eq!(setting(&settings, "NoNewPrivileges"), ["yes"]);
    command.arg("--no-new-privs").arg("--");
    let exec_start = setting(&settings, "ExecStart")[0];
    for word in exec_start.split_whitespace() {
        match word {
            INSTALLED => command.arg(pathwise_tests::pathwise()),
            CONFIG => command.arg(&config),
            word => command.arg(word),
        };
    }
    // Only a netlink notification can wake the path watcher within the test: no polling.
    command.env("PATHWISE_PATHS__POLL_INTERVAL", "1h");
    let mut pathwise = Process::start(&mut command);

    let timeout = Duration::from_secs(10);
    pathwise.wait_for("listening on udp 127.0.0.1:53", timeout);
    pathwise.wait_for("listening on udp [::1]:53", timeout);
    pathwise.wait_for("ready: an upstream answered", timeout);
    let pid = pathwise.pid();
    assert_eq!(
        proc_status(pid, "Uid").split_whitespace().next(),
        Some("65534")
    );
    // CAP_NET_BIND_SERVICE (bit 10) alone, effective and bounding; no_new_privs set.
    assert_eq!(proc_status(pid, "CapEff"), "0000000000000400");
    assert_eq!(proc_status(pid, "CapBnd"), "0000000000000400");
    assert_eq!(proc_status(pid, "NoNewPrivs"), "1");

    let udp4: SocketAddr = "127.0.0.1:53".parse().expect("an address");
    let udp6: SocketAddr = "[::1]:53".parse().expect("an address");
    let dig = |server, qtype| Dig::new(server, DUAL, qtype).in_netns(ns.name()).run();
    dig(udp4, "A")
        .rcode_is("NOERROR")
        .answers_are("A", &[DUAL_A]);
    dig(udp6, "AAAA")
        .rcode_is("NOERROR")
        .answers_are("AAAA", &[DUAL_AAAA]);

    assert!(
        !pathwise.log().contains("no change notifications"),
        "the netlink socket was refused:\n{pathwise}"
    );
    ns.ip(&["address", "add", "10.0.0.2/24", "dev", "pw0"]);
    ns.ip(&["route", "add", "default", "via", "10.0.0.1", "dev", "pw0"]);
    // paths.stabilize (2s) after the notification.
    let line = pathwise.wait_for("path state changed", timeout);
    assert!(line.contains("ipv4"), "expected the IPv4 path: {line}");

    let status = pathwise.stop();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );
}
