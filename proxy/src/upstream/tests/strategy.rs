//! `upstream.strategy`: the order of servers per query, and the smoothed RTTs behind
//! `fastest`.

use std::time::Duration;

use hickory_proto::rr::RecordType;

use super::{config, query};
use crate::config::{Strategy, UpstreamSpec};
use crate::testing::fake_upstream::{Action, FakeUpstream, address, answering, qname};
use crate::upstream::Upstreams;
use crate::upstream::select::Selector;

/// Upstreams of UDP `servers` with `strategy`, 500ms timeout.
fn upstreams(servers: &[&FakeUpstream], strategy: Strategy) -> Upstreams {
    let specs = servers
        .iter()
        .map(|server| UpstreamSpec::Udp(server.addr()))
        .collect();
    let mut config = config(specs);
    config.strategy = strategy;
    config.timeout = Duration::from_millis(500);
    Upstreams::new(&config, &[]).expect("upstreams")
}

/// Which server each of `count` queries went to first.
async fn first_servers(upstreams: &Upstreams, count: usize) -> Vec<usize> {
    let mut firsts = Vec::new();
    for _ in 0..count {
        let forwarded = upstreams.query(&query("www.example.", RecordType::A)).await;
        assert!(forwarded.result.is_ok());
        firsts.push(forwarded.attempts[0].server);
    }
    firsts
}

#[tokio::test]
async fn sequential_always_starts_at_the_first_server() {
    let (one, two) = (
        FakeUpstream::start(answering("192.0.2.1")).await,
        FakeUpstream::start(answering("192.0.2.2")).await,
    );
    let upstreams = upstreams(&[&one, &two], Strategy::Sequential);

    assert_eq!(first_servers(&upstreams, 3).await, [0, 0, 0]);
}

#[tokio::test]
async fn round_robin_starts_each_query_at_the_next_server() {
    let (one, two) = (
        FakeUpstream::start(answering("192.0.2.1")).await,
        FakeUpstream::start(answering("192.0.2.2")).await,
    );
    let upstreams = upstreams(&[&one, &two], Strategy::RoundRobin);

    assert_eq!(first_servers(&upstreams, 4).await, [0, 1, 0, 1]);
}

#[tokio::test]
async fn fastest_prefers_the_quicker_server_once_both_are_measured() {
    let slow = FakeUpstream::start(|query, _| {
        vec![
            Action::Delay(Duration::from_millis(60)),
            Action::Answer(vec![address(qname(query), "192.0.2.1")]),
        ]
    })
    .await;
    let quick = FakeUpstream::start(answering("192.0.2.2")).await;
    let upstreams = upstreams(&[&slow, &quick], Strategy::Fastest);

    // Untried servers go first, in configured order; then the measured times decide.
    assert_eq!(first_servers(&upstreams, 6).await, [0, 1, 1, 1, 1, 1]);
    assert!(upstreams.selector.srtt(1) < upstreams.selector.srtt(0));
}

#[test]
fn round_robin_rotates_over_every_server() {
    let selector = Selector::new(Strategy::RoundRobin, 3);

    let orders: Vec<Vec<usize>> = (0..4).map(|_| selector.order()).collect();

    assert_eq!(
        orders,
        [vec![0, 1, 2], vec![1, 2, 0], vec![2, 0, 1], vec![0, 1, 2]]
    );
}

#[test]
fn fastest_orders_untried_first_then_by_smoothed_rtt() {
    let selector = Selector::new(Strategy::Fastest, 3);
    selector.record(0, Duration::from_millis(30));
    selector.record(2, Duration::from_millis(10));

    assert_eq!(selector.order(), [1, 2, 0]);

    selector.record(1, Duration::from_millis(20));
    assert_eq!(selector.order(), [2, 1, 0]);
}

#[test]
fn smoothed_rtt_moves_an_eighth_of_the_way_to_each_sample() {
    let selector = Selector::new(Strategy::Fastest, 1);
    selector.record(0, Duration::from_millis(80));
    selector.record(0, Duration::from_millis(160));

    assert_eq!(selector.srtt(0), Duration::from_millis(90));
}

#[test]
fn a_penalised_server_decays_back_into_contention() {
    let selector = Selector::new(Strategy::Fastest, 2);
    selector.record(0, Duration::from_secs(2)); // a timeout
    selector.record(1, Duration::from_millis(20));
    assert_eq!(selector.order(), [1, 0]);

    let mut queries = 0;
    while selector.order()[0] == 1 {
        selector.decay_untried(|server| server == 1);
        selector.record(1, Duration::from_millis(20));
        queries += 1;
        assert!(queries < 1000, "server 0 is never tried again");
    }
    assert!(
        queries > 100,
        "a failed server is not retried at once: {queries}"
    );
}

#[test]
fn empty_selector_orders_nothing() {
    for strategy in [
        Strategy::Sequential,
        Strategy::RoundRobin,
        Strategy::Fastest,
    ] {
        assert!(Selector::new(strategy, 0).order().is_empty());
    }
}
