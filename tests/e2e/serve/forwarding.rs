//! Forwarding (docs/behaviour.md): the cache when upstream is gone, SERVFAIL rather than a hang
//! when nothing answers, and upstreams from a resolv.conf when `upstream.servers` is empty.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use pathwise_tests::wire::{CD, Message, RD, a_response, rtype};
use pathwise_tests::{FakeUpstream, Pathwise, TempDir, Upstream, require_root_for};

use super::zone::*;
use super::{NATIVE_PATHS, start};

#[test]
fn cache_answers_when_upstream_is_gone_and_ttl_counts_down() {
    let (mut upstream, pathwise) = start(NATIVE_PATHS, "");
    let first = pathwise.dig(DUAL, "A").run();
    first.rcode_is("NOERROR").answers_are("A", &[DUAL_A]);
    upstream.stop();
    // Long enough for a whole second to pass on any clock granularity.
    std::thread::sleep(Duration::from_millis(1100));
    let second = pathwise.dig(DUAL, "A").run();
    second.rcode_is("NOERROR").answers_are("A", &[DUAL_A]);
    let ttl = |answer: &pathwise_tests::DigAnswer| answer.answer[0].ttl;
    second.check(
        ttl(&second) < ttl(&first) && ttl(&first) <= TTL,
        format!(
            "expected the cached TTL to count down from the first answer's {} (zone TTL {TTL})",
            ttl(&first)
        ),
    );
}

#[test]
fn servfail_not_a_hang_when_upstream_never_answers() {
    // A socket that takes queries and never answers them: the timeout path, not ICMP.
    let black_hole = UdpSocket::bind("127.0.0.1:0").expect("bind the silent upstream");
    let address = black_hole.local_addr().expect("its address");
    let pathwise = Pathwise::start(&silent_upstream_config(address), &[]);
    let answer = pathwise.dig(DUAL, "A").timeout(8).run();
    answer.rcode_is("SERVFAIL").check(
        answer.elapsed < Duration::from_millis(2500),
        "expected SERVFAIL within about upstream.timeout (500ms)",
    );
}

#[test]
fn servfail_when_upstream_is_not_listening() {
    let (mut upstream, pathwise) = start(NATIVE_PATHS, "");
    upstream.stop();
    let answer = pathwise.dig(DUAL, "A").timeout(8).run();
    answer.rcode_is("SERVFAIL").check(
        answer.elapsed < Duration::from_millis(2500),
        "expected SERVFAIL within about upstream.timeout (1s)",
    );
}

fn silent_upstream_config(address: SocketAddr) -> String {
    format!(
        "[upstream]\nservers = [\"{address}\"]\ntimeout = \"500ms\"\n\n[paths]\noverride = {NATIVE_PATHS}\n"
    )
}

#[test]
fn upstream_from_resolv_conf_when_no_servers() {
    if !require_root_for(
        "upstream_from_resolv_conf_when_no_servers",
        "NSD on port 53: resolv.conf has no ports",
    ) {
        return;
    }
    let address: SocketAddr = "127.0.0.153:53".parse().expect("an address");
    let _upstream = Upstream::start_at(address, &super::zone::unsigned());
    let dir = TempDir::new("resolv");
    let resolv_conf = dir.write(
        "resolv.conf",
        "# written by the test: the test's own NSD only\nnameserver 127.0.0.153\noptions edns0\n",
    );
    let config = format!(
        "[upstream]\nresolv_conf = \"{}\"\ntimeout = \"1s\"\n\n[paths]\noverride = {NATIVE_PATHS}\n",
        resolv_conf.display()
    );
    let pathwise = Pathwise::start(&config, &[]);
    let answer = pathwise.dig(DUAL, "A").run();
    answer.rcode_is("NOERROR").answers_are("A", &[DUAL_A]);
}

#[test]
fn serve_stale_answers_an_expired_entry_with_ttl_30() {
    let (mut upstream, pathwise) = start(NATIVE_PATHS, "");
    let fresh = pathwise.dig(SHORT, "A").run();
    fresh.rcode_is("NOERROR").answers_are("A", &[SHORT_A]);
    upstream.stop();
    // The zone's TTL for this name is 1s: expired after 1.5s.
    std::thread::sleep(Duration::from_millis(1500));
    let stale = pathwise.dig(SHORT, "A").timeout(8).run();
    stale.rcode_is("NOERROR").answers_are("A", &[SHORT_A]);
    stale.check(
        stale.answer[0].ttl == 30,
        "expected the stale answer with TTL 30 (RFC 8767)",
    );
}

#[test]
fn forwarded_query_keeps_the_clients_flags_and_options_but_not_65432() {
    let fake = FakeUpstream::start(|query| vec![a_response(query, &[FAKE_A], 60)]);
    let pathwise = Pathwise::start(&silent_upstream_config(fake.address()), &[]);
    let answer = pathwise
        .dig(V4ONLY, "A")
        .dnssec()
        .option("+cdflag")
        .option("+bufsize=1400")
        .edns_option(65432)
        .option("+ednsopt=65001:abcd")
        .run();
    answer.rcode_is("NOERROR").answers_are("A", &["192.0.2.99"]);
    let received = fake.received();
    let forwarded = Message::parse(received.first().expect("pathwise forwarded the query"))
        .unwrap_or_else(|e| panic!("unparsable forwarded query {received:02x?}: {e}"));
    let what = format!("forwarded query {forwarded:?}");
    assert_eq!(
        (forwarded.qname.as_str(), forwarded.qtype),
        (V4ONLY, rtype::A),
        "{what}"
    );
    assert_ne!(forwarded.flags & RD, 0, "RD kept: {what}");
    assert_ne!(forwarded.flags & CD, 0, "CD kept: {what}");
    let opt = forwarded
        .opt()
        .unwrap_or_else(|| panic!("an OPT record: {what}"));
    assert_eq!(
        opt.class, 1400,
        "the client's EDNS buffer size kept: {what}"
    );
    assert_ne!(opt.ttl & 0x8000, 0, "DO kept: {what}");
    let options = forwarded.edns_options();
    assert!(
        options.contains(&(65001, vec![0xab, 0xcd])),
        "the client's other EDNS option kept: {options:?}"
    );
    assert!(
        options.iter().all(|(code, _)| *code != 65432),
        "pathwise's own option 65432 stripped: {options:?}"
    );
    assert_ne!(
        forwarded.id, answer.id,
        "a new query ID upstream, not the client's: {what}\n{answer}"
    );
}

/// What the fake upstreams answer.
const FAKE_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 99);

#[test]
fn spoofed_answers_are_ignored() {
    // Before the real answer: one with the wrong ID, one with the right ID and the wrong
    // question, each with an address that must not reach the client.
    let fake = FakeUpstream::start(|query| {
        let spoofed = [6, 6, 6, 6].into();
        let mut wrong_id = query.to_vec();
        wrong_id[1] ^= 0x01;
        let mut wrong_question = query.to_vec();
        wrong_question[13] ^= 0x01; // the first letter of the name
        vec![
            a_response(&wrong_id, &[spoofed], 60),
            a_response(&wrong_question, &[spoofed], 60),
            a_response(query, &[FAKE_A], 60),
        ]
    });
    let pathwise = Pathwise::start(&silent_upstream_config(fake.address()), &[]);
    let answer = pathwise.dig(V4ONLY, "A").run();
    answer.rcode_is("NOERROR").answers_are("A", &["192.0.2.99"]);
}

#[test]
fn failover_to_the_next_server() {
    let black_hole = UdpSocket::bind("127.0.0.1:0").expect("bind the silent upstream");
    let silent = black_hole.local_addr().expect("its address");
    let upstream = Upstream::start(&super::zone::unsigned());
    let config = format!(
        "[upstream]\nservers = [\"{silent}\", \"{}\"]\ntimeout = \"500ms\"\n\n[paths]\noverride = {NATIVE_PATHS}\n",
        upstream.spec()
    );
    let pathwise = Pathwise::start(&config, &[]);
    let answer = pathwise.dig(DUAL, "A").timeout(8).run();
    answer
        .rcode_is("NOERROR")
        .answers_are("A", &[DUAL_A])
        .check(
            answer.elapsed < Duration::from_millis(2500),
            "expected the second server's answer soon after the first timed out (500ms)",
        );
}

#[test]
fn negative_answer_is_cached() {
    let (mut upstream, pathwise) = start(NATIVE_PATHS, "");
    pathwise.dig(MISSING, "A").run().rcode_is("NXDOMAIN");
    upstream.stop();
    pathwise
        .dig(MISSING, "A")
        .timeout(8)
        .run()
        .rcode_is("NXDOMAIN");
}

#[test]
fn cache_tells_queries_with_and_without_do_apart() {
    let upstream = Upstream::start(&super::zone::zones());
    let pathwise = Pathwise::start(&super::config(&upstream, NATIVE_PATHS, ""), &[]);
    let plain = pathwise.dig(SIGNED_DUAL, "A").run();
    plain.rcode_is("NOERROR").check(
        plain.answers("RRSIG").is_empty(),
        "expected no RRSIG without DO",
    );
    let signed = pathwise.dig(SIGNED_DUAL, "A").dnssec().run();
    signed.rcode_is("NOERROR").check(
        signed.answers("RRSIG").iter().any(|s| s.starts_with("A ")),
        "expected the A's RRSIG with DO: not the cached answer to the query without DO",
    );
}

#[test]
fn upstream_flag_wins_over_the_config_file() {
    let black_hole = UdpSocket::bind("127.0.0.1:0").expect("bind the silent upstream");
    let upstream = Upstream::start(&super::zone::unsigned());
    let config = silent_upstream_config(black_hole.local_addr().expect("its address"));
    let pathwise = Pathwise::start(&config, &["--upstream", &upstream.spec()]);
    pathwise
        .dig(DUAL, "A")
        .run()
        .rcode_is("NOERROR")
        .answers_are("A", &[DUAL_A]);
}
