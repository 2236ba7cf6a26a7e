//! RFC 6724 default address selection: the source for a destination (section 5) and the order of
//! destinations (section 6), over a policy table and the host's source addresses.

use std::cmp::Ordering;
use std::net::IpAddr;

use crate::table::{PolicyTable, as_v6};

/// A local address that may be used as a source, with what selection needs to know of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceAddress {
    /// The address.
    pub address: IpAddr,
    /// The on-link prefix length (bits of this address's family); bounds rule 8 and 9.
    pub prefix_len: u8,
    /// A deprecated address (RFC 6724 rule 3, source and destination).
    pub deprecated: bool,
    /// A Mobile IPv6 home address (RFC 6724 rule 4).
    pub home: bool,
}

impl SourceAddress {
    /// A preferred, non-home source with the default prefix length: 64 for IPv6, 32 for IPv4.
    pub fn new(address: IpAddr) -> Self {
        let prefix_len = if address.is_ipv6() { 64 } else { 32 };
        Self {
            address,
            prefix_len,
            deprecated: false,
            home: false,
        }
    }

    /// The prefix length in the IPv6 space of RFC 6724, where IPv4 is `::ffff:0:0/96`.
    fn mapped_prefix_len(&self) -> u32 {
        match self.address {
            IpAddr::V4(_) => 96 + u32::from(self.prefix_len.min(32)),
            IpAddr::V6(_) => u32::from(self.prefix_len.min(128)),
        }
    }
}

/// A destination with the source selected for it; `None` means no usable source (rule 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RankedDestination {
    /// The destination address.
    pub destination: IpAddr,
    /// The source RFC 6724 section 5 picks for it.
    pub source: Option<SourceAddress>,
}

/// The scope of an address (RFC 6724 section 3.1; IPv4 as section 3.2: only link-local and loopback
/// are not global, private ranges are global).
pub fn scope(address: IpAddr) -> u8 {
    const LINK_LOCAL: u8 = 0x2;
    const SITE_LOCAL: u8 = 0x5;
    const GLOBAL: u8 = 0xe;
    match address {
        IpAddr::V4(v4) if v4.is_loopback() || v4.is_link_local() => LINK_LOCAL,
        IpAddr::V4(_) => GLOBAL,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            if v6.is_multicast() {
                (bits >> 112) as u8 & 0x0f
            } else if v6.is_loopback() || bits >> 118 == 0x3fa {
                LINK_LOCAL
            } else if bits >> 118 == 0x3fb {
                SITE_LOCAL
            } else {
                GLOBAL
            }
        }
    }
}

/// Bits `source` and `destination` share, up to the source's prefix length (RFC 6724 section 2.2).
pub fn common_prefix_len(source: &SourceAddress, destination: IpAddr) -> u32 {
    let shared =
        (u128::from(as_v6(source.address)) ^ u128::from(as_v6(destination))).leading_zeros();
    shared.min(source.mapped_prefix_len())
}

/// The source RFC 6724 section 5 selects for `destination`: candidates of the same family, compared
/// by rules 1 (same address), 2 (appropriate scope), 3 (not deprecated), 4 (home address),
/// 6 (matching label) and 8 (longest matching prefix). Rules 5, 5.5 and 7 need the outgoing
/// interface and the temporary-address preference, which this pure crate is not given.
pub fn select_source(
    table: &PolicyTable,
    sources: &[SourceAddress],
    destination: IpAddr,
) -> Option<SourceAddress> {
    let mut best: Option<&SourceAddress> = None;
    for candidate in sources
        .iter()
        .filter(|s| s.address.is_ipv4() == destination.is_ipv4())
    {
        best = match best {
            Some(current) if compare_sources(table, destination, current, candidate).is_le() => {
                Some(current)
            }
            _ => Some(candidate),
        };
    }
    best.copied()
}

/// `Less` when `a` is the better source for `destination`.
fn compare_sources(
    table: &PolicyTable,
    destination: IpAddr,
    a: &SourceAddress,
    b: &SourceAddress,
) -> Ordering {
    // Rule 1: prefer the destination itself.
    prefer(a.address == destination, b.address == destination)
        // Rule 2: prefer the smallest scope that still reaches the destination.
        .then_with(|| {
            let (sa, sb, sd) = (scope(a.address), scope(b.address), scope(destination));
            match sa.cmp(&sb) {
                Ordering::Less if sa < sd => Ordering::Greater,
                Ordering::Less => Ordering::Less,
                Ordering::Greater if sb < sd => Ordering::Less,
                Ordering::Greater => Ordering::Greater,
                Ordering::Equal => Ordering::Equal,
            }
        })
        // Rule 3: avoid deprecated addresses.
        .then_with(|| prefer(!a.deprecated, !b.deprecated))
        // Rule 4: prefer home addresses.
        .then_with(|| prefer(a.home, b.home))
        // Rule 6: prefer matching label.
        .then_with(|| {
            let label = table.label(destination);
            prefer(
                label.is_some() && table.label(a.address) == label,
                label.is_some() && table.label(b.address) == label,
            )
        })
        // Rule 8: use the longest matching prefix.
        .then_with(|| common_prefix_len(b, destination).cmp(&common_prefix_len(a, destination)))
}

/// Orders destinations by RFC 6724 section 6: rules 1 (usable), 2 (matching scope), 3 (avoid
/// deprecated), 4 (home), 5 (matching label), 6 (precedence), 8 (smaller scope), 9 (longest
/// matching prefix, same family; for IPv4 only inside the source's subnet) and 10 (otherwise
/// keep the given order). Rule 7 (native
/// transport) needs interface types and is left out.
pub fn sort_destinations(
    table: &PolicyTable,
    sources: &[SourceAddress],
    destinations: &[IpAddr],
) -> Vec<RankedDestination> {
    let mut ranked: Vec<RankedDestination> = destinations
        .iter()
        .map(|&destination| RankedDestination {
            destination,
            source: select_source(table, sources, destination),
        })
        .collect();
    stable_insertion_sort(&mut ranked, |a, b| compare_destinations(table, a, b));
    ranked
}

/// `Less` when `a` is to be tried before `b`.
fn compare_destinations(
    table: &PolicyTable,
    a: &RankedDestination,
    b: &RankedDestination,
) -> Ordering {
    let (da, db) = (a.destination, b.destination);
    let (Some(sa), Some(sb)) = (a.source, b.source) else {
        // Rule 1: avoid unusable destinations (no source of that family).
        return prefer(a.source.is_some(), b.source.is_some());
    };
    // Rule 2: prefer matching scope.
    prefer(
        scope(da) == scope(sa.address),
        scope(db) == scope(sb.address),
    )
    // Rule 3: avoid deprecated addresses.
    .then_with(|| prefer(!sa.deprecated, !sb.deprecated))
    // Rule 4: prefer home addresses.
    .then_with(|| prefer(sa.home, sb.home))
    // Rule 5: prefer matching label.
    .then_with(|| {
        let matches = |d: IpAddr, s: &SourceAddress| {
            let label = table.label(d);
            label.is_some() && label == table.label(s.address)
        };
        prefer(matches(da, &sa), matches(db, &sb))
    })
    // Rule 6: prefer higher precedence.
    .then_with(|| table.precedence(db).cmp(&table.precedence(da)))
    // Rule 8: prefer smaller scope.
    .then_with(|| scope(da).cmp(&scope(db)))
    // Rule 9: use the longest matching prefix, between destinations of one family.
    .then_with(|| {
        if da.is_ipv4() != db.is_ipv4() {
            return Ordering::Equal;
        }
        rule9_prefix_len(&sb, db).cmp(&rule9_prefix_len(&sa, da))
    })
    // Rule 10: otherwise, leave the order unchanged (the sort is stable).
}

/// The prefix length rule 9 compares. For IPv4, bits shared outside the source's own subnet
/// count as none: they say nothing about topology, and ranking by them defeats DNS round robin.
/// glibc's getaddrinfo and Go's resolver make the same exception.
fn rule9_prefix_len(source: &SourceAddress, destination: IpAddr) -> u32 {
    let length = common_prefix_len(source, destination);
    if destination.is_ipv4() && length < source.mapped_prefix_len() {
        0
    } else {
        length
    }
}

/// `Less` when only `a` has the preferred property.
fn prefer(a: bool, b: bool) -> Ordering {
    b.cmp(&a)
}

/// A stable insertion sort that tolerates comparators that are not total orders (rule 9 only
/// compares within a family), where `slice::sort_by` may panic. Lists here are short.
fn stable_insertion_sort<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && compare(&items[j], &items[j - 1]) == Ordering::Less {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}
