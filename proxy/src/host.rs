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
