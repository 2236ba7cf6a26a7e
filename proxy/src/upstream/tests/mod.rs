//! Tests of the upstream side, against fake servers on 127.0.0.1 that the tests start and
//! script. Real sockets, so real short timeouts: no test waits more than a few
//! hundred milliseconds.

mod forwarding;
mod hardening;
mod reload;
mod resolv;
mod strategy;
mod tls;
mod wire;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RData, RecordType};

use super::{Attempt, Outcome, Upstreams};
use crate::config::{Strategy, UpstreamConfig, UpstreamSpec};

/// The per-server timeout of these tests.
const TIMEOUT: Duration = Duration::from_millis(200);

/// Settings for `servers`, sequential; resolv.conf is never read when servers are given.
fn config(servers: Vec<UpstreamSpec>) -> UpstreamConfig {
    UpstreamConfig {
        servers,
        strategy: Strategy::Sequential,
        timeout: TIMEOUT,
        resolv_conf: PathBuf::from("/nonexistent/pathwise-test/resolv.conf"),
        tls_ca_file: None,
        max_outstanding: 4096,
        randomize_case: true,
        cookies: true,
    }
}

/// Upstreams of plain UDP servers.
fn udp_upstreams(servers: &[SocketAddr]) -> Upstreams {
    let specs = servers.iter().copied().map(UpstreamSpec::Udp).collect();
    Upstreams::new(&config(specs), &[]).expect("upstreams")
}

/// A recursive query for `name`, with ID 0x1234.
fn query(name: &str, qtype: RecordType) -> Vec<u8> {
    let mut message = Message::query();
    message.metadata.id = 0x1234;
    message.metadata.recursion_desired = true;
    message.add_query(hickory_proto::op::Query::query(
        Name::from_ascii(name).unwrap(),
        qtype,
    ));
    message.to_vec().unwrap()
}

/// The addresses in an answer's answer section.
fn addresses(answer: &[u8]) -> Vec<IpAddr> {
    let message = Message::from_vec(answer).expect("a parsable answer");
    message
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
            _ => None,
        })
        .collect()
}

/// `(server, outcome)` of each attempt.
fn outcomes(attempts: &[Attempt]) -> Vec<(usize, Outcome)> {
    attempts
        .iter()
        .map(|attempt| (attempt.server, attempt.outcome))
        .collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn upstreams_can_be_shared_across_tasks() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let upstreams = udp_upstreams(&["127.0.0.1:9".parse().unwrap()]);
    send_sync(&upstreams);
    // Built, never polled: nothing is sent.
    send(upstreams.query(&[]));
}

#[test]
fn outcome_labels_are_the_documented_ones() {
    let labels: Vec<&str> = Outcome::ALL
        .iter()
        .map(|outcome| outcome.as_str())
        .collect();
    assert_eq!(labels, ["ok", "timeout", "error", "servfail", "truncated"]);
}
