//! Address classes at every boundary of the table in docs/behaviour.md, and the published Teredo
//! and 6to4 examples.

use std::net::{IpAddr, Ipv4Addr};

use crate::class::{AddressClass, classify, describe, sixtofour_ipv4, teredo_parts};

/// Each case: a name, an address, its class.
const CASES: &[(&str, &str, AddressClass)] = {
    use AddressClass::*;
    &[
        ("teredo start", "2001::", Teredo),
        ("teredo end", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", Teredo),
        ("just past teredo", "2001:1::", Native6),
        (
            "just before teredo",
            "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            Native6,
        ),
        ("documentation v6 start", "2001:db8::", Documentation),
        (
            "documentation v6 end",
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            Documentation,
        ),
        ("just past 2001:db8::/32", "2001:db9::", Native6),
        ("3fff::/20 start", "3fff::", Documentation),
        (
            "3fff::/20 end",
            "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
            Documentation,
        ),
        ("just past 3fff::/20", "3fff:1000::", Native6),
        ("6to4 start", "2002::", SixToFour),
        (
            "6to4 end",
            "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            SixToFour,
        ),
        ("just past 6to4", "2003::", Native6),
        ("2000::/3 start", "2000::", Native6),
        (
            "2000::/3 end",
            "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            Native6,
        ),
        (
            "just below 2000::/3",
            "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            Other,
        ),
        ("just above 2000::/3", "4000::", Other),
        ("nat64 well-known", "64:ff9b::192.0.2.1", Nat64),
        ("nat64 well-known end", "64:ff9b::ffff:ffff", Nat64),
        ("past nat64 /96", "64:ff9b::1:0:0", Other),
        ("nat64 local-use", "64:ff9b:1::1", Nat64),
        (
            "nat64 local-use end",
            "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
            Nat64,
        ),
        ("past nat64 /48", "64:ff9b:2::", Other),
        ("ula start", "fc00::", Ula),
        ("ula end", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Ula),
        (
            "below ula",
            "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            Other,
        ),
        ("link-local v6 start", "fe80::", LinkLocal),
        (
            "link-local v6 end",
            "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            LinkLocal,
        ),
        ("site-local (deprecated)", "fec0::1", Other),
        ("multicast v6", "ff02::1", Multicast),
        (
            "multicast v6 end",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            Multicast,
        ),
        ("loopback v6", "::1", Loopback),
        ("unspecified v6", "::", Unspecified),
        ("ipv4-compatible (deprecated)", "::1.2.3.4", Other),
        ("ipv4-mapped global", "::ffff:8.8.8.8", Ipv4),
        (
            "ipv4-mapped documentation",
            "::ffff:192.0.2.1",
            Documentation,
        ),
        ("ipv4-mapped loopback", "::ffff:127.0.0.1", Loopback),
        ("ipv4 global", "8.8.8.8", Ipv4),
        ("ipv4 private is ipv4", "10.1.2.3", Ipv4),
        ("ipv4 cgnat is ipv4", "100.64.0.1", Ipv4),
        ("ipv4 unspecified", "0.0.0.0", Unspecified),
        ("ipv4 this-network", "0.1.2.3", Other),
        ("ipv4 first after 0/8", "1.0.0.0", Ipv4),
        ("ipv4 loopback start", "127.0.0.0", Loopback),
        ("ipv4 loopback end", "127.255.255.255", Loopback),
        ("ipv4 after loopback", "128.0.0.0", Ipv4),
        ("ipv4 link-local start", "169.254.0.0", LinkLocal),
        ("ipv4 link-local end", "169.254.255.255", LinkLocal),
        ("ipv4 after link-local", "169.255.0.0", Ipv4),
        ("TEST-NET-1 start", "192.0.2.0", Documentation),
        ("TEST-NET-1 end", "192.0.2.255", Documentation),
        ("after TEST-NET-1", "192.0.3.0", Ipv4),
        ("TEST-NET-2", "198.51.100.7", Documentation),
        ("after TEST-NET-2", "198.51.101.0", Ipv4),
        ("TEST-NET-3", "203.0.113.255", Documentation),
        ("before TEST-NET-3", "203.0.112.255", Ipv4),
        ("ipv4 multicast start", "224.0.0.0", Multicast),
        ("ipv4 multicast end", "239.255.255.255", Multicast),
        ("ipv4 reserved", "240.0.0.1", Other),
        ("ipv4 broadcast", "255.255.255.255", Other),
        ("last before multicast", "223.255.255.255", Ipv4),
    ]
};

#[test]
fn every_boundary_has_its_class() {
    for &(name, address, class) in CASES {
        let address: IpAddr = address.parse().unwrap();
        assert_eq!(classify(address), class, "{name}: {address}");
    }
}

#[test]
fn every_class_is_covered_by_a_case() {
    for class in AddressClass::ALL {
        assert!(
            CASES.iter().any(|case| case.2 == class),
            "no case for {class}"
        );
    }
}

#[test]
fn widely_cited_teredo_address_decodes() {
    let parts = teredo_parts("2001:0:4136:e378:8000:63bf:3fff:fdd2".parse().unwrap()).unwrap();
    assert_eq!(parts.server, Ipv4Addr::new(65, 54, 227, 120));
    assert_eq!(parts.client, Ipv4Addr::new(192, 0, 2, 45));
    assert_eq!(parts.port, 40000);
    assert!(parts.cone());
}

#[test]
fn teredo_obfuscation_of_port_337_and_1_2_3_4() {
    // Port 337 = 0x0151 is carried as 0xfeae; 1.2.3.4 = 0x01020304 as 0xfefdfcfb (RFC 4380 section
    // 4).
    let parts = teredo_parts("2001:0:c000:201:0:feae:fefd:fcfb".parse().unwrap()).unwrap();
    assert_eq!(parts.port, 337);
    assert_eq!(parts.client, Ipv4Addr::new(1, 2, 3, 4));
    assert_eq!(parts.server, Ipv4Addr::new(192, 0, 2, 1));
    assert!(!parts.cone());
}

#[test]
fn teredo_parts_only_inside_2001_0_32() {
    assert!(teredo_parts("2001:1::1".parse().unwrap()).is_none());
    assert!(teredo_parts("2002::1".parse().unwrap()).is_none());
}

#[test]
fn rfc3056_examples_embed_their_ipv4() {
    // RFC 3056 section 5.1: 192.1.2.3 gives 2002:c001:0203::/48, 9.254.253.252 gives
    // 2002:09fe:fdfc::/48.
    let cases = [
        ("2002:c001:0203::1", [192, 1, 2, 3]),
        ("2002:09fe:fdfc::1", [9, 254, 253, 252]),
    ];
    for (address, ipv4) in cases {
        let address = address.parse().unwrap();
        assert_eq!(sixtofour_ipv4(address), Some(Ipv4Addr::from(ipv4)));
        assert_eq!(
            describe(IpAddr::V6(address)).embedded_ipv4,
            Some(Ipv4Addr::from(ipv4))
        );
    }
}

#[test]
fn ipv4_mapped_addresses_carry_their_ipv4() {
    let entry = describe("::ffff:198.51.100.1".parse().unwrap());
    assert_eq!(entry.class, AddressClass::Documentation);
    assert_eq!(entry.embedded_ipv4, Some(Ipv4Addr::new(198, 51, 100, 1)));
    assert_eq!(entry.teredo, None);
}

#[test]
fn class_names_are_the_documented_ones() {
    let names: Vec<&str> = AddressClass::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "teredo",
            "6to4",
            "native6",
            "ipv4",
            "nat64",
            "ula",
            "link-local",
            "loopback",
            "documentation",
            "multicast",
            "unspecified",
            "other"
        ]
    );
}
