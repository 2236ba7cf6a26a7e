//! The host's own addresses, as RFC 6724 source candidates.

use pathwise_policy::SourceAddress;

/// Every address on the host's interfaces, with its on-link prefix length from the netmask.
pub fn source_addresses() -> std::io::Result<Vec<SourceAddress>> {
    let interfaces = if_addrs::get_if_addrs()?;
    Ok(interfaces
        .iter()
        .map(|interface| {
            let mut source = SourceAddress::new(interface.ip());
            source.prefix_len = match &interface.addr {
                if_addrs::IfAddr::V4(v4) => v4.prefixlen,
                if_addrs::IfAddr::V6(v6) => v6.prefixlen,
            };
            source
        })
        .collect())
}

/// The paths the host's addresses give right now (SPEC §3, without address flags or routes:
/// the path watcher adds those).
pub fn path_state(config: &crate::config::PathsConfig) -> pathwise_policy::PathState {
    use pathwise_policy::{AddressClass, Path, PathState};
    let Ok(interfaces) = if_addrs::get_if_addrs() else {
        return PathState::EMPTY;
    };
    interfaces
        .iter()
        .filter_map(
            |interface| match pathwise_policy::classify(interface.ip()) {
                AddressClass::Native6 => Some(Path::Native6),
                AddressClass::SixToFour => Some(Path::SixToFour),
                AddressClass::Ipv4 => Some(Path::Ipv4),
                AddressClass::Teredo => Some(Path::Teredo),
                AddressClass::Ula if config.count_ula => Some(Path::Native6),
                AddressClass::Documentation if config.count_documentation => {
                    Some(if interface.ip().is_ipv4() {
                        Path::Ipv4
                    } else {
                        Path::Native6
                    })
                }
                _ => None,
            },
        )
        .collect()
}
