//! RFC 6724 destination selection: the examples of section 10.2, and the seed's preference on the
//! hosts the mission is about.

use std::net::IpAddr;

use crate::select::{SourceAddress, common_prefix_len, scope, select_source, sort_destinations};
use crate::table::PolicyTable;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// `"fe80::2"`, `"fe80::2 deprecated"`, `"2001:db8:3::1 home"`.
fn source(text: &str) -> SourceAddress {
    let mut words = text.split(' ');
    let mut source = SourceAddress::new(ip(words.next().unwrap()));
    for word in words {
        match word {
            "deprecated" => source.deprecated = true,
            "home" => source.home = true,
            other => panic!("unknown flag {other}"),
        }
    }
    source
}

/// (name, sources, destinations, expected order with each destination's source)
type Example = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

/// RFC 6724 section 10.2, in the RFC's order.
const RFC6724_EXAMPLES: &[Example] = &[
    (
        "1 prefer matching scope",
        &["2001:db8:1::2", "fe80::1", "169.254.13.78"],
        &["2001:db8:1::1", "198.51.100.121"],
        &[
            ("2001:db8:1::1", "2001:db8:1::2"),
            ("198.51.100.121", "169.254.13.78"),
        ],
    ),
    (
        "2 prefer matching scope",
        &["fe80::1", "198.51.100.117"],
        &["2001:db8:1::1", "198.51.100.121"],
        &[
            ("198.51.100.121", "198.51.100.117"),
            ("2001:db8:1::1", "fe80::1"),
        ],
    ),
    (
        "3 prefer higher precedence",
        &["2001:db8:1::2", "fe80::1", "10.1.2.4"],
        &["2001:db8:1::1", "10.1.2.3"],
        &[("2001:db8:1::1", "2001:db8:1::2"), ("10.1.2.3", "10.1.2.4")],
    ),
    (
        "4 prefer smaller scope",
        &["2001:db8:1::2", "fe80::2"],
        &["2001:db8:1::1", "fe80::1"],
        &[("fe80::1", "fe80::2"), ("2001:db8:1::1", "2001:db8:1::2")],
    ),
    (
        "5 prefer home address",
        &["2001:db8:1::2", "2001:db8:3::1 home", "fe80::2"],
        &["2001:db8:1::1", "fe80::1"],
        &[("2001:db8:1::1", "2001:db8:3::1"), ("fe80::1", "fe80::2")],
    ),
    (
        "6 avoid deprecated addresses",
        &["2001:db8:1::2", "fe80::2 deprecated"],
        &["2001:db8:1::1", "fe80::1"],
        &[("2001:db8:1::1", "2001:db8:1::2"), ("fe80::1", "fe80::2")],
    ),
    (
        "7 longest matching prefix",
        &["2001:db8:1::2", "2001:db8:3f44::2", "fe80::2"],
        &["2001:db8:1::1", "2001:db8:3ffe::1"],
        &[
            ("2001:db8:1::1", "2001:db8:1::2"),
            ("2001:db8:3ffe::1", "2001:db8:3f44::2"),
        ],
    ),
    (
        "8 prefer matching label",
        &["2002:c633:6401::2", "fe80::2"],
        &["2002:c633:6401::1", "2001:db8:1::1"],
        &[
            ("2002:c633:6401::1", "2002:c633:6401::2"),
            ("2001:db8:1::1", "2002:c633:6401::2"),
        ],
    ),
    (
        "9 prefer higher precedence",
        &["2002:c633:6401::2", "2001:db8:1::2", "fe80::2"],
        &["2002:c633:6401::1", "2001:db8:1::1"],
        &[
            ("2001:db8:1::1", "2001:db8:1::2"),
            ("2002:c633:6401::1", "2002:c633:6401::2"),
        ],
    ),
];

#[test]
fn rfc6724_section_10_2_examples() {
    let table = PolicyTable::rfc6724();
    for &(name, sources, destinations, expected) in RFC6724_EXAMPLES {
        let sources: Vec<SourceAddress> = sources.iter().map(|s| source(s)).collect();
        let destinations: Vec<IpAddr> = destinations.iter().map(|d| ip(d)).collect();
        // Both input orders: the result must not depend on which came first.
        for reversed in [false, true] {
            let mut input = destinations.clone();
            if reversed {
                input.reverse();
            }
            let ranked = sort_destinations(&table, &sources, &input);
            let got: Vec<(IpAddr, IpAddr)> = ranked
                .iter()
                .map(|r| (r.destination, r.source.unwrap().address))
                .collect();
            let want: Vec<(IpAddr, IpAddr)> =
                expected.iter().map(|(d, s)| (ip(d), ip(s))).collect();
            assert_eq!(got, want, "example {name} (input reversed: {reversed})");
        }
    }
}

const MIXED: [&str; 6] = [
    "2001:0:5ef5:79fd:0:59d:a0e5:ba1", // teredo
    "203.0.113.7",                     // ipv4
    "2002:cb00:7101::1",               // 6to4
    "2a00:aaaa::1",                    // native
    "192.0.2.99",                      // ipv4
    "2a01:bbbb::2",                    // native
];

fn order(table: &PolicyTable, sources: &[&str]) -> Vec<String> {
    let sources: Vec<SourceAddress> = sources.iter().map(|s| source(s)).collect();
    let destinations: Vec<IpAddr> = MIXED.iter().map(|d| ip(d)).collect();
    sort_destinations(table, &sources, &destinations)
        .iter()
        .map(|r| r.destination.to_string())
        .collect()
}

#[test]
fn host_with_every_path_sorts_as_the_seed() {
    let sources = [
        "2a02::10",
        "2002:c633:640a::10",
        "198.51.100.10",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ];
    assert_eq!(
        order(&PolicyTable::seed(), &sources),
        [
            "2a00:aaaa::1",
            "2a01:bbbb::2",
            "2002:cb00:7101::1",
            "203.0.113.7",
            "192.0.2.99",
            "2001:0:5ef5:79fd:0:59d:a0e5:ba1"
        ]
    );
}

#[test]
fn teredo_only_host_prefers_ipv4_then_teredo_peers() {
    // Rule 5: only IPv4 and Teredo destinations have a source of their own label.
    let sources = [
        "198.51.100.10",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "fe80::1",
    ];
    assert_eq!(
        order(&PolicyTable::seed(), &sources),
        [
            "203.0.113.7",
            "192.0.2.99",
            "2001:0:5ef5:79fd:0:59d:a0e5:ba1",
            "2a00:aaaa::1",
            "2a01:bbbb::2",
            "2002:cb00:7101::1"
        ]
    );
}

#[test]
fn ipv4_only_host_puts_ipv6_last() {
    // Rule 1: no IPv6 source, so no IPv6 destination is usable.
    let got = order(&PolicyTable::seed(), &["198.51.100.10"]);
    assert_eq!(&got[..2], ["203.0.113.7", "192.0.2.99"]);
}

#[test]
fn ipv4_rule_9_counts_only_inside_the_source_subnet() {
    let mut v4 = source("192.0.2.10");
    v4.prefix_len = 24;
    let destinations = [ip("203.0.113.7"), ip("192.0.3.1"), ip("192.0.2.99")];
    let got: Vec<IpAddr> = sort_destinations(&PolicyTable::seed(), &[v4], &destinations)
        .iter()
        .map(|r| r.destination)
        .collect();
    // 192.0.2.99 is on-link; 192.0.3.1 shares 23 bits but is off-link, so it ties with 203.0.113.7.
    assert_eq!(got, [ip("192.0.2.99"), ip("203.0.113.7"), ip("192.0.3.1")]);
}

#[test]
fn scopes_follow_rfc6724_section_3() {
    assert_eq!(scope(ip("fe80::1")), 2);
    assert_eq!(scope(ip("::1")), 2);
    assert_eq!(scope(ip("fec0::1")), 5);
    assert_eq!(scope(ip("2001:db8::1")), 14);
    assert_eq!(scope(ip("ff05::2")), 5);
    assert_eq!(scope(ip("169.254.1.1")), 2);
    assert_eq!(scope(ip("127.0.0.1")), 2);
    assert_eq!(
        scope(ip("10.0.0.1")),
        14,
        "private IPv4 is global (RFC 6724 section 3.2)"
    );
}

#[test]
fn common_prefix_len_stops_at_the_source_prefix() {
    assert_eq!(
        common_prefix_len(&source("2001:db8:1::2"), ip("2001:db8:1::1")),
        64
    );
    assert_eq!(
        common_prefix_len(&source("2001:db8:3f44::2"), ip("2001:db8:3ffe::1")),
        40
    );
    let mut v4 = source("10.1.2.4");
    v4.prefix_len = 24;
    assert_eq!(common_prefix_len(&v4, ip("10.1.2.3")), 120);
    assert_eq!(common_prefix_len(&v4, ip("10.1.3.3")), 96 + 23);
}

#[test]
fn no_source_of_the_family_means_none() {
    let sources = [source("2001:db8::1")];
    assert_eq!(
        select_source(&PolicyTable::rfc6724(), &sources, ip("192.0.2.1")),
        None
    );
}
