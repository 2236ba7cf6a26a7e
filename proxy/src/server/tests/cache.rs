//! The cache behind the listeners (docs/behaviour.md): TTLs count down, NXDOMAIN is cached, and an
//! expired answer is served stale when upstream fails.
//!
//! The clock is tokio's, paused (`start_paused`, from the `test-util` feature the crate's
//! tests enable): the second that passes is `tokio::time::advance`, not a real wait. While
//! the UDP listener's blocking thread runs, tokio does not move a paused clock on its own, so
//! time passes only where the test says so.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

use super::{Harness, V4, addresses, query, zone};
use crate::testing::fake_upstream::{Action, Transport};

/// Longer than the 1s TTL of `short.example.`, well under the 2s that would make the
/// 300s TTL show 298.
const WAIT: Duration = Duration::from_millis(1100);

fn soa_ttl(message: &Message) -> u32 {
    message
        .authorities
        .iter()
        .find(|record| matches!(record.data, RData::SOA(_)))
        .expect("a SOA in authority")
        .ttl
}

/// The zone, or SERVFAIL for everything once `failing` is set.
fn failing_zone(failing: Arc<AtomicBool>) -> impl Fn(&Message, Transport) -> Vec<Action> {
    move |query, transport| {
        if failing.load(Ordering::SeqCst) {
            vec![Action::Rcode(ResponseCode::ServFail)]
        } else {
            zone(query, transport)
        }
    }
}

#[tokio::test(start_paused = true)]
async fn cached_answers_count_down_and_expired_ones_are_served_stale() {
    let failing = Arc::new(AtomicBool::new(false));
    let server = Harness::start(failing_zone(Arc::clone(&failing)), |_| {}).await;
    let no_stale = Harness::start(failing_zone(Arc::clone(&failing)), |config| {
        config.cache.serve_stale = false;
    })
    .await;
    let client = server.client(1).await;
    let other = no_stale.client(1).await;
    let a = |name| query(name, RecordType::A);
    assert_eq!(client.ask(&a("dual.example.")).await.answers[0].ttl, 300);
    let nx = client.ask(&a("nx.example.")).await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(soa_ttl(&nx), 60);
    assert_eq!(client.ask(&a("short.example.")).await.answers[0].ttl, 1);
    assert_eq!(other.ask(&a("short.example.")).await.answers[0].ttl, 1);

    // From here on upstream fails: fresh entries are served, expired ones need serve-stale.
    failing.store(true, Ordering::SeqCst);
    tokio::time::advance(WAIT).await;

    let dual = client.ask(&a("dual.example.")).await;
    assert_eq!(dual.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        dual.answers[0].ttl, 299,
        "300s less the second spent in cache"
    );

    let nx = client.ask(&a("nx.example.")).await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain, "cached");
    assert_eq!(soa_ttl(&nx), 59, "the negative TTL counts down");

    let stale = client.ask(&a("short.example.")).await;
    assert_eq!(stale.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&stale), [V4.parse::<std::net::IpAddr>().unwrap()]);
    let ttls: Vec<u32> = stale.all_sections().map(|record| record.ttl).collect();
    assert_eq!(ttls, [30], "RFC 8767: a stale answer's records get TTL 30");

    let refused_stale = other.ask(&a("short.example.")).await;
    assert_eq!(
        refused_stale.metadata.response_code,
        ResponseCode::ServFail,
        "cache.serve_stale = false: no expired data"
    );

    assert_eq!(server.upstream_count("dual.example.", RecordType::A), 1);
    assert_eq!(server.upstream_count("nx.example.", RecordType::A), 1);
    assert_eq!(
        server.upstream_count("short.example.", RecordType::A),
        2,
        "upstream was asked before the stale answer was served"
    );
}
