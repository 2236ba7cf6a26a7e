//! glibc's own `getaddrinfo` through pathwise (docs/behaviour.md, "what glibc does"): a
//! Teredo-only host built in a network namespace, with NSD and pathwise (on port 53, which
//! resolv.conf needs) running inside it and resolv.conf pointing at pathwise. Root only.

use std::net::{IpAddr, SocketAddr};

use pathwise_tests::{NetNs, Pathwise, Upstream, require_root};

use super::zone::*;
use super::{TEREDO_PATHS, config};

/// The host's addresses: IPv4 and a Teredo address, nothing else (as the seed's Vista host).
const ADDRESSES: [&str; 2] = [
    "198.51.100.10/24",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2/32",
];

/// A Teredo-only host whose resolver is pathwise. Fields drop in order: the processes first,
/// then the namespace.
struct Host {
    _pathwise: Pathwise,
    _upstream: Upstream,
    ns: NetNs,
}

impl Host {
    /// The host, with `policy` (e.g. `[policy]` keys) in pathwise's config.
    fn new(policy: &str) -> Self {
        let ns = NetNs::new("pwsrv");
        for address in ADDRESSES {
            let mut args = vec!["address", "add", address, "dev", "pw0"];
            if address.contains(':') {
                args.push("nodad");
            }
            ns.ip(&args);
        }
        // Routes make the addresses usable sources; pw0's peer is inside too: nothing leaves.
        ns.ip(&["-4", "route", "add", "default", "dev", "pw0"]);
        ns.ip(&["-6", "route", "add", "default", "dev", "pw0"]);
        ns.write_etc("resolv.conf", "nameserver 127.0.0.1\n");
        ns.write_etc("nsswitch.conf", "hosts: dns\n");
        let nsd: SocketAddr = "127.0.0.1:5300".parse().expect("an address");
        let upstream = Upstream::start_in_netns(&ns, nsd, &super::zone::unsigned());
        let config = config(&upstream, TEREDO_PATHS, policy);
        let pathwise = Pathwise::start_in_netns(&ns, &config, &["--listen", "127.0.0.1:53"]);
        Self {
            _pathwise: pathwise,
            _upstream: upstream,
            ns,
        }
    }

    /// `getent DATABASE NAME` inside the host (see [`NetNs::getent`]).
    fn getent(&self, database: &str, name: &str) -> Vec<IpAddr> {
        self.ns.getent(database, name)
    }
}

fn ips(addresses: &[&str]) -> Vec<IpAddr> {
    addresses
        .iter()
        .map(|a| a.parse().expect("an address"))
        .collect()
}

#[test]
fn getaddrinfo_unspec_gets_no_aaaa_on_a_teredo_only_host() {
    if !require_root("getaddrinfo_unspec_gets_no_aaaa_on_a_teredo_only_host") {
        return;
    }
    let host = Host::new("");
    let found = host.getent("ahosts", DUAL);
    assert_eq!(
        found,
        ips(&[DUAL_A]),
        "getent ahosts {DUAL}: A and AAAA asked together, so the AAAA is filtered"
    );
}

#[test]
fn getaddrinfo_inet6_gets_the_aaaa() {
    if !require_root("getaddrinfo_inet6_gets_the_aaaa") {
        return;
    }
    let host = Host::new("");
    let found = host.getent("ahostsv6", DUAL);
    assert_eq!(
        found,
        ips(&[DUAL_AAAA]),
        "getent ahostsv6 {DUAL}: AAAA asked alone is explicit, so it is kept"
    );
}

#[test]
fn getaddrinfo_unspec_keeps_a_teredo_destination() {
    if !require_root("getaddrinfo_unspec_keeps_a_teredo_destination") {
        return;
    }
    let host = Host::new("");
    let mut found = host.getent("ahosts", TEREDO);
    found.sort();
    let mut expected = ips(&[TEREDO_A, TEREDO_AAAA]);
    expected.sort();
    assert_eq!(
        found, expected,
        "getent ahosts {TEREDO}: a Teredo destination is kept (policy.keep_teredo_destinations)"
    );
}

#[test]
fn getaddrinfo_unspec_gets_both_when_the_filter_is_off() {
    // The control: glibc does ask AAAA on this host (AI_ADDRCONFIG counts the Teredo address),
    // so the test above sees the filter at work, not glibc leaving AAAA out.
    if !require_root("getaddrinfo_unspec_gets_both_when_the_filter_is_off") {
        return;
    }
    let host = Host::new("[policy]\nfilter_aaaa = \"never\"\n");
    let mut found = host.getent("ahosts", DUAL);
    found.sort();
    let mut expected = ips(&[DUAL_A, DUAL_AAAA]);
    expected.sort();
    assert_eq!(
        found, expected,
        "getent ahosts {DUAL} with filter_aaaa = never"
    );
}
