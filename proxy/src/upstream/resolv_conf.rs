//! The fallback upstreams: the `nameserver` lines of `upstream.resolv_conf` (resolv.conf(5)),
//! minus pathwise's own listening addresses, so that pathwise never forwards to itself.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use tracing::debug;

/// The DNS port: resolv.conf has no syntax for another.
const DNS_PORT: u16 = 53;

/// The nameservers of a resolv.conf text, in file order, duplicates removed, on port 53.
///
/// Follows glibc: a line is `nameserver ADDRESS`, anything after the address is ignored,
/// and lines starting with `#` or `;` are comments. Unlike glibc, every nameserver is kept,
/// not only the first three. An IPv6 address may carry a zone (`fe80::1%2`): a numeric zone
/// is kept as the scope id; a zone given by interface name (`%eth0`) is dropped with its
/// line, since mapping names to interface indexes needs the host, not this text.
pub fn nameservers_from_resolv_conf(text: &str) -> Vec<SocketAddr> {
    let mut servers = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            continue; // other options, comments, blank lines
        }
        let Some(word) = words.next() else {
            continue;
        };
        match parse_address(word) {
            Some(server) if !servers.contains(&server) => servers.push(server),
            Some(_) => {}
            None => debug!(
                nameserver = word,
                "skipped an unusable resolv.conf nameserver"
            ),
        }
    }
    servers
}

/// `192.0.2.1`, `2001:db8::1`, or `fe80::1%2` as a socket address on port 53.
fn parse_address(word: &str) -> Option<SocketAddr> {
    let (address, zone) = match word.split_once('%') {
        Some((address, zone)) => (address, Some(zone)),
        None => (word, None),
    };
    match (address.parse::<IpAddr>().ok()?, zone) {
        (ip, None) => Some(SocketAddr::new(ip, DNS_PORT)),
        (IpAddr::V6(ip), Some(zone)) => {
            let scope = zone.parse().ok()?;
            Some(SocketAddrV6::new(ip, DNS_PORT, 0, scope).into())
        }
        (IpAddr::V4(_), Some(_)) => None,
    }
}

/// `nameservers` without those that would reach pathwise itself: an address it listens on
/// (same IP and port); any address of this host (`local`, loopback included) on the port of
/// a wildcard listener (`0.0.0.0`, `::`, which on Linux also takes IPv4); and `0.0.0.0` or
/// `::` on the port of a loopback or wildcard listener, since a packet sent to the
/// unspecified address is delivered to this host.
pub(super) fn without_own(
    nameservers: Vec<SocketAddr>,
    own_listen: &[SocketAddr],
    local: &[IpAddr],
) -> Vec<SocketAddr> {
    nameservers
        .into_iter()
        .filter(|server| {
            let own = own_listen
                .iter()
                .any(|listen| reaches(*server, *listen, local));
            if own {
                debug!(%server, "not forwarding to a nameserver that is pathwise itself");
            }
            !own
        })
        .collect()
}

/// Whether a query sent to `server` would arrive at the listener `listen`.
fn reaches(server: SocketAddr, listen: SocketAddr, local: &[IpAddr]) -> bool {
    if server.port() != listen.port() {
        return false;
    }
    let (server, listen) = (server.ip().to_canonical(), listen.ip().to_canonical());
    let wildcard_covers = match listen {
        IpAddr::V4(_) => server.is_ipv4(),
        IpAddr::V6(_) => true,
    };
    let server_is_local =
        server.is_loopback() || server.is_unspecified() || local.contains(&server);
    server == listen
        || (listen.is_unspecified() && wildcard_covers && server_is_local)
        || (server.is_unspecified() && listen.is_loopback() && server.is_ipv4() == listen.is_ipv4())
}
