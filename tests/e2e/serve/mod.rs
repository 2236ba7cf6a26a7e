//! `pathwise serve` end to end: the real binary between dig and a real authoritative server
//! (NSD), on loopback only. Each test starts its own NSD and its own pathwise, so no state
//! (cache, pairing of A and AAAA) leaks between tests; within a test, scenarios are kept apart
//! by client source address (`dig -b 127.0.0.N`), which is all pathwise knows a client by.

mod filter;
mod forwarding;
mod glibc;
mod lifecycle;
mod order;
mod resolve;
mod transport;
pub(crate) mod zone;

use pathwise_tests::{DigAnswer, Pathwise, Upstream};

/// The path state under which the AAAA filter is active (`teredo-only`).
const TEREDO_PATHS: &str = r#"["teredo", "ipv4"]"#;
/// A dual-stack host: the filter is inactive.
const NATIVE_PATHS: &str = r#"["native6", "ipv4"]"#;

/// A config forwarding to `upstream`, with the path state pinned to `paths` and `extra`
/// (other tables, e.g. `[policy]`) appended.
fn config(upstream: &Upstream, paths: &str, extra: &str) -> String {
    format!(
        r#"[upstream]
servers = ["{}"]
timeout = "1s"

[paths]
override = {paths}

{extra}
"#,
        upstream.spec()
    )
}

/// NSD with the test zones and pathwise in front of it, pinned to `paths`.
fn start(paths: &str, extra: &str) -> (Upstream, Pathwise) {
    let upstream = Upstream::start(&zone::unsigned());
    let pathwise = Pathwise::start(&config(&upstream, paths, extra), &[]);
    (upstream, pathwise)
}

/// What `getaddrinfo(AF_UNSPEC)` does: A, then AAAA, for `name`, from `client`. Returns the
/// AAAA answer, after checking the A answer was NOERROR.
fn paired_aaaa(pathwise: &Pathwise, client: &str, name: &str) -> DigAnswer {
    pathwise
        .dig(name, "A")
        .from(client)
        .run()
        .rcode_is("NOERROR");
    pathwise.dig(name, "AAAA").from(client).run()
}

/// Asserts a filtered answer: NOERROR, no AAAA in the answer (NODATA), and a
/// negative TTL (the SOA's, when there is one) of at most `policy.filtered_ttl`'s 30s.
fn assert_filtered(answer: &DigAnswer) {
    answer.rcode_is("NOERROR");
    answer.check(
        answer.answers("AAAA").is_empty(),
        "expected the AAAA records removed (the filter is active and the ask was not explicit)",
    );
    for soa in answer.authority.iter().filter(|r| r.rtype == "SOA") {
        let minimum: u32 = soa
            .data
            .split_whitespace()
            .last()
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| answer.fail("an SOA without a minimum field"));
        answer.check(
            soa.ttl.min(minimum) <= 30,
            "expected a negative TTL of at most policy.filtered_ttl (30s)",
        );
    }
}
