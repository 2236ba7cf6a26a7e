//! The test zones NSD serves, and the names and addresses the tests ask about.
//!
//! `pathwise.test.` holds one name per case of the AAAA filter and of ordering; `signed.test.` is a
//! small DNSSEC-signed zone. Addresses are global unicast (not `2001:db8::/32`, which is its own
//! class), so their class is what the name says.

use pathwise_tests::Zone;

/// The unsigned zone.
pub(crate) const ORIGIN: &str = "pathwise.test.";
/// The signed zone.
pub(crate) const SIGNED_ORIGIN: &str = "signed.test.";

/// A and native AAAA.
pub(crate) const DUAL: &str = "dual.pathwise.test.";
pub(crate) const DUAL_A: &str = "192.0.2.1";
pub(crate) const DUAL_AAAA: &str = "2a00:1450:4001::1";
/// A only.
pub(crate) const V4ONLY: &str = "v4only.pathwise.test.";
pub(crate) const V4ONLY_A: &str = "192.0.2.2";
/// Native AAAA only: `policy.require_a` keeps it.
pub(crate) const V6ONLY: &str = "v6only.pathwise.test.";
pub(crate) const V6ONLY_AAAA: &str = "2a00:1450:4001::3";
/// A, and AAAA of every class in the zone order Teredo, 6to4, native: the reverse of the
/// seed table's order, so reordering shows.
pub(crate) const EVERY: &str = "every.pathwise.test.";
pub(crate) const EVERY_A: &str = "192.0.2.4";
pub(crate) const EVERY_TEREDO: &str = "2001:0:4136:e378:8000:63bf:3fff:fdd2";
pub(crate) const EVERY_6TO4: &str = "2002:c633:640a::10";
pub(crate) const EVERY_NATIVE: &str = "2a00:1450:4001::4";
/// A and a Teredo AAAA only: `policy.keep_teredo_destinations` keeps it.
pub(crate) const TEREDO: &str = "teredo.pathwise.test.";
pub(crate) const TEREDO_A: &str = "192.0.2.5";
pub(crate) const TEREDO_AAAA: &str = "2001:0:4136:e378:8000:63bf:3fff:fdd5";
/// `alias` -> `hop` -> `dual`.
pub(crate) const ALIAS: &str = "alias.pathwise.test.";
pub(crate) const HOP: &str = "hop.pathwise.test.";
/// An HTTPS record with both address hints.
pub(crate) const SVC: &str = "svc.pathwise.test.";
/// MX to `dual`: NSD adds dual's A and AAAA to the additional section.
pub(crate) const MAIL: &str = "mail.pathwise.test.";
/// 60 A records: about 1000 bytes, more than a 512-byte UDP answer holds.
pub(crate) const MANY: &str = "many.pathwise.test.";
pub(crate) const MANY_COUNT: usize = 60;
/// An A record with a TTL of 1s, for serve-stale.
pub(crate) const SHORT: &str = "short.pathwise.test.";
pub(crate) const SHORT_A: &str = "192.0.2.7";
/// Not in the zone: NXDOMAIN.
pub(crate) const MISSING: &str = "missing.pathwise.test.";
/// In the signed zone: A and native AAAA, each with an RRSIG.
pub(crate) const SIGNED_DUAL: &str = "dual.signed.test.";
pub(crate) const SIGNED_DUAL_AAAA: &str = "2a00:1450:4001::11";

/// TTL of every record but the SOA.
pub(crate) const TTL: u32 = 300;

/// Both zones; the signed one signed at NSD start-up.
pub(crate) fn zones() -> Vec<Zone> {
    vec![
        Zone::new(ORIGIN, &unsigned_text()),
        Zone::signed(SIGNED_ORIGIN, &signed_text()),
    ]
}

/// Only the unsigned zone, for tests that need no DNSSEC (no key generation at start-up).
pub(crate) fn unsigned() -> Vec<Zone> {
    vec![Zone::new(ORIGIN, &unsigned_text())]
}

fn unsigned_text() -> String {
    let mut text = format!(
        "$ORIGIN {ORIGIN}
$TTL {TTL}
@       IN SOA   ns hostmaster 1 3600 600 86400 60
@       IN NS    ns
ns      IN A     192.0.2.53
dual    IN A     {DUAL_A}
dual    IN AAAA  {DUAL_AAAA}
v4only  IN A     {V4ONLY_A}
v6only  IN AAAA  {V6ONLY_AAAA}
every   IN A     {EVERY_A}
every   IN AAAA  {EVERY_TEREDO}
every   IN AAAA  {EVERY_6TO4}
every   IN AAAA  {EVERY_NATIVE}
teredo  IN A     {TEREDO_A}
teredo  IN AAAA  {TEREDO_AAAA}
alias   IN CNAME hop
hop     IN CNAME dual
svc     IN HTTPS 1 . alpn=\"h2\" ipv4hint=192.0.2.6 ipv6hint=2a00:1450:4001::6
mail    IN MX    10 dual
short 1 IN A     {SHORT_A}
"
    );
    for i in 1..=MANY_COUNT {
        text.push_str(&format!("many    IN A     198.51.100.{i}\n"));
    }
    text
}

fn signed_text() -> String {
    format!(
        "$ORIGIN {SIGNED_ORIGIN}
$TTL {TTL}
@       IN SOA   ns hostmaster 1 3600 600 86400 60
@       IN NS    ns
ns      IN A     192.0.2.53
dual    IN A     192.0.2.11
dual    IN AAAA  {SIGNED_DUAL_AAAA}
"
    )
}
