//! The rendered fast path and the slow path give the same bytes: for every cached answer of
//! the test zone, every decision the filter can make, and clients that differ in ID, case,
//! RD, CD, EDNS and DO, an answer served from the entry's rendering equals the one shaped and
//! encoded from the entry's message, at age 0 and after the TTLs have counted down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::RecordType;
use pathwise_policy::{AaaaDecision, FilterReason, KeepReason};
use tokio::sync::watch;
use tokio::time::Instant;

use super::super::admit::{Admission, admit};
use super::super::context::Transport;
use super::super::pipeline::Pipeline;
use super::super::state::{Settings, Shared};
use super::{name_of, teredo_ipv4, zone};
use crate::cache::{CacheKey, Lookup};
use crate::config::{Config, UpstreamSpec};
use crate::testing::fake_upstream::{Action, Transport as FakeTransport};

/// The upstream answer the test zone gives to `name` `qtype`, as it would reach the cache.
fn upstream_answer(name: &str, qtype: RecordType) -> Message {
    let mut query = Message::query();
    query.add_query(Query::query(name_of(name), qtype));
    let mut answer = match zone::zone(&query, FakeTransport::Udp).remove(0) {
        Action::Answer(records) => {
            let mut message = Message::response(0, OpCode::Query);
            message.add_answers(records);
            message
        }
        Action::Reply(message) => message,
        Action::Rcode(rcode) => {
            let mut message = Message::response(0, OpCode::Query);
            message.metadata.response_code = rcode;
            message
        }
        other => panic!("{name} {qtype}: the zone answers {other:?}, not a message"),
    };
    answer.metadata.recursion_available = true;
    answer.queries = query.queries;
    answer
}

/// A client's query with these header bits and EDNS.
fn client_query(
    id: u16,
    name: &str,
    qtype: RecordType,
    bits: (bool, bool),
    edns: Option<bool>,
) -> Vec<u8> {
    let mut query = Message::query();
    query.metadata.id = id;
    (
        query.metadata.recursion_desired,
        query.metadata.checking_disabled,
    ) = bits;
    query.add_query(Query::query(name_of(name), qtype));
    query.edns = edns.map(|dnssec_ok| {
        let mut edns = Edns::new();
        edns.set_max_payload(4096);
        edns.set_dnssec_ok(dnssec_ok);
        edns
    });
    query.to_vec().expect("encodes")
}

#[test]
fn the_rendered_and_the_slow_path_give_the_same_bytes() {
    let mut config = Config::default();
    config.upstream.servers = vec![UpstreamSpec::Udp(SocketAddr::from(([127, 0, 0, 1], 9)))];
    config.metrics.listen = None;
    let settings = Settings::new(config).expect("settings");
    let (_paths, paths_rx) = watch::channel(teredo_ipv4());
    let shared = Arc::new(Shared::new(
        settings,
        paths_rx,
        Arc::new(crate::metrics::Metrics::new()),
    ));
    let pipeline = Pipeline::new(Arc::clone(&shared));
    let settings = shared.settings();
    let client = SocketAddr::from(([127, 0, 0, 1], 5300));
    let inserted = Instant::now();
    let loopback: [ipnet::IpNet; 1] = ["127.0.0.0/8".parse().expect("a CIDR")];
    let decisions = [
        AaaaDecision::Pass,
        AaaaDecision::Keep(KeepReason::LoneAaaa),
        AaaaDecision::Remove {
            reason: FilterReason::TeredoOnly,
            keep_teredo: true,
        },
        AaaaDecision::Remove {
            reason: FilterReason::Always,
            keep_teredo: false,
        },
    ];
    let answers = [
        ("dual.example.", RecordType::A),
        ("dual.example.", RecordType::AAAA),
        ("mixed.example.", RecordType::AAAA),
        ("alias.example.", RecordType::AAAA),
        ("soa.example.", RecordType::AAAA),
        ("nx.example.", RecordType::AAAA),
        ("v6only.example.", RecordType::A),
    ];
    let mut compared = 0;
    for (name, qtype) in answers {
        let upstream = upstream_answer(name, qtype);
        let key = CacheKey::from_query(&upstream).expect("a key");
        shared.cache.insert(key.clone(), &upstream, inserted);
        let clients = [
            client_query(0x1234, name, qtype, (true, false), None),
            client_query(
                0xbeef,
                &name.to_uppercase(),
                qtype,
                (false, true),
                Some(false),
            ),
            client_query(7, name, qtype, (true, true), Some(true)),
        ];
        for packet in &clients {
            for age in [Duration::ZERO, Duration::from_secs(45)] {
                let Lookup::Hit { entry, age } = shared.cache.get(&key, inserted + age) else {
                    panic!("{name} {qtype} is cached");
                };
                for decision in decisions {
                    let context = || match admit(packet, client, Transport::Udp, &loopback, 0) {
                        Admission::Query(context) => context,
                        _ => panic!("{name} {qtype}: the query is admitted"),
                    };
                    let (mut fast, mut slow) = (context(), context());
                    let paths = shared.paths();
                    let rendered = pipeline
                        .rendered_answer(&settings, &mut fast, packet, &entry, age, paths, decision)
                        .expect("a cached answer of the zone renders");
                    let answer = entry.response_at(age, false);
                    let shaped = pipeline.shape_and_finish(&settings, &mut slow, answer, decision);
                    assert_eq!(
                        rendered, shaped,
                        "{name} {qtype} at {age:?} with {decision:?} for {packet:02x?}"
                    );
                    assert_eq!(fast.rcode, slow.rcode);
                    assert_eq!(fast.shaped, slow.shaped);
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 7 * 3 * 2 * 4);
    assert_ne!(
        upstream_answer("nx.example.", RecordType::AAAA)
            .metadata
            .response_code,
        ResponseCode::NoError,
        "the comparison covers a negative answer"
    );
}
