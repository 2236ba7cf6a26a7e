//! Which local addresses give which path (docs/behaviour.md), and the path state's text forms.

use std::net::IpAddr;

use crate::paths::{Counting, Path, PathState};

const STRICT: Counting = Counting {
    ula: false,
    documentation: false,
};
const LENIENT: Counting = Counting {
    ula: true,
    documentation: true,
};

#[test]
fn local_addresses_by_path_with_and_without_counting() {
    // (address, path by default, path with ULA and documentation counted)
    let cases: [(&str, Option<Path>, Option<Path>); 14] = [
        (
            "2a00:1450:4001::2",
            Some(Path::Native6),
            Some(Path::Native6),
        ),
        (
            "2002:c000:204::1",
            Some(Path::SixToFour),
            Some(Path::SixToFour),
        ),
        (
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            Some(Path::Teredo),
            Some(Path::Teredo),
        ),
        ("10.0.0.2", Some(Path::Ipv4), Some(Path::Ipv4)),
        ("100.64.0.1", Some(Path::Ipv4), Some(Path::Ipv4)),
        ("fd00::1", None, Some(Path::Native6)),
        ("2001:db8::1", None, Some(Path::Native6)),
        ("3fff::1", None, Some(Path::Native6)),
        ("192.0.2.1", None, Some(Path::Ipv4)),
        ("fe80::1", None, None),
        ("169.254.1.1", None, None),
        ("::1", None, None),
        ("127.0.0.1", None, None),
        ("64:ff9b::c000:201", None, None),
    ];
    for (address, strict, lenient) in cases {
        let ip: IpAddr = address.parse().expect("an address");
        assert_eq!(Path::of_local(ip, STRICT), strict, "{address} by default");
        assert_eq!(Path::of_local(ip, LENIENT), lenient, "{address} counted");
    }
}

#[test]
fn path_state_text_and_parsing() {
    let state: PathState = [Path::Teredo, Path::Ipv4].into_iter().collect();
    assert_eq!(state.to_string(), "ipv4+teredo");
    assert_eq!(PathState::EMPTY.to_string(), "none");
    assert_eq!("6to4".parse::<Path>(), Ok(Path::SixToFour));
    assert!(
        "native"
            .parse::<Path>()
            .unwrap_err()
            .contains("native6, 6to4, ipv4, teredo")
    );
}
