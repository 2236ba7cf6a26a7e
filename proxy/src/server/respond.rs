//! Building what goes back to the client: error answers from the ladder, and the final
//! encoding of an answer for one client (its ID, flags, question, EDNS, size).

use hickory_proto::op::{Edns, Header, Message, MessageType, Metadata, OpCode, ResponseCode};

use super::context::{QueryContext, Transport};
use crate::cache::render::address_to;

/// The UDP payload size pathwise advertises (the DNS flag day 2020 value).
pub(crate) const ADVERTISED_UDP_SIZE: u16 = 1232;

/// An answer carrying only `rcode`, built from what could be read of the query: its header,
/// and its question and EDNS when it parsed. A query with more than one question gets none
/// back (as Unbound and BIND answer it): re-encoded, questions that shared labels through
/// compression pointers can come out several times longer than the query, which would make
/// pathwise an amplifier.
pub(crate) fn error_answer(
    header: &Metadata,
    query: Option<&Message>,
    rcode: ResponseCode,
) -> Vec<u8> {
    encode_or_header(&empty_answer(header, query, rcode))
}

/// An empty answer with TC set: "ask again over TCP" (RFC 7766 section 5), with the question and,
/// if the query had one, an OPT record.
pub(crate) fn truncated_answer(query: &Message) -> Vec<u8> {
    let mut answer = empty_answer(&query.metadata, Some(query), ResponseCode::NoError);
    answer.metadata.truncation = true;
    encode_or_header(&answer)
}

/// A response with no records to the query whose `header` (and, if it parsed, message) is
/// given.
fn empty_answer(header: &Metadata, query: Option<&Message>, rcode: ResponseCode) -> Message {
    let mut answer = Message::new(header.id, MessageType::Response, header.op_code);
    answer.metadata.recursion_desired = header.recursion_desired;
    answer.metadata.checking_disabled = header.checking_disabled;
    answer.metadata.recursion_available = true;
    answer.metadata.response_code = rcode;
    if let Some(query) = query {
        if let [question] = query.queries.as_slice() {
            answer.add_query(question.clone());
        }
        answer.edns = query
            .edns
            .as_ref()
            .map(|edns| answer_edns(edns.flags().dnssec_ok));
    }
    answer
}

/// The OPT record of pathwise's answers: its own payload size, the client's DO bit, no options.
pub(crate) fn answer_edns(dnssec_ok: bool) -> Edns {
    let mut edns = Edns::new();
    edns.set_max_payload(ADVERTISED_UDP_SIZE);
    edns.set_dnssec_ok(dnssec_ok);
    edns
}

/// What an answer takes from the query it answers: the rest of its header is pathwise's own.
pub(crate) struct Addressee {
    /// The query's ID.
    pub(crate) id: u16,
    /// The query's RD bit, echoed (RFC 1035 section 4.1.1).
    pub(crate) recursion_desired: bool,
    /// The query's CD bit, echoed (RFC 4035 section 3.2.2).
    pub(crate) checking_disabled: bool,
    /// `None`: the query had no OPT record, and the answer gets none; `Some(do)`: an OPT
    /// record with pathwise's payload size and the client's DO bit.
    pub(crate) edns: Option<bool>,
}

impl Addressee {
    /// The client of `context`.
    pub(crate) fn of(context: &QueryContext) -> Self {
        let query = &context.query.metadata;
        Self {
            id: query.id,
            recursion_desired: query.recursion_desired,
            checking_disabled: query.checking_disabled,
            edns: context.client_edns.as_ref().map(|_| context.dnssec_ok()),
        }
    }
}

/// Makes `answer` (upstream's, shaped) pathwise's answer to `to`: its ID, RD, CD and EDNS;
/// RA set, AA and TC clear; an extended rcode that cannot travel without OPT becomes SERVFAIL.
/// The question stays the answer's own: the client's spelling of it is patched into the
/// encoded answer ([`address_to`]). The one normaliser of answers: the rendered fast path
/// (with a neutral addressee, the client patched in per hit) and the slow path both use it.
pub(crate) fn normalise(answer: &mut Message, to: &Addressee) {
    let metadata = &mut answer.metadata;
    metadata.id = to.id;
    metadata.message_type = MessageType::Response;
    metadata.op_code = OpCode::Query;
    metadata.authoritative = false;
    metadata.truncation = false;
    metadata.recursion_desired = to.recursion_desired;
    metadata.checking_disabled = to.checking_disabled;
    metadata.recursion_available = true;
    answer.edns = to.edns.map(answer_edns);
    // The extended rcode bits live in the OPT record; without one only the low 4 bits travel.
    if answer.edns.is_none() && u16::from(answer.metadata.response_code) > 0x0f {
        answer.metadata.response_code = ResponseCode::ServFail;
    }
}

/// Makes `answer` the answer to this client's query ([`normalise`], then its question as
/// written patched in, as on the fast path) and encodes it; over UDP an answer larger than the
/// client accepts is cut to its header, question and OPT with TC.
pub(crate) fn finish_answer(context: &mut QueryContext, mut answer: Message) -> Vec<u8> {
    normalise(&mut answer, &Addressee::of(context));
    context.rcode = answer.metadata.response_code;
    let mut wire = encode_or_header(&answer);
    // The client's spelling of the question, over the cached one; where that cannot be done
    // in place (a question that is not the answer's), the answer takes the client's question.
    if !address_to(&mut wire, &context.wire) {
        answer.queries.clone_from(&context.query.queries);
        wire = encode_or_header(&answer);
    }
    let limit = match context.transport {
        Transport::Udp => context.max_udp_size(),
        Transport::Tcp => usize::from(u16::MAX),
    };
    if wire.len() <= limit {
        return wire;
    }
    context.truncated = true;
    answer.queries.clone_from(&context.query.queries);
    truncated(&answer)
}

/// The header, question and OPT of `answer` with TC set (RFC 1035 section 4.1.1, RFC 7766 section
/// 5): the client retries over TCP.
fn truncated(answer: &Message) -> Vec<u8> {
    let mut short = Message::new(
        answer.metadata.id,
        MessageType::Response,
        answer.metadata.op_code,
    );
    short.metadata = answer.metadata;
    short.metadata.truncation = true;
    short.queries.clone_from(&answer.queries);
    short.edns.clone_from(&answer.edns);
    encode_or_header(&short)
}

/// Encodes `message`; if that fails (it should not for messages built from parsed input), a
/// bare SERVFAIL header, so a client is never left without an answer.
fn encode_or_header(message: &Message) -> Vec<u8> {
    match message.to_vec() {
        Ok(wire) => wire,
        Err(error) => {
            tracing::warn!(%error, "could not encode an answer; sending SERVFAIL");
            let mut metadata = message.metadata;
            metadata.response_code = ResponseCode::ServFail;
            let header = Header {
                metadata,
                counts: Default::default(),
            };
            let mut wire = Vec::with_capacity(12);
            let mut encoder = hickory_proto::serialize::binary::BinEncoder::new(&mut wire);
            let _ = hickory_proto::serialize::binary::BinEncodable::emit(&header, &mut encoder);
            wire
        }
    }
}
