//! The AAAA filter (docs/behaviour.md) on a Teredo-only host (`paths.override = ["teredo",
//! "ipv4"]`): what is removed for a paired A+AAAA ask, and each reason to keep.

use std::net::UdpSocket;
use std::time::Duration;

use pathwise_tests::wire::{AD, Message, Query, response, rtype};
use pathwise_tests::{Dig, FakeUpstream, Pathwise, Upstream};

use super::zone::*;
use super::{TEREDO_PATHS, assert_filtered, config, paired_aaaa, start};

#[test]
fn paired_aaaa_is_filtered_to_nodata() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let a = pathwise.dig(DUAL, "A").from("127.0.0.1").run();
    a.rcode_is("NOERROR").answers_are("A", &[DUAL_A]);
    let aaaa = pathwise.dig(DUAL, "AAAA").from("127.0.0.1").run();
    assert_filtered(&aaaa);
}

#[test]
fn paired_aaaa_through_a_cname_chain_keeps_the_chain() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let aaaa = paired_aaaa(&pathwise, "127.0.0.1", ALIAS);
    assert_filtered(&aaaa);
    let chain: Vec<(&str, &str, &str)> = aaaa
        .answer
        .iter()
        .map(|r| (r.name.as_str(), r.rtype.as_str(), r.data.as_str()))
        .collect();
    aaaa.check(
        chain == [(ALIAS, "CNAME", HOP), (HOP, "CNAME", DUAL)],
        "expected the CNAME chain alias -> hop -> dual, and nothing else",
    );
}

#[test]
fn nxdomain_passes_through_unchanged() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    pathwise
        .dig(MISSING, "A")
        .from("127.0.0.1")
        .run()
        .rcode_is("NXDOMAIN");
    let aaaa = pathwise.dig(MISSING, "AAAA").from("127.0.0.1").run();
    aaaa.rcode_is("NXDOMAIN");
    aaaa.check(
        aaaa.authority.iter().any(|r| r.rtype == "SOA"),
        "expected upstream's SOA in the authority section",
    );
}

#[test]
fn lone_aaaa_is_explicit_and_kept() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    // 127.0.0.1 pairs A and AAAA: filtered. 127.0.0.2 asks AAAA alone: explicit.
    assert_filtered(&paired_aaaa(&pathwise, "127.0.0.1", DUAL));
    let lone = pathwise.dig(DUAL, "AAAA").from("127.0.0.2").run();
    lone.rcode_is("NOERROR").answers_are("AAAA", &[DUAL_AAAA]);
}

#[test]
fn edns_option_65432_is_explicit_and_kept() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    assert_filtered(&paired_aaaa(&pathwise, "127.0.0.1", DUAL));
    pathwise
        .dig(DUAL, "A")
        .from("127.0.0.2")
        .run()
        .rcode_is("NOERROR");
    let aaaa = pathwise
        .dig(DUAL, "AAAA")
        .from("127.0.0.2")
        .edns_option(65432)
        .run();
    aaaa.rcode_is("NOERROR").answers_are("AAAA", &[DUAL_AAAA]);
}

#[test]
fn explicit_client_is_kept() {
    let extra = "[policy.explicit]\nclients = [\"127.0.0.4/32\"]\n";
    let (_upstream, pathwise) = start(TEREDO_PATHS, extra);
    assert_filtered(&paired_aaaa(&pathwise, "127.0.0.1", DUAL));
    let aaaa = paired_aaaa(&pathwise, "127.0.0.4", DUAL);
    aaaa.rcode_is("NOERROR").answers_are("AAAA", &[DUAL_AAAA]);
}

#[test]
fn aaaa_only_name_is_kept_after_its_a_query() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let a = pathwise.dig(V6ONLY, "A").from("127.0.0.1").run();
    a.rcode_is("NOERROR").answers_are("A", &[]);
    let aaaa = pathwise.dig(V6ONLY, "AAAA").from("127.0.0.1").run();
    aaaa.rcode_is("NOERROR").answers_are("AAAA", &[V6ONLY_AAAA]);
}

#[test]
fn aaaa_only_name_is_kept_when_pathwise_looks_the_a_up_itself() {
    // With lone_aaaa off, an AAAA alone is not explicit, so it is filtered unless the name has
    // no A, which pathwise has never been asked about here and must look up itself.
    let extra = "[policy.explicit]\nlone_aaaa = false\n";
    let (_upstream, pathwise) = start(TEREDO_PATHS, extra);
    assert_filtered(&pathwise.dig(DUAL, "AAAA").from("127.0.0.1").run());
    let aaaa = pathwise.dig(V6ONLY, "AAAA").from("127.0.0.1").run();
    aaaa.rcode_is("NOERROR").answers_are("AAAA", &[V6ONLY_AAAA]);
}

#[test]
fn teredo_destination_is_kept() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let aaaa = paired_aaaa(&pathwise, "127.0.0.1", TEREDO);
    aaaa.rcode_is("NOERROR").answers_are("AAAA", &[TEREDO_AAAA]);
}

#[test]
fn of_every_class_only_the_teredo_destination_is_kept() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let aaaa = paired_aaaa(&pathwise, "127.0.0.1", EVERY);
    aaaa.rcode_is("NOERROR")
        .answers_are("AAAA", &[EVERY_TEREDO]);
}

#[test]
fn teredo_destination_is_removed_when_keep_teredo_destinations_is_off() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "[policy]\nkeep_teredo_destinations = false\n");
    assert_filtered(&paired_aaaa(&pathwise, "127.0.0.1", TEREDO));
}

#[test]
fn https_ipv6hint_is_removed_and_ipv4hint_kept() {
    let (upstream, pathwise) = start(TEREDO_PATHS, "");
    // Upstream has both hints (NSD 4.6 serves HTTPS records with SvcParams).
    let direct = Dig::new(upstream.address(), SVC, "HTTPS").run();
    direct.check(
        direct.answers("HTTPS")
            == ["1 . alpn=\"h2\" ipv4hint=192.0.2.6 ipv6hint=2a00:1450:4001::6"],
        "precondition: NSD serves the HTTPS record with both hints",
    );
    let https = pathwise.dig(SVC, "HTTPS").from("127.0.0.1").run();
    https
        .rcode_is("NOERROR")
        .answers_are("HTTPS", &["1 . alpn=\"h2\" ipv4hint=192.0.2.6"]);
}

#[test]
fn additional_aaaa_is_removed_where_an_a_is_there_too() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let mx = pathwise.dig(MAIL, "MX").from("127.0.0.1").run();
    mx.rcode_is("NOERROR")
        .answers_are("MX", &[format!("10 {DUAL}").as_str()]);
    let glue: Vec<(&str, &str)> = mx
        .additional
        .iter()
        .filter(|r| r.name == DUAL)
        .map(|r| (r.rtype.as_str(), r.data.as_str()))
        .collect();
    mx.check(
        glue == [("A", DUAL_A)],
        "expected dual's A kept and its AAAA removed from the additional section",
    );
}

#[test]
fn signed_aaaa_asked_with_do_is_kept() {
    let upstream = Upstream::start(&zones());
    let pathwise = Pathwise::start(&config(&upstream, TEREDO_PATHS, ""), &[]);
    // Without DO the signed AAAA is filtered like any other.
    assert_filtered(&paired_aaaa(&pathwise, "127.0.0.2", SIGNED_DUAL));
    pathwise
        .dig(SIGNED_DUAL, "A")
        .from("127.0.0.1")
        .dnssec()
        .run()
        .rcode_is("NOERROR");
    let aaaa = pathwise
        .dig(SIGNED_DUAL, "AAAA")
        .from("127.0.0.1")
        .dnssec()
        .run();
    aaaa.rcode_is("NOERROR")
        .answers_are("AAAA", &[SIGNED_DUAL_AAAA]);
    aaaa.check(
        aaaa.answers("RRSIG").iter().any(|s| s.starts_with("AAAA ")),
        "expected the AAAA's RRSIG kept with it",
    );
}

#[test]
fn signed_aaaa_asked_with_do_is_removed_with_its_rrsig_when_break_dnssec() {
    let upstream = Upstream::start(&zones());
    let extra = "[policy]\nbreak_dnssec = true\n";
    let pathwise = Pathwise::start(&config(&upstream, TEREDO_PATHS, extra), &[]);
    pathwise
        .dig(SIGNED_DUAL, "A")
        .from("127.0.0.1")
        .dnssec()
        .run()
        .rcode_is("NOERROR");
    let aaaa = pathwise
        .dig(SIGNED_DUAL, "AAAA")
        .from("127.0.0.1")
        .dnssec()
        .run();
    assert_filtered(&aaaa);
    aaaa.check(
        !aaaa.answers("RRSIG").iter().any(|s| s.starts_with("AAAA ")),
        "expected the AAAA's RRSIG removed with it",
    );
}

#[test]
fn filtered_answer_does_not_look_like_a_referral() {
    // RFC 2308 section 2.2.1: NOERROR with an empty answer and NS records but no SOA in the
    // authority section is how a referral looks; NODATA is told apart by an SOA or by the
    // absence of NS. BIND's filter-aaaa hides the authority NS when it filters the answer.
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let aaaa = paired_aaaa(&pathwise, "127.0.0.1", DUAL);
    assert_filtered(&aaaa);
    let has = |rtype: &str| aaaa.authority.iter().any(|r| r.rtype == rtype);
    aaaa.check(
        !has("NS") || has("SOA"),
        "expected a NODATA no resolver can take for a referral (RFC 2308 section 2.2.1): \
         NS records in the authority section without an SOA",
    );
}

/// What glibc's `getaddrinfo(AF_UNSPEC)` does: A and AAAA for `name` from one socket of
/// `client`, back to back (`aaaa_first` for the order `getent hosts` uses). Returns the A and
/// the AAAA answers.
fn a_and_aaaa_together(
    pathwise: &Pathwise,
    client: &str,
    name: &str,
    aaaa_first: bool,
) -> (Message, Message) {
    let socket = UdpSocket::bind((client, 0)).expect("bind a client socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("set a read timeout");
    let a = Query::new(0x0a0a, name, rtype::A).to_bytes();
    let aaaa = Query::new(0xaaaa, name, rtype::AAAA).to_bytes();
    let order = if aaaa_first { [&aaaa, &a] } else { [&a, &aaaa] };
    for packet in order {
        socket.send_to(packet, pathwise.udp_addr()).expect("send");
    }
    let mut answers = Vec::new();
    for _ in 0..2 {
        let mut buffer = [0u8; 4096];
        let (n, _) = socket.recv_from(&mut buffer).unwrap_or_else(|e| {
            panic!("expected answers to the A and AAAA queries for {name} from {client}: {e}")
        });
        let message = Message::parse(&buffer[..n])
            .unwrap_or_else(|e| panic!("unparsable answer {:02x?}: {e}", &buffer[..n]));
        answers.push(message);
    }
    let take = |id: u16| {
        let found = answers.iter().find(|m| m.id == id).cloned();
        found.unwrap_or_else(|| panic!("no answer with ID {id:#06x} among {answers:?}"))
    };
    (take(0x0a0a), take(0xaaaa))
}

fn assert_wire_filtered(a: &Message, aaaa: &Message, what: &str) {
    assert_eq!(
        a.a(),
        [DUAL_A.parse::<std::net::Ipv4Addr>().unwrap()],
        "{what}: A answer {a:?}"
    );
    assert_eq!(aaaa.rcode(), 0, "{what}: AAAA answer NOERROR: {aaaa:?}");
    assert!(
        aaaa.aaaa().is_empty(),
        "{what}: expected no AAAA records: {aaaa:?}"
    );
}

#[test]
fn a_and_aaaa_sent_together_filter_the_aaaa() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let (a, aaaa) = a_and_aaaa_together(&pathwise, "127.0.0.1", DUAL, false);
    assert_wire_filtered(&a, &aaaa, "A then AAAA, not cached");
}

#[test]
fn aaaa_sent_just_before_its_a_is_filtered() {
    // The pairing is decided when the AAAA answer is ready, not when the AAAA query arrives.
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    let (a, aaaa) = a_and_aaaa_together(&pathwise, "127.0.0.1", DUAL, true);
    assert_wire_filtered(&a, &aaaa, "AAAA then A, not cached");
}

#[test]
fn aaaa_answered_from_cache_waits_for_the_a_that_follows() {
    let (_upstream, pathwise) = start(TEREDO_PATHS, "");
    // Another client's lone AAAA fills the cache (and is kept: it is explicit).
    let lone = pathwise.dig(DUAL, "AAAA").from("127.0.0.5").run();
    lone.answers_are("AAAA", &[DUAL_AAAA]);
    pathwise
        .dig(DUAL, "A")
        .from("127.0.0.5")
        .run()
        .answers_are("A", &[DUAL_A]);
    // Both now cached: an AAAA followed at once by its A waits for it (policy.explicit.hold).
    let (a, aaaa) = a_and_aaaa_together(&pathwise, "127.0.0.6", DUAL, true);
    assert_wire_filtered(&a, &aaaa, "AAAA then A, both cached");
    // A lone AAAA answered from cache is still explicit once the hold has passed.
    let lone = pathwise.dig(DUAL, "AAAA").from("127.0.0.7").run();
    lone.answers_are("AAAA", &[DUAL_AAAA]);
}

#[test]
fn edited_answer_has_its_ad_bit_cleared() {
    // An upstream that says every answer is validated (AD), which NSD, authoritative, never does.
    let native: std::net::Ipv6Addr = EVERY_NATIVE.parse().unwrap();
    let teredo: std::net::Ipv6Addr = EVERY_TEREDO.parse().unwrap();
    let fake = FakeUpstream::start(move |query| {
        let records = match Message::parse(query).map(|m| m.qtype) {
            Ok(rtype::A) => vec![(rtype::A, vec![192, 0, 2, 4])],
            Ok(rtype::AAAA) => vec![
                (rtype::AAAA, teredo.octets().to_vec()),
                (rtype::AAAA, native.octets().to_vec()),
            ],
            _ => vec![],
        };
        vec![response(query, AD, &records, 60)]
    });
    let config = format!(
        "[upstream]\nservers = [\"{}\"]\ntimeout = \"1s\"\n\n[paths]\noverride = {TEREDO_PATHS}\n",
        fake.address()
    );
    let pathwise = Pathwise::start(&config, &[]);
    let a = pathwise.dig(EVERY, "A").from("127.0.0.1").run();
    a.answers_are("A", &[EVERY_A]).check(
        a.has_flag("ad"),
        "expected AD kept on an answer nothing was removed from",
    );
    let aaaa = pathwise.dig(EVERY, "AAAA").from("127.0.0.1").run();
    aaaa.answers_are("AAAA", &[EVERY_TEREDO]).check(
        !aaaa.has_flag("ad"),
        "expected AD cleared: the native AAAA was removed (docs/behaviour.md)",
    );
}
