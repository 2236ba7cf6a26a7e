//! The response target: any bytes as an upstream's answer. Decoded as `Pipeline::fetch` does,
//! then shaped twice: by the policy crate alone, and on the real path (cached with
//! `Cache::insert`, served by `Pipeline::receive` as a hit, rendered or shaped, and encoded)
//! to a client that did not ask explicitly, under the default policy and a strict one.

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, RecordType};
use pathwise::server::context::Transport;
use pathwise_policy::{
    ARecord, AaaaDecision, PolicyConfig, PolicyTable, QueryFacts, ResponseFacts, TableKind, decide,
    shape,
};

use super::answer::{check_filtered, check_no_ipv6_data, check_step};
use super::host::{Host, INSIDER, Policy, answer, client_query};

/// Runs `upstream` through the response path and checks what a client is served.
pub fn response_path(upstream: &[u8]) {
    // As `Pipeline::fetch`: an answer that does not parse is no answer.
    let Ok(message) = Message::from_vec(upstream) else {
        return;
    };
    check_shape(&message);
    // The cache keys an answer by its one question; any other answer is never served.
    let [question] = message.queries.as_slice() else {
        return;
    };
    for policy in [Policy::Default, Policy::Strict] {
        serve(&message, question, policy);
    }
}

/// The policy crate alone: decide and shape for a non-explicit client of a name with an A
/// record, and check the result; shaping twice changes nothing more.
fn check_shape(message: &Message) {
    let table = PolicyTable::builtin(TableKind::Seed).expect("the seed table is built in");
    let facts = ResponseFacts::of(message);
    let query = QueryFacts {
        a_record: ARecord::Present,
        ..QueryFacts::default()
    };
    for keep_teredo in [true, false] {
        let config = PolicyConfig {
            keep_teredo_destinations: keep_teredo,
            ..PolicyConfig::default()
        };
        let teredo_only = [pathwise_policy::Path::Teredo, pathwise_policy::Path::Ipv4];
        let decision = decide(&config, teredo_only.into_iter().collect(), &query, &facts);
        let mut shaped = message.clone();
        let report = shape(&mut shaped, decision, &table, config.filtered_ttl);
        if matches!(decision, AaaaDecision::Remove { .. }) {
            check_filtered(&shaped, keep_teredo);
            if !keep_teredo {
                check_no_ipv6_data(&shaped);
            }
            if report.removed_any() {
                assert!(
                    !shaped.metadata.authentic_data,
                    "AD kept on an edited answer"
                );
            }
        }
        let again = shape(&mut shaped.clone(), decision, &table, config.filtered_ttl);
        assert!(
            !again.removed_any(),
            "a second shaping removed more: {again:?}"
        );
    }
}

/// The real path: `message` cached as the answer to `question` (with an A record beside it,
/// so `require_a` is satisfied), then asked for by [`INSIDER`] after its A query, over UDP
/// with and without EDNS and over TCP.
fn serve(message: &Message, question: &Query, policy: Policy) {
    let host = Host::teredo_only(policy);
    if !host.cache(question, message) {
        return;
    }
    let a = Query::query(question.name().clone(), RecordType::A);
    if question.query_type() != RecordType::A {
        host.cache(&a, &answer(&a, vec![RData::A(A::new(192, 0, 2, 1))]));
    }
    let _ = host
        .pipeline
        .receive(&client_query(1, &a, None), INSIDER, Transport::Udp);
    let asks = [
        (Transport::Udp, None),
        (Transport::Udp, Some(1232)),
        (Transport::Tcp, Some(1232)),
    ];
    for (id, (transport, payload)) in (2..).zip(asks) {
        let packet = client_query(id, question, payload);
        let step = host.pipeline.receive(&packet, INSIDER, transport);
        let Some(served) = check_step(&packet, transport, true, step) else {
            continue;
        };
        match policy {
            Policy::Default => check_filtered(&served, true),
            Policy::Strict => {
                check_filtered(&served, false);
                check_no_ipv6_data(&served);
            }
        }
    }
}
