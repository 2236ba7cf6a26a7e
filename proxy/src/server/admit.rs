//! The error-to-rcode ladder: from a packet to a parsed query, or the answer that
//! ends it here. Nothing in it can fail the receive loop: every arm is an answer or a drop.

use std::net::SocketAddr;

use hickory_proto::op::{Edns, Header, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::RecordType;
use hickory_proto::rr::rdata::opt::EdnsCode;
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use ipnet::IpNet;
use tokio::time::Instant;

use super::context::{QueryContext, Source, Transport};
use super::respond::error_answer;

/// What the ladder made of a packet.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Send nothing.
    Drop,
    /// Send this answer; the query goes no further.
    Answer(Vec<u8>, ResponseCode),
    /// A query to resolve.
    Query(Box<QueryContext>),
}

/// Runs the ladder over one packet.
pub(crate) fn admit(
    packet: &[u8],
    client: SocketAddr,
    transport: Transport,
    allow: &[IpNet],
    edns_option: u16,
) -> Admission {
    // Shorter than a header: there is no ID to answer to, so nothing can be sent.
    let Ok(header) = Header::read(&mut BinDecoder::new(packet)) else {
        return Admission::Drop;
    };
    let metadata = header.metadata;
    // A response sent to us: answering it would make pathwise a reflector.
    if metadata.message_type == MessageType::Response {
        return Admission::Drop;
    }
    // Before any further work, so that outsiders learn nothing but REFUSED (open-resolver guard).
    if !allow.iter().any(|net| net.contains(&client.ip())) {
        return ladder_answer(&metadata, None, ResponseCode::Refused);
    }
    // NOTIFY, UPDATE and the rest are not a stub resolver's business.
    if metadata.op_code != OpCode::Query {
        return ladder_answer(&metadata, None, ResponseCode::NotImp);
    }
    // An unparsable question or record: FORMERR, since the header could be read.
    let Ok(mut query) = Message::from_vec(packet) else {
        return ladder_answer(&metadata, None, ResponseCode::FormErr);
    };
    // A query has exactly one question (RFC 9619).
    let [question] = query.queries.as_slice() else {
        return ladder_answer(&metadata, Some(&query), ResponseCode::FormErr);
    };
    let qtype = question.query_type;
    // Zone transfers are for authoritative servers, not a stub.
    if matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
        return ladder_answer(&metadata, Some(&query), ResponseCode::NotImp);
    }
    let client_edns = query.edns.clone();
    let (edns_option_present, wire) = strip_own_option(&mut query, packet, edns_option);
    Admission::Query(Box::new(QueryContext {
        received: Instant::now(),
        client,
        transport,
        query,
        wire,
        qtype,
        client_edns,
        edns_option: edns_option_present,
        source: Source::None,
        decision: None,
        shaped: Default::default(),
        rcode: ResponseCode::NoError,
        truncated: false,
        slot: None,
    }))
}

/// The ladder's error answer `rcode` (REFUSED, NOTIMP or FORMERR) to the query whose header is
/// `header` (and, where it parsed, its message).
fn ladder_answer(
    header: &hickory_proto::op::Metadata,
    query: Option<&Message>,
    rcode: ResponseCode,
) -> Admission {
    Admission::Answer(error_answer(header, query, rcode), rcode)
}

/// Removes pathwise's explicit-ask option so that it never goes upstream. Returns
/// whether it was there, and the query's wire form for upstream: the client's own bytes when
/// nothing was removed, so that the query is forwarded as it came.
fn strip_own_option(query: &mut Message, packet: &[u8], code: u16) -> (bool, Vec<u8>) {
    if code == 0 {
        return (false, packet.to_vec());
    }
    let code = EdnsCode::from(code);
    let Some(edns) = query.edns.as_mut() else {
        return (false, packet.to_vec());
    };
    if edns.option(code).is_none() {
        return (false, packet.to_vec());
    }
    edns.options_mut().remove(code);
    let wire = query.to_vec().unwrap_or_else(|_| packet.to_vec());
    (true, wire)
}

/// A query for `rtype` at the same name, with the client's RD, CD and DO: how pathwise asks
/// for the A record itself (`policy.require_a`).
pub(crate) fn sibling_query(query: &Message, rtype: RecordType) -> Message {
    let mut sibling = Message::query();
    sibling.metadata.recursion_desired = query.metadata.recursion_desired;
    sibling.metadata.checking_disabled = query.metadata.checking_disabled;
    let mut question = query.queries[0].clone();
    question.query_type = rtype;
    sibling.add_query(question);
    if let Some(edns) = &query.edns {
        let mut own = Edns::new();
        own.set_max_payload(edns.max_payload().max(512));
        own.set_dnssec_ok(edns.flags().dnssec_ok);
        sibling.edns = Some(own);
    }
    sibling
}
