//! Address ordering (the seed table: native IPv6 > 6to4 > IPv4 > Teredo) and a
//! dual-stack host, where the filter is inactive and nothing is removed.

use pathwise_tests::Dig;

use super::zone::*;
use super::{NATIVE_PATHS, TEREDO_PATHS, paired_aaaa, start};

#[test]
fn native_host_removes_nothing() {
    let (_upstream, pathwise) = start(NATIVE_PATHS, "");
    let aaaa = paired_aaaa(&pathwise, "127.0.0.1", DUAL);
    aaaa.rcode_is("NOERROR").answers_are("AAAA", &[DUAL_AAAA]);
    let https = pathwise.dig(SVC, "HTTPS").from("127.0.0.1").run();
    https.answers_are(
        "HTTPS",
        &["1 . alpn=\"h2\" ipv4hint=192.0.2.6 ipv6hint=2a00:1450:4001::6"],
    );
    let mx = pathwise.dig(MAIL, "MX").from("127.0.0.1").run();
    mx.check(
        mx.additionals("AAAA") == [DUAL_AAAA],
        "expected dual's AAAA kept in the additional section",
    );
}

#[test]
fn native_host_orders_every_class_native_6to4_teredo() {
    let (upstream, pathwise) = start(NATIVE_PATHS, "");
    let direct = Dig::new(upstream.address(), EVERY, "AAAA").run();
    direct.answers_are("AAAA", &[EVERY_TEREDO, EVERY_6TO4, EVERY_NATIVE]);
    let aaaa = paired_aaaa(&pathwise, "127.0.0.1", EVERY);
    aaaa.rcode_is("NOERROR")
        .answers_are("AAAA", &[EVERY_NATIVE, EVERY_6TO4, EVERY_TEREDO]);
}

#[test]
fn explicit_ask_on_a_teredo_host_is_ordered_too() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let aaaa = pathwise.dig(EVERY, "AAAA").from("127.0.0.2").run();
    aaaa.rcode_is("NOERROR")
        .answers_are("AAAA", &[EVERY_NATIVE, EVERY_6TO4, EVERY_TEREDO]);
}

#[test]
fn equal_precedence_keeps_upstream_order() {
    let (upstream, pathwise) = start(NATIVE_PATHS, "");
    let direct = Dig::new(upstream.address(), MANY, "A").tcp().run();
    let through = pathwise.dig_tcp(MANY, "A").run();
    through.check(
        through.answers("A") == direct.answers("A"),
        format!("expected upstream's order:\n{direct}"),
    );
}
