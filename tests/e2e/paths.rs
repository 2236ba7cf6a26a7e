//! The path watcher on a real host (docs/behaviour.md): a network namespace built as a Teredo-only
//! host (IPv4 with a default route on `pw0`, a Teredo address with the IPv6 default route on its
//! own interface), NSD and `pathwise serve` on `127.0.0.1:53` inside it with `paths.override` left
//! at `auto`, and the namespace's resolv.conf pointing at pathwise. Applications are played by
//! glibc's own `getaddrinfo` (`getent`); what pathwise sees is asked of `pathwise paths`.
//! Root only; each namespace is deleted on drop, also when a test fails.

use std::net::{IpAddr, SocketAddr};
use std::thread::sleep;
use std::time::{Duration, Instant};

use pathwise_tests::{NetNs, Pathwise, Run, Signal, Upstream, pathwise, require_root};
use serde_json::Value;

use crate::serve::zone::{DUAL, DUAL_A, DUAL_AAAA, unsigned};

/// `paths.stabilize` of these tests: long enough that a query right after a change lands
/// inside it, short enough to keep the tests quick.
const STABILIZE: Duration = Duration::from_secs(3);
/// `paths.poll_interval` of these tests.
const POLL: Duration = Duration::from_secs(1);
/// Slack for process start-up (`getent`, `ip`) on a busy machine.
const SLACK: Duration = Duration::from_millis(1500);

const IPV4: &str = "10.0.0.2/24";
const IPV4_GATEWAY: &str = "10.0.0.1/24";
const TEREDO: &str = "2001:0:4136:e378:8000:63bf:3fff:fdd2";
const NATIVE: &str = "2a00:1450:4001::2";

/// The Teredo-only host. Fields drop in order: the processes, then the namespace.
struct Host {
    pathwise: Pathwise,
    upstream: Upstream,
    ns: NetNs,
}

impl Host {
    /// Builds the host, then runs NSD and pathwise in it; `paths` adds lines to `[paths]`.
    fn new(paths: &str) -> Self {
        let ns = NetNs::new("pwpath");
        teredo_only(&ns);
        ns.write_etc("resolv.conf", "nameserver 127.0.0.1\n");
        ns.write_etc("nsswitch.conf", "hosts: dns\n");
        let nsd: SocketAddr = "127.0.0.1:5300".parse().expect("an address");
        let upstream = Upstream::start_in_netns(&ns, nsd, &unsigned());
        let config = config(&upstream, paths);
        let pathwise = Pathwise::start_in_netns(&ns, &config, &["--listen", "127.0.0.1:53"]);
        Self {
            pathwise,
            upstream,
            ns,
        }
    }

    /// `getent DATABASE NAME` inside the host (see [`NetNs::getent`]).
    fn getent(&self, database: &str, name: &str) -> Vec<IpAddr> {
        self.ns.getent(database, name)
    }

    /// Asks `getent ahosts DUAL` until `wanted` holds for its answer or `within` has passed;
    /// returns how long it took, or fails naming the last answer.
    fn ahosts_until(
        &self,
        wanted: impl Fn(&[IpAddr]) -> bool,
        within: Duration,
        what: &str,
    ) -> Duration {
        let started = Instant::now();
        loop {
            let found = self.getent("ahosts", DUAL);
            if wanted(&found) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "{what}: not within {within:?}; getent ahosts {DUAL} still gives {found:?}\n\
                 pathwise's log:\n{}",
                self.pathwise.log().join("\n")
            );
            sleep(Duration::from_millis(100));
        }
    }

    /// Gives `pw0` a native global address and the IPv6 default route (preferred over
    /// Teredo's); `nodad` skips duplicate address detection.
    fn add_native(&self, nodad: bool) {
        let address = format!("{NATIVE}/64");
        let mut args = vec!["address", "add", address.as_str(), "dev", "pw0"];
        if nodad {
            args.push("nodad");
        }
        self.ns.ip(&args);
        self.ns.ip(&[
            "-6", "route", "add", "default", "dev", "pw0", "metric", "100",
        ]);
    }

    fn remove_native(&self) {
        self.ns.ip(&[
            "-6", "route", "del", "default", "dev", "pw0", "metric", "100",
        ]);
        let address = format!("{NATIVE}/64");
        self.ns
            .ip(&["address", "del", address.as_str(), "dev", "pw0"]);
    }

    /// Whether the native address is still tentative (DAD running).
    fn native_tentative(&self) -> bool {
        let run = self
            .ns
            .ip(&["-6", "address", "show", "dev", "pw0", "tentative"]);
        run.stdout().contains(NATIVE)
    }
}

/// pathwise's config: forward to `upstream`, [`STABILIZE`] and [`POLL`], `paths` lines added.
fn config(upstream: &Upstream, paths: &str) -> String {
    format!(
        "[upstream]\nservers = [\"{}\"]\ntimeout = \"1s\"\n\n\
         [paths]\nstabilize = \"{}s\"\npoll_interval = \"{}s\"\n{paths}\n",
        upstream.spec(),
        STABILIZE.as_secs(),
        POLL.as_secs(),
    )
}

/// IPv4 on `pw0` with a default route via its peer; Teredo on its own veth `teredo` with the
/// IPv6 default route at Teredo's usual metric (as miredo sets it up). Nothing leaves the
/// namespace: both peers are inside it.
fn teredo_only(ns: &NetNs) {
    ns.ip(&["address", "add", IPV4, "dev", "pw0"]);
    ns.ip(&["address", "add", IPV4_GATEWAY, "dev", "pw1"]);
    ns.ip(&["route", "add", "default", "via", "10.0.0.1", "dev", "pw0"]);
    ns.ip(&[
        "link",
        "add",
        "teredo",
        "type",
        "veth",
        "peer",
        "name",
        "teredo-peer",
    ]);
    ns.ip(&["link", "set", "teredo", "up"]);
    ns.ip(&["link", "set", "teredo-peer", "up"]);
    let teredo = format!("{TEREDO}/32");
    ns.ip(&["address", "add", teredo.as_str(), "dev", "teredo", "nodad"]);
    ns.ip(&[
        "-6", "route", "add", "default", "dev", "teredo", "metric", "1029",
    ]);
}

fn ip(address: &str) -> IpAddr {
    address.parse().expect("an address")
}

fn ipv4_only(found: &[IpAddr]) -> bool {
    found == [ip(DUAL_A)]
}

fn ipv6_first(found: &[IpAddr]) -> bool {
    found.first() == Some(&ip(DUAL_AAAA)) && found.contains(&ip(DUAL_A))
}

#[test]
fn getaddrinfo_follows_the_host_as_native_ipv6_comes_and_goes() {
    if !require_root("getaddrinfo_follows_the_host_as_native_ipv6_comes_and_goes") {
        return;
    }
    let host = Host::new("");
    host.pathwise.wait_for_log(
        "paths from the host's addresses: ipv4+teredo",
        Duration::ZERO,
    );

    // The explicit ask first: within policy.explicit.pair_window after an A for the same
    // name from the same client (all of this host is 127.0.0.1), an AAAA counts as paired.
    assert_eq!(
        host.getent("ahostsv6", DUAL),
        [ip(DUAL_AAAA)],
        "an explicit IPv6 ask still gets its AAAA"
    );
    assert_eq!(
        host.getent("ahosts", DUAL),
        [ip(DUAL_A)],
        "Teredo-only: AAAA asked beside A is filtered"
    );

    host.add_native(true);
    let added = Instant::now();
    assert_eq!(
        host.getent("ahosts", DUAL),
        [ip(DUAL_A)],
        "a new native path waits paths.stabilize before it counts"
    );
    host.ahosts_until(
        ipv6_first,
        STABILIZE + POLL + SLACK,
        "IPv6 first once native is stable",
    );
    assert!(
        added.elapsed() >= STABILIZE,
        "native counted after {:?}, before paths.stabilize",
        added.elapsed()
    );
    host.pathwise.wait_for_log(
        "gained native6 from 2a00:1450:4001::2 on pw0",
        Duration::ZERO,
    );

    host.remove_native();
    let took = host.ahosts_until(ipv4_only, POLL + SLACK, "IPv4 only once native is gone");
    host.pathwise.wait_for_log(
        "path state changed: native6+ipv4+teredo -> ipv4+teredo; lost native6 (2a00:1450:4001::2 on pw0",
        Duration::ZERO,
    );
    eprintln!("native lost: IPv4 only after {took:?}");
}

#[test]
fn a_tentative_address_counts_only_after_dad() {
    if !require_root("a_tentative_address_counts_only_after_dad") {
        return;
    }
    let host = Host::new("");
    // DAD on pw0 (the namespace turns it off by default): 3 probes a second apart.
    host.ns.exec(
        "sh",
        &[
            "-c",
            "echo 1 > /proc/sys/net/ipv6/conf/pw0/accept_dad && \
             echo 3 > /proc/sys/net/ipv6/conf/pw0/dad_transmits",
        ],
    );
    host.add_native(false);
    assert!(host.native_tentative(), "DAD is running on {NATIVE}");

    let report = paths_json(&host.ns, None);
    let native = address_entry(&report, NATIVE);
    assert_eq!(native["usable"], false, "{native}");
    assert_eq!(native["reason"], "tentative", "{native}");
    assert_eq!(report["filter_active"], true, "{report}");

    // While DAD runs, applications get IPv4 only.
    let mut seen_during_dad = 0;
    while host.native_tentative() {
        let found = host.getent("ahosts", DUAL);
        if host.native_tentative() {
            assert_eq!(found, [ip(DUAL_A)], "native still tentative");
            seen_during_dad += 1;
        }
        sleep(Duration::from_millis(300));
    }
    assert!(seen_during_dad > 0, "at least one query ran during DAD");

    let report = paths_json(&host.ns, None);
    assert_eq!(address_entry(&report, NATIVE)["usable"], true, "{report}");
    host.ahosts_until(
        ipv6_first,
        STABILIZE + POLL + SLACK,
        "IPv6 first after DAD and stabilize",
    );
}

#[test]
fn sighup_from_a_pinned_state_to_auto_follows_the_host() {
    if !require_root("sighup_from_a_pinned_state_to_auto_follows_the_host") {
        return;
    }
    let host = Host::new("override = [\"native6\", \"ipv4\"]");
    let mut found = host.getent("ahosts", DUAL);
    found.sort();
    assert_eq!(
        found,
        [ip(DUAL_A), ip(DUAL_AAAA)],
        "pinned dual-stack: both"
    );

    host.pathwise.write_config(&config(&host.upstream, ""));
    let mark = host.pathwise.log_len();
    host.pathwise.send_signal(Signal::Hup);
    host.pathwise
        .wait_for_log_since(mark, "config reloaded", Duration::from_secs(5));
    host.ahosts_until(
        ipv4_only,
        POLL + SLACK,
        "the real Teredo-only host after the reload",
    );
    host.pathwise.wait_for_log_since(
        mark,
        "path state changed: native6+ipv4 -> ipv4+teredo",
        Duration::ZERO,
    );
}

#[test]
fn paths_tells_the_truth_about_every_address() {
    if !require_root("paths_tells_the_truth_about_every_address") {
        return;
    }
    let ns = NetNs::new("pwpath");
    teredo_only(&ns);
    // A native address on an interface without a global route, a ULA, an ignored bridge, and
    // an interface whose peer is down (no carrier).
    ns.ip(&[
        "address",
        "add",
        "2a00:1450:4001::9/64",
        "dev",
        "teredo-peer",
        "nodad",
    ]);
    ns.ip(&["address", "add", "fd00::2/64", "dev", "pw0", "nodad"]);
    ns.ip(&[
        "link", "add", "dock0", "type", "veth", "peer", "name", "dock1",
    ]);
    ns.ip(&["link", "set", "dock0", "up"]);
    ns.ip(&["link", "set", "dock1", "up"]);
    ns.ip(&["address", "add", "172.17.0.1/16", "dev", "dock0"]);
    ns.ip(&[
        "link", "add", "down0", "type", "veth", "peer", "name", "down1",
    ]);
    ns.ip(&["link", "set", "down0", "up"]);
    ns.ip(&["address", "add", "10.9.0.2/24", "dev", "down0"]);
    let config = "[paths]\nignore_interfaces = [\"dock*\"]\n";
    let dir = pathwise_tests::TempDir::new("paths");
    let file = dir.write("pathwise.toml", config);

    let report = paths_json(&ns, Some(file.to_str().expect("a UTF-8 path")));

    let expect = |address: &str, interface: &str, class: &str, reason: Option<&str>| {
        let entry = address_entry(&report, address);
        assert_eq!(entry["interface"], interface, "{entry}");
        assert_eq!(entry["class"], class, "{entry}");
        assert_eq!(entry["usable"], reason.is_none(), "{entry}");
        assert_eq!(entry["reason"].as_str(), reason, "{entry}");
    };
    expect("10.0.0.2", "pw0", "ipv4", None);
    expect(TEREDO, "teredo", "teredo", None);
    expect(
        "2a00:1450:4001::9",
        "teredo-peer",
        "native6",
        Some("no route"),
    );
    expect("fd00::2", "pw0", "ula", Some("not counted"));
    expect("172.17.0.1", "dock0", "ipv4", Some("ignored interface"));
    expect("10.9.0.2", "down0", "ipv4", Some("interface down"));
    expect("127.0.0.1", "lo", "loopback", Some("not a path"));
    let link_local = report["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["interface"] == "pw0" && entry["class"] == "link-local")
        .unwrap_or_else(|| panic!("pw0's link-local address is listed: {report:#}"));
    assert_eq!(link_local["reason"], "not a path", "{link_local}");
    assert_eq!(
        report["paths"],
        serde_json::json!(["ipv4", "teredo"]),
        "{report}"
    );
    assert_eq!(report["filter_active"], true, "{report}");
    assert_eq!(report["pinned"], false, "{report}");

    // The text form says the same, one address a line.
    let text = Run::command(
        std::process::Command::new("ip")
            .args(["netns", "exec", ns.name()])
            .arg(pathwise())
            .args(["paths", "--config"])
            .arg(&file),
    );
    text.success();
    let line = text
        .stdout()
        .lines()
        .find(|line| line.contains("2a00:1450:4001::9"))
        .unwrap_or_else(|| text.fail("no line for 2a00:1450:4001::9"));
    text.check(
        line.ends_with("no: no route"),
        "the unrouted address says why",
    );
    text.check(
        text.stdout().contains("paths: ipv4+teredo"),
        "the path state",
    );
    text.check(text.stdout().contains("AAAA filter: active"), "the filter");

    // An override pins the state whatever the addresses say.
    let pinned = dir.write(
        "pinned.toml",
        "[paths]\noverride = [\"native6\", \"ipv4\"]\n",
    );
    let report = paths_json(&ns, Some(pinned.to_str().expect("a UTF-8 path")));
    assert_eq!(
        report["paths"],
        serde_json::json!(["native6", "ipv4"]),
        "{report}"
    );
    assert_eq!(report["pinned"], true, "{report}");
    assert_eq!(report["filter_active"], false, "{report}");
}

/// `pathwise paths --json [--config FILE]` inside the namespace.
fn paths_json(ns: &NetNs, config: Option<&str>) -> Value {
    let mut command = std::process::Command::new("ip");
    command
        .args(["netns", "exec", ns.name()])
        .arg(pathwise())
        .args(["paths", "--json"]);
    if let Some(config) = config {
        command.args(["--config", config]);
    }
    let run = Run::command(&mut command);
    run.success();
    run.json()
}

/// The `addresses` entry for `address`.
fn address_entry<'a>(report: &'a Value, address: &str) -> &'a Value {
    report["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["address"] == address)
        .unwrap_or_else(|| panic!("no entry for {address} in {report:#}"))
}
