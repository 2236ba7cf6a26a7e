//! Linux's view of addresses and routes through `/proc/net`: the IPv6 address flags that
//! `getifaddrs` does not report, and the routes that make an address a path (docs/behaviour.md).
//!
//! The parsers take the files' text, so they are tested on fixed samples; a line that does not
//! parse is skipped rather than failing the whole read.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `IFA_F_*` bits of `/proc/net/if_inet6` (linux/if_addr.h).
const IFA_F_OPTIMISTIC: u32 = 0x04;
const IFA_F_DADFAILED: u32 = 0x08;
const IFA_F_DEPRECATED: u32 = 0x20;
const IFA_F_TENTATIVE: u32 = 0x40;

/// `RTF_*` bits of the route files (linux/route.h, linux/ipv6_route.h).
const RTF_UP: u32 = 0x0001;
const RTF_REJECT: u32 = 0x0200;

/// The flags of one IPv6 address that decide whether it is usable yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddressFlags {
    /// Duplicate address detection is still running (RFC 4862 section 5.4).
    pub tentative: bool,
    /// Tentative, but usable during DAD (RFC 4429); still not counted (docs/behaviour.md).
    pub optimistic: bool,
    /// DAD found a duplicate: the address is never used.
    pub dad_failed: bool,
    /// Its preferred lifetime is over: usable, but not for new connections if anything else is.
    pub deprecated: bool,
}

impl AddressFlags {
    fn from_bits(bits: u32) -> Self {
        Self {
            tentative: bits & IFA_F_TENTATIVE != 0,
            optimistic: bits & IFA_F_OPTIMISTIC != 0,
            dad_failed: bits & IFA_F_DADFAILED != 0,
            deprecated: bits & IFA_F_DEPRECATED != 0,
        }
    }
}

/// The flags of every IPv6 address, by interface name and address, from `/proc/net/if_inet6`:
/// `fe800000000000000000000000000001 02 40 20 80 eth0` (address, index, prefix length, scope,
/// flags, name; all hex).
pub fn parse_if_inet6(text: &str) -> HashMap<(String, Ipv6Addr), AddressFlags> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [address, _index, _prefix, _scope, flags, name] = fields.as_slice() else {
                return None;
            };
            let address = Ipv6Addr::from(u128::from_str_radix(address, 16).ok()?);
            let flags = u32::from_str_radix(flags, 16).ok()?;
            Some((
                ((*name).to_owned(), address),
                AddressFlags::from_bits(flags),
            ))
        })
        .collect()
}

/// One route that leads somewhere: its destination prefix and its interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route<A> {
    /// The destination network.
    pub destination: A,
    /// The destination prefix length.
    pub prefix_len: u8,
    /// The interface it leaves through.
    pub interface: String,
}

/// The usable IPv6 routes of `/proc/net/ipv6_route`: `destination plen source plen next-hop
/// metric refcount use flags interface`, addresses in 32 hex digits, numbers in hex. Routes
/// that are down or reject (`unreachable`, `prohibit`, `blackhole`) are left out.
pub fn parse_ipv6_route(text: &str) -> Vec<Route<Ipv6Addr>> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [destination, plen, _, _, _, _, _, _, flags, interface] = fields.as_slice() else {
                return None;
            };
            let flags = u32::from_str_radix(flags, 16).ok()?;
            if flags & RTF_UP == 0 || flags & RTF_REJECT != 0 {
                return None;
            }
            Some(Route {
                destination: Ipv6Addr::from(u128::from_str_radix(destination, 16).ok()?),
                prefix_len: u8::from_str_radix(plen, 16).ok()?,
                interface: (*interface).to_owned(),
            })
        })
        .collect()
}

/// The usable IPv4 routes of `/proc/net/route` (the main table): `Iface Destination Gateway
/// Flags RefCnt Use Metric Mask ...`, the destination and mask as hex in host byte order.
pub fn parse_ipv4_route(text: &str) -> Vec<Route<Ipv4Addr>> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [interface, destination, _gateway, flags, _, _, _, mask, ..] = fields.as_slice()
            else {
                return None;
            };
            let flags = u32::from_str_radix(flags, 16).ok()?;
            if flags & RTF_UP == 0 || flags & RTF_REJECT != 0 {
                return None;
            }
            let host_order = |hex: &str| u32::from_str_radix(hex, 16).ok().map(u32::from_be);
            let mask = host_order(mask)?;
            Some(Route {
                destination: Ipv4Addr::from(host_order(destination)?),
                prefix_len: u8::try_from(mask.leading_ones()).ok()?,
                interface: (*interface).to_owned(),
            })
        })
        .collect()
}

/// Whether a route covers global IPv6 destinations: `::/0`, `2000::/3` or anything between.
pub fn covers_global_ipv6(route: &Route<Ipv6Addr>) -> bool {
    const GLOBAL: u128 = 0x2000 << 112;
    if route.prefix_len > 3 {
        return false;
    }
    let mask = u128::MAX
        .checked_shl(128 - u32::from(route.prefix_len))
        .unwrap_or(0);
    u128::from(route.destination) & mask == GLOBAL & mask
}

/// Whether a route covers every IPv4 destination (`0.0.0.0/0`).
pub fn covers_global_ipv4(route: &Route<Ipv4Addr>) -> bool {
    route.prefix_len == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/proc/net/if_inet6` of a Teredo host with a native address in DAD, one deprecated, one
    /// that failed DAD, and an optimistic one.
    const IF_INET6: &str = "\
00000000000000000000000000000001 01 80 10 80       lo
200100004136e378800063bf3ffffdd2 03 20 00 80   teredo
2a001450400100000000000000000002 02 40 00 40     eth0
2a001450400100000000000000000003 02 40 00 a0     eth0
2a001450400100000000000000000004 02 40 00 c8     eth0
2a001450400100000000000000000005 02 40 00 44     eth0
fe800000000000000000000000000001 02 40 20 80     eth0
not a line
";

    #[test]
    fn if_inet6_flags_by_interface_and_address() {
        let flags = parse_if_inet6(IF_INET6);
        let of = |name: &str, address: &str| {
            flags[&(
                name.to_owned(),
                address.parse::<Ipv6Addr>().expect("an address"),
            )]
        };
        assert_eq!(flags.len(), 7, "the malformed line is skipped");
        assert_eq!(
            of("teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2"),
            AddressFlags::default()
        );
        assert!(of("eth0", "2a00:1450:4001::2").tentative);
        assert!(of("eth0", "2a00:1450:4001::3").deprecated);
        let failed = of("eth0", "2a00:1450:4001::4");
        assert!(failed.dad_failed && failed.tentative);
        let optimistic = of("eth0", "2a00:1450:4001::5");
        assert!(optimistic.optimistic && optimistic.tentative);
    }

    /// `/proc/net/ipv6_route` with a default route on `teredo`, `2000::/3` on `eth0`, an
    /// on-link /64, and the kernel's unreachable default on `lo`.
    const IPV6_ROUTE: &str = "\
2a001450400100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
20000000000000000000000000000000 03 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 00000405 00000001 00000000 00000001   teredo
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
";

    #[test]
    fn ipv6_routes_skip_reject_and_know_global_coverage() {
        let routes = parse_ipv6_route(IPV6_ROUTE);
        let global: Vec<&str> = routes
            .iter()
            .filter(|route| covers_global_ipv6(route))
            .map(|route| route.interface.as_str())
            .collect();
        assert_eq!(routes.len(), 3, "the unreachable route is left out");
        assert_eq!(global, ["eth0", "teredo"]);
    }

    #[test]
    fn ipv6_prefixes_covering_global_space() {
        let route = |destination: &str, prefix_len| Route {
            destination: destination.parse::<Ipv6Addr>().expect("an address"),
            prefix_len,
            interface: "eth0".to_owned(),
        };
        assert!(covers_global_ipv6(&route("::", 0)));
        assert!(covers_global_ipv6(&route("2000::", 3)));
        assert!(covers_global_ipv6(&route("2000::", 2)));
        assert!(!covers_global_ipv6(&route("4000::", 2)));
        assert!(!covers_global_ipv6(&route("2000::", 4)));
        assert!(!covers_global_ipv6(&route("2001::", 32)));
    }

    /// `/proc/net/route` with a default via 10.0.0.1 on eth0, the on-link /24, a route that is
    /// down, and an unreachable one.
    const IPV4_ROUTE: &str = "\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth1\t00000000\t0101A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0
lo\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0
";

    #[test]
    fn ipv4_routes_with_prefix_lengths_and_defaults() {
        let routes = parse_ipv4_route(IPV4_ROUTE);
        assert_eq!(
            routes,
            [
                Route {
                    destination: Ipv4Addr::UNSPECIFIED,
                    prefix_len: 0,
                    interface: "eth0".to_owned()
                },
                Route {
                    destination: Ipv4Addr::new(10, 0, 0, 0),
                    prefix_len: 24,
                    interface: "eth0".to_owned()
                },
            ],
            "the down and the reject route are left out"
        );
        assert!(covers_global_ipv4(&routes[0]));
        assert!(!covers_global_ipv4(&routes[1]));
    }
}
