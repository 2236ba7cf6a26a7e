//! Address classes (docs/behaviour.md): which kind of path an address belongs to, Teredo and 6to4
//! decoded.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The class of an IP address. Every address has exactly one; the longest matching prefix wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressClass {
    /// `2001:0000::/32`, Teredo (RFC 4380 section 4).
    Teredo,
    /// `2002::/16`, 6to4 (RFC 3056 section 2).
    SixToFour,
    /// Other global unicast IPv6 (`2000::/3`).
    Native6,
    /// IPv4 that can be a destination, including private ranges (RFC 6724 section 3.2 calls them
    /// global).
    Ipv4,
    /// `64:ff9b::/96` (RFC 6052) and `64:ff9b:1::/48` (RFC 8215).
    Nat64,
    /// `fc00::/7`, unique local (RFC 4193).
    Ula,
    /// `fe80::/10` and `169.254.0.0/16`.
    LinkLocal,
    /// `::1/128` and `127.0.0.0/8`.
    Loopback,
    /// `2001:db8::/32`, `3fff::/20` (RFC 9637), `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`.
    Documentation,
    /// `ff00::/8` and `224.0.0.0/4`.
    Multicast,
    /// `::` and `0.0.0.0`.
    Unspecified,
    /// Anything else that cannot be a destination (`0.0.0.0/8`, `240.0.0.0/4`, `fec0::/10`, ...).
    Other,
}

impl AddressClass {
    /// Every class, in the order of the table in docs/behaviour.md.
    pub const ALL: [AddressClass; 12] = [
        Self::Teredo,
        Self::SixToFour,
        Self::Native6,
        Self::Ipv4,
        Self::Nat64,
        Self::Ula,
        Self::LinkLocal,
        Self::Loopback,
        Self::Documentation,
        Self::Multicast,
        Self::Unspecified,
        Self::Other,
    ];

    /// The lower-case name, as printed by `pathwise classify`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Teredo => "teredo",
            Self::SixToFour => "6to4",
            Self::Native6 => "native6",
            Self::Ipv4 => "ipv4",
            Self::Nat64 => "nat64",
            Self::Ula => "ula",
            Self::LinkLocal => "link-local",
            Self::Loopback => "loopback",
            Self::Documentation => "documentation",
            Self::Multicast => "multicast",
            Self::Unspecified => "unspecified",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields of a Teredo address (RFC 4380 section 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeredoParts {
    /// The Teredo server's IPv4 address, bits 32..63.
    pub server: Ipv4Addr,
    /// The client's external (mapped) IPv4 address: bits 96..127 XOR `0xffffffff`.
    pub client: Ipv4Addr,
    /// The client's external (mapped) UDP port: bits 80..95 XOR `0xffff`.
    pub port: u16,
    /// The flags field, bits 64..79.
    pub flags: u16,
}

impl TeredoParts {
    /// The cone bit, the high bit of the flags (RFC 4380 section 4): the client is behind a cone
    /// NAT.
    pub const fn cone(&self) -> bool {
        self.flags & 0x8000 != 0
    }
}

/// An address with its class and what can be decoded from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classified {
    /// The address as given.
    pub address: IpAddr,
    /// Its class.
    pub class: AddressClass,
    /// Set for Teredo addresses.
    pub teredo: Option<TeredoParts>,
    /// The IPv4 address inside a 6to4 or IPv4-mapped address.
    pub embedded_ipv4: Option<Ipv4Addr>,
}

/// Classifies an address and decodes what it carries.
pub fn describe(address: IpAddr) -> Classified {
    let class = classify(address);
    let (teredo, embedded_ipv4) = match address {
        IpAddr::V6(v6) => (teredo_parts(v6), sixtofour_ipv4(v6).or(v6.to_ipv4_mapped())),
        IpAddr::V4(_) => (None, None),
    };
    Classified {
        address,
        class,
        teredo,
        embedded_ipv4,
    }
}

/// The class of an address (docs/behaviour.md).
pub fn classify(address: IpAddr) -> AddressClass {
    match address {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// The class of an IPv4 address.
pub fn classify_v4(address: Ipv4Addr) -> AddressClass {
    let bits = u32::from(address);
    let within = |prefix: u32, len: u32| bits >> (32 - len) == prefix >> (32 - len);
    match () {
        _ if bits == 0 => AddressClass::Unspecified,
        _ if within(0x7f00_0000, 8) => AddressClass::Loopback,
        _ if within(0xa9fe_0000, 16) => AddressClass::LinkLocal,
        _ if within(0xc000_0200, 24) || within(0xc633_6400, 24) || within(0xcb00_7100, 24) => {
            AddressClass::Documentation
        }
        _ if within(0xe000_0000, 4) => AddressClass::Multicast,
        // "This network" (RFC 1122 section 3.2.1.3) and the reserved 240/4 with the limited
        // broadcast address in it: none can be a unicast destination.
        _ if within(0, 8) || within(0xf000_0000, 4) => AddressClass::Other,
        _ => AddressClass::Ipv4,
    }
}

/// The class of an IPv6 address; IPv4-mapped addresses take the class of their IPv4 address.
pub fn classify_v6(address: Ipv6Addr) -> AddressClass {
    if let Some(v4) = address.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let bits = u128::from(address);
    let within = |prefix: u128, len: u32| bits >> (128 - len) == prefix >> (128 - len);
    match () {
        _ if bits == 0 => AddressClass::Unspecified,
        _ if bits == 1 => AddressClass::Loopback,
        _ if within(0x2001_0000 << 96, 32) => AddressClass::Teredo,
        _ if within(0x2001_0db8 << 96, 32) || within(0x3fff << 112, 20) => {
            AddressClass::Documentation
        }
        _ if within(0x2002 << 112, 16) => AddressClass::SixToFour,
        _ if within(0x2 << 124, 3) => AddressClass::Native6,
        _ if within(0x0064_ff9b << 96, 96) || within(0x0064_ff9b_0001 << 80, 48) => {
            AddressClass::Nat64
        }
        _ if within(0xfc << 120, 7) => AddressClass::Ula,
        _ if within(0xfe80 << 112, 10) => AddressClass::LinkLocal,
        _ if within(0xff << 120, 8) => AddressClass::Multicast,
        _ => AddressClass::Other,
    }
}

/// Decodes a Teredo address (RFC 4380 section 4); `None` outside `2001:0000::/32`.
pub fn teredo_parts(address: Ipv6Addr) -> Option<TeredoParts> {
    let bits = u128::from(address);
    if bits >> 96 != 0x2001_0000 {
        return None;
    }
    Some(TeredoParts {
        server: Ipv4Addr::from((bits >> 64) as u32),
        flags: (bits >> 48) as u16,
        port: (bits >> 32) as u16 ^ 0xffff,
        client: Ipv4Addr::from(bits as u32 ^ 0xffff_ffff),
    })
}

/// The IPv4 address inside a 6to4 address, bits 16..47 (RFC 3056 section 2); `None` outside
/// `2002::/16`.
pub fn sixtofour_ipv4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(address);
    (bits >> 112 == 0x2002).then(|| Ipv4Addr::from((bits >> 80) as u32))
}
