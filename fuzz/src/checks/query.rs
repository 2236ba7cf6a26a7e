//! The query target: any bytes as a client's query, over UDP and TCP, from an insider whose A
//! queries came first, from an insider whose AAAA queries are lone, and from an outsider,
//! through `Pipeline::receive` on a Teredo-only host with a warm cache (the ladder, the cache
//! lookup, the explicit-ask signals, the decision, shaping or the rendered answer, encoding).

use hickory_proto::op::{Edns, Message, MessageType};
use hickory_proto::rr::RecordType;
use hickory_proto::rr::rdata::opt::EdnsCode;
use pathwise::server::context::{QueryContext, Transport};
use pathwise::server::pipeline::Step;

use super::answer::{check_filtered, check_step};
use super::host::{CACHED, INSIDER, LONE, OUTSIDER, cached_host};

/// Runs `packet` through the query path and checks every step (see [`check_step`]); on a
/// cache hit for a name with an A record, a paired, non-explicit AAAA query is filtered.
pub fn query_path(packet: &[u8]) {
    let host = cached_host();
    let option = EdnsCode::from(host.shared.settings().config.policy.explicit.edns_option);
    for (client, allowed) in [(INSIDER, true), (LONE, true), (OUTSIDER, false)] {
        for transport in [Transport::Udp, Transport::Tcp] {
            let step = host.pipeline.receive(packet, client, transport);
            if let Step::Resolve(context) = &step {
                check_forwarded(packet, context, option);
            }
            let Some(answer) = check_step(packet, transport, allowed, step) else {
                continue;
            };
            if client == INSIDER && filter_expected(packet, option) {
                check_filtered(&answer, true);
            }
        }
    }
}

/// What goes upstream for a miss: the client's query, same ID and question, as a query, with
/// pathwise's own explicit-ask option taken out (docs/behaviour.md: it never goes upstream).
fn check_forwarded(packet: &[u8], context: &QueryContext, option: EdnsCode) {
    let client = Message::from_vec(packet).expect("only a parsed query goes upstream");
    let forwarded = Message::from_vec(&context.wire)
        .unwrap_or_else(|error| panic!("the forwarded query does not parse ({error})"));
    assert_eq!(forwarded.metadata.message_type, MessageType::Query);
    assert_eq!(
        forwarded.metadata.id, client.metadata.id,
        "the forwarded ID changed"
    );
    assert_eq!(
        forwarded.queries, client.queries,
        "the forwarded question changed"
    );
    assert_eq!(context.qtype, client.queries[0].query_type());
    let has_option = |edns: Option<&Edns>| edns.is_some_and(|edns| edns.option(option).is_some());
    assert_eq!(context.edns_option, has_option(client.edns.as_ref()));
    assert!(
        !has_option(forwarded.edns.as_ref()),
        "the explicit-ask option went upstream"
    );
}

/// Whether the AAAA filter removes AAAA data from the answer to `packet` from [`INSIDER`]: an AAAA
/// question for a cached name with an A record (so the A query came first and `require_a` is
/// satisfied), without DO and without the explicit-ask option.
fn filter_expected(packet: &[u8], option: EdnsCode) -> bool {
    let Ok(query) = Message::from_vec(packet) else {
        return false;
    };
    let [question] = query.queries.as_slice() else {
        return false;
    };
    let has_a = CACHED.iter().any(|(name, v4, _)| {
        !v4.is_empty() && question.name().to_ascii().eq_ignore_ascii_case(name)
    });
    let explicit = query
        .edns
        .as_ref()
        .is_some_and(|edns| edns.flags().dnssec_ok || edns.option(option).is_some());
    question.query_type() == RecordType::AAAA && has_a && !explicit
}
