//! The host's local addresses, each with the path it gives or why it gives none
//! (docs/behaviour.md).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use pathwise_policy::{AddressClass, Counting, Path, PathState};

use super::pattern::matches_any;
use super::proc::{self, AddressFlags};
use crate::config::PathsConfig;

/// Why a local address gives no path right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unusable {
    /// Loopback, link-local, multicast, NAT64 and the like: never a source for a path.
    NotAPath,
    /// ULA or documentation, while `paths.count_ula` / `paths.count_documentation` is false.
    NotCounted,
    /// Its interface matches `paths.ignore_interfaces`.
    Ignored,
    /// Its interface is down (not running).
    InterfaceDown,
    /// Duplicate address detection is still running.
    Tentative,
    /// Duplicate address detection found a duplicate.
    DadFailed,
    /// Its interface has no route covering global destinations (`paths.require_route`).
    NoRoute,
}

impl Unusable {
    /// The words of `pathwise paths` and its `reason` field.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotAPath => "not a path",
            Self::NotCounted => "not counted",
            Self::Ignored => "ignored interface",
            Self::InterfaceDown => "interface down",
            Self::Tentative => "tentative",
            Self::DadFailed => "dad failed",
            Self::NoRoute => "no route",
        }
    }
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One address on one of the host's interfaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalAddress {
    /// The interface's name.
    pub interface: String,
    /// The address.
    pub address: IpAddr,
    /// Its class (docs/behaviour.md).
    pub class: AddressClass,
    /// Its kernel flags (IPv6 on Linux; empty elsewhere).
    pub flags: AddressFlags,
    /// The path it gives, or why none.
    pub usable: Result<Path, Unusable>,
}

/// What the host's addresses and routes are, before they are judged.
#[derive(Clone, Debug, Default)]
pub struct HostFacts {
    /// (interface, address, interface running) from `getifaddrs`.
    pub addresses: Vec<(String, IpAddr, bool)>,
    /// IPv6 address flags by interface and address.
    pub flags: HashMap<(String, Ipv6Addr), AddressFlags>,
    /// Interfaces with a route covering global IPv6 destinations; `None` when unknown.
    pub ipv6_global_routes: Option<HashSet<String>>,
    /// Interfaces with an IPv4 default route; `None` when unknown.
    pub ipv4_default_routes: Option<HashSet<String>>,
}

impl HostFacts {
    /// Reads the host: `getifaddrs` through `if-addrs`, then on Linux the flags and routes of
    /// `/proc/net`. Where a `/proc` file cannot be read, routes count as unknown (every
    /// address passes the route check) and flags as clear.
    pub fn read() -> std::io::Result<Self> {
        let addresses = if_addrs::get_if_addrs()?
            .into_iter()
            .map(|interface| {
                let running = interface.is_oper_up();
                (interface.name, interface.addr.ip(), running)
            })
            .collect();
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let flags = read("/proc/net/if_inet6")
            .map(|text| proc::parse_if_inet6(&text))
            .unwrap_or_default();
        let ipv6_global_routes = read("/proc/net/ipv6_route").map(|text| {
            proc::parse_ipv6_route(&text)
                .into_iter()
                .filter(proc::covers_global_ipv6)
                .map(|route| route.interface)
                .collect()
        });
        let ipv4_default_routes = read("/proc/net/route").map(|text| {
            proc::parse_ipv4_route(&text)
                .into_iter()
                .filter(proc::covers_global_ipv4)
                .map(|route| route.interface)
                .collect()
        });
        Ok(Self {
            addresses,
            flags,
            ipv6_global_routes,
            ipv4_default_routes,
        })
    }
}

/// Every local address, judged under one `[paths]` configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    /// The addresses, in the order the system listed them.
    pub addresses: Vec<LocalAddress>,
}

impl Inventory {
    /// Reads the host now and judges its addresses under `config`.
    pub fn read(config: &PathsConfig) -> std::io::Result<Self> {
        Ok(Self::judge(&HostFacts::read()?, config))
    }

    /// Judges each address of `facts` under `config` (docs/behaviour.md): the first reason that
    /// applies wins, in the order not-a-path, ignored, down, DAD failed, tentative, no route.
    pub fn judge(facts: &HostFacts, config: &PathsConfig) -> Self {
        let counting = Counting {
            ula: config.count_ula,
            documentation: config.count_documentation,
        };
        let addresses = facts
            .addresses
            .iter()
            .map(|(interface, address, running)| {
                let flags = match address {
                    IpAddr::V6(v6) => facts
                        .flags
                        .get(&(interface.clone(), *v6))
                        .copied()
                        .unwrap_or_default(),
                    IpAddr::V4(_) => AddressFlags::default(),
                };
                let routes = if address.is_ipv4() {
                    &facts.ipv4_default_routes
                } else {
                    &facts.ipv6_global_routes
                };
                let routed = routes
                    .as_ref()
                    .is_none_or(|interfaces| interfaces.contains(interface));
                let class = pathwise_policy::classify(*address);
                let usable = match Path::of_local(*address, counting) {
                    None if matches!(class, AddressClass::Ula | AddressClass::Documentation) => {
                        Err(Unusable::NotCounted)
                    }
                    None => Err(Unusable::NotAPath),
                    Some(_) if matches_any(&config.ignore_interfaces, interface) => {
                        Err(Unusable::Ignored)
                    }
                    Some(_) if !running => Err(Unusable::InterfaceDown),
                    Some(_) if flags.dad_failed => Err(Unusable::DadFailed),
                    Some(_) if flags.tentative => Err(Unusable::Tentative),
                    Some(_) if config.require_route && !routed => Err(Unusable::NoRoute),
                    Some(path) => Ok(path),
                };
                LocalAddress {
                    interface: interface.clone(),
                    address: *address,
                    class,
                    flags,
                    usable,
                }
            })
            .collect();
        Self { addresses }
    }

    /// The paths the usable addresses give.
    pub fn paths(&self) -> PathState {
        self.addresses
            .iter()
            .filter_map(|address| address.usable.ok())
            .collect()
    }

    /// The usable addresses that give `path`.
    pub fn giving(&self, path: Path) -> impl Iterator<Item = &LocalAddress> {
        self.addresses
            .iter()
            .filter(move |address| address.usable == Ok(path))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::PathOverride;

    fn config() -> PathsConfig {
        PathsConfig {
            stabilize: Duration::from_secs(2),
            poll_interval: Duration::from_secs(1),
            require_route: true,
            ignore_interfaces: vec!["docker*".to_owned()],
            count_ula: false,
            count_documentation: false,
            path_override: PathOverride::Auto,
        }
    }

    fn set(names: &[&str]) -> Option<HashSet<String>> {
        Some(names.iter().map(|&name| name.to_owned()).collect())
    }

    /// A Teredo host with a native address still in DAD, a Docker bridge, a down interface
    /// and a native address on an interface with no route.
    fn facts() -> HostFacts {
        let address = |interface: &str, address: &str, running| {
            (
                interface.to_owned(),
                address.parse::<IpAddr>().expect("an address"),
                running,
            )
        };
        let mut flags = HashMap::new();
        flags.insert(
            ("eth0".to_owned(), "2a00::2".parse().expect("an address")),
            AddressFlags {
                tentative: true,
                ..AddressFlags::default()
            },
        );
        flags.insert(
            ("eth0".to_owned(), "2a00::3".parse().expect("an address")),
            AddressFlags {
                tentative: true,
                dad_failed: true,
                ..AddressFlags::default()
            },
        );
        HostFacts {
            addresses: vec![
                address("lo", "127.0.0.1", true),
                address("eth0", "10.0.0.2", true),
                address("eth0", "2a00::2", true),
                address("eth0", "2a00::3", true),
                address("eth0", "fe80::1", true),
                address("teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", true),
                address("docker0", "172.17.0.1", true),
                address("eth1", "192.168.1.2", false),
                address("wg0", "2a00:1::2", true),
                address("eth0", "fd00::5", true),
            ],
            flags,
            ipv6_global_routes: set(&["eth0", "teredo", "docker0"]),
            ipv4_default_routes: set(&["eth0", "eth1", "docker0"]),
        }
    }

    #[test]
    fn each_address_has_its_path_or_the_first_reason_it_has_none() {
        let inventory = Inventory::judge(&facts(), &config());
        let judged: Vec<(&str, Result<Path, Unusable>)> = inventory
            .addresses
            .iter()
            .map(|address| (address.interface.as_str(), address.usable))
            .collect();
        assert_eq!(
            judged,
            [
                ("lo", Err(Unusable::NotAPath)),
                ("eth0", Ok(Path::Ipv4)),
                ("eth0", Err(Unusable::Tentative)),
                ("eth0", Err(Unusable::DadFailed)),
                ("eth0", Err(Unusable::NotAPath)),
                ("teredo", Ok(Path::Teredo)),
                ("docker0", Err(Unusable::Ignored)),
                ("eth1", Err(Unusable::InterfaceDown)),
                ("wg0", Err(Unusable::NoRoute)),
                ("eth0", Err(Unusable::NotCounted)),
            ]
        );
        assert_eq!(inventory.paths().to_string(), "ipv4+teredo");
    }

    #[test]
    fn without_require_route_an_unrouted_address_counts() {
        let config = PathsConfig {
            require_route: false,
            ..config()
        };
        let inventory = Inventory::judge(&facts(), &config);
        assert_eq!(inventory.paths().to_string(), "native6+ipv4+teredo");
        let native: Vec<String> = inventory
            .giving(Path::Native6)
            .map(|address| address.address.to_string())
            .collect();
        assert_eq!(native, ["2a00:1::2"]);
    }

    #[test]
    fn unknown_routes_do_not_hide_addresses() {
        let facts = HostFacts {
            ipv6_global_routes: None,
            ipv4_default_routes: None,
            ..facts()
        };
        let inventory = Inventory::judge(&facts, &config());
        assert_eq!(inventory.paths().to_string(), "native6+ipv4+teredo");
    }
}
