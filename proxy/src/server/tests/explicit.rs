//! The decisions that need more than the answer in hand: `policy.require_a` looks the A record
//! up itself, and a lone AAAA answered from cache waits `policy.explicit.hold` for its A.

use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

use super::{Harness, V6, aaaa_count, addresses, query, zone};

/// With `lone_aaaa` off, every AAAA query is subject to the filter and to `require_a`.
async fn without_lone_aaaa() -> Harness {
    Harness::start(zone, |config| config.policy.explicit.lone_aaaa = false).await
}

#[tokio::test]
async fn require_a_looks_up_an_unknown_a_and_filters_a_dual_stack_name() {
    let server = without_lone_aaaa().await;
    let client = server.client(1).await;

    let answer = client.ask(&query("dual.example.", RecordType::AAAA)).await;

    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert_eq!(aaaa_count(&answer), 0, "the name has an A: AAAA removed");
    assert_eq!(
        server.upstream_questions(),
        [
            ("dual.example.".to_owned(), RecordType::AAAA),
            ("dual.example.".to_owned(), RecordType::A)
        ],
        "pathwise asked the A itself, after the AAAA"
    );
    let (_, bytes) = server.upstream.received()[1].clone();
    let a_lookup = Message::from_vec(&bytes).expect("parses");
    assert!(
        a_lookup.metadata.recursion_desired,
        "the A lookup has the client's RD"
    );
    // The A it fetched is cached: the client's own A query does not go upstream again.
    client.ask(&query("dual.example.", RecordType::A)).await;
    assert_eq!(server.upstream_count("dual.example.", RecordType::A), 1);
}

#[tokio::test]
async fn require_a_keeps_the_aaaa_of_a_name_without_a() {
    let server = without_lone_aaaa().await;
    let client = server.client(1).await;

    let answer = client
        .ask(&query("v6only.example.", RecordType::AAAA))
        .await;

    assert_eq!(
        addresses(&answer),
        [V6.parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(server.upstream_count("v6only.example.", RecordType::A), 1);
    // And from cache, with the A's NODATA cached too: no new lookup.
    let again = client
        .ask(&query("v6only.example.", RecordType::AAAA))
        .await;
    assert_eq!(aaaa_count(&again), 1);
    assert_eq!(server.upstream_count("v6only.example.", RecordType::A), 1);
    assert_eq!(
        server.upstream_count("v6only.example.", RecordType::AAAA),
        1
    );
}

/// How long these tests hold a cached lone AAAA: long enough that an A sent right after the
/// AAAA always lands within it.
const HOLD: Duration = Duration::from_millis(250);

/// A server with [`HOLD`], whose cache holds A and AAAA of `dual.example.` (fetched by
/// another client, 127.0.0.9).
async fn with_cached_pair() -> Harness {
    let server = Harness::start(zone, |config| config.policy.explicit.hold = HOLD).await;
    let other = server.client(9).await;
    other.ask(&query("dual.example.", RecordType::AAAA)).await;
    other.ask(&query("dual.example.", RecordType::A)).await;
    server
}

#[tokio::test]
async fn cached_aaaa_followed_by_its_a_within_the_hold_is_filtered() {
    let server = with_cached_pair().await;
    let client = server.client(1).await;
    let aaaa = query("dual.example.", RecordType::AAAA);
    let a = query("dual.example.", RecordType::A);
    let started = Instant::now();

    client.send(&aaaa).await;
    client.send(&a).await;
    let mut answers = vec![client.recv().await, client.recv().await];

    answers.sort_by_key(|answer| answer.metadata.id != aaaa.metadata.id);
    let [aaaa_answer, a_answer] = <[Message; 2]>::try_from(answers).expect("two answers");
    assert_eq!(aaaa_answer.metadata.id, aaaa.metadata.id);
    assert_eq!(a_answer.metadata.id, a.metadata.id);
    assert_eq!(aaaa_answer.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        aaaa_count(&aaaa_answer),
        0,
        "paired by the late A: filtered"
    );
    assert!(
        started.elapsed() < HOLD,
        "the A ends the hold early, after {:?}",
        started.elapsed()
    );
    assert_eq!(server.upstream.received().len(), 2, "all from cache");
}

#[tokio::test]
async fn cached_aaaa_without_an_a_within_the_hold_is_kept_as_lone() {
    let server = with_cached_pair().await;
    let client = server.client(1).await;
    let started = Instant::now();

    let answer = client.ask(&query("dual.example.", RecordType::AAAA)).await;

    let elapsed = started.elapsed();
    assert_eq!(aaaa_count(&answer), 1, "lone AAAA: kept");
    assert!(elapsed >= HOLD, "waited the hold for an A, {elapsed:?}");
    assert_eq!(server.upstream.received().len(), 2, "all from cache");
}

#[tokio::test(start_paused = true)]
async fn aaaa_after_the_pair_window_is_lone() {
    let window = Duration::from_millis(100);
    let server = Harness::start(zone, |config| config.policy.explicit.pair_window = window).await;
    let client = server.client(1).await;
    client.ask(&query("dual.example.", RecordType::A)).await;
    tokio::time::advance(window + Duration::from_millis(1)).await;

    let answer = client.ask(&query("dual.example.", RecordType::AAAA)).await;

    assert_eq!(aaaa_count(&answer), 1, "the A is too old to pair: kept");
}

#[tokio::test]
async fn cached_answer_without_ipv6_data_is_not_held() {
    // A hold far longer than any answer takes: only skipping it answers in time.
    let hold = Duration::from_secs(5);
    let server = Harness::start(zone, |config| config.policy.explicit.hold = hold).await;
    server
        .client(9)
        .await
        .ask(&query("nx.example.", RecordType::AAAA))
        .await;
    let client = server.client(1).await;
    let started = Instant::now();

    let answer = client.ask(&query("nx.example.", RecordType::AAAA)).await;

    assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);
    assert!(
        started.elapsed() < hold,
        "nothing to filter, so no wait for an A: {:?}",
        started.elapsed()
    );
    assert_eq!(server.upstream.received().len(), 1, "from cache");
}
