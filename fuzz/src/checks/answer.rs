//! What every answer pathwise sends must satisfy, whatever it answers: checks shared by the
//! query and response targets. Each failed check panics with what was expected and what came.

use std::net::IpAddr;
use std::sync::OnceLock;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::svcb::SvcParamKey;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use pathwise::server::context::Transport;
use pathwise::server::pipeline::Step;
use pathwise_policy::describe;

/// The smallest UDP answer size a client accepts without EDNS (RFC 1035 section 4.2.1).
const MIN_UDP: usize = 512;

/// Checks the [`Step`] that `Pipeline::receive` took for `packet`, and returns the answer it
/// sent, parsed, if it sent one.
///
/// - A packet with a readable header and QR clear is never dropped (docs/behaviour.md: FORMERR when
///   a header can be read); anything else is never answered (no reflection).
/// - An answer parses, is a response, carries the query's ID, and over TCP is never truncated.
/// - An outsider gets REFUSED and never more bytes than it sent; an insider never gets REFUSED.
/// - Over UDP, an answer fits the client's size (its EDNS size, at least 512) unless it is no
///   longer than the query itself (an error answer that echoes an oversized question).
/// - The question of an answer is the query's, as the client wrote it (case included).
pub(super) fn check_step(
    packet: &[u8],
    transport: Transport,
    allowed: bool,
    step: Step,
) -> Option<Message> {
    let header = readable_query_header(packet);
    let wire = match step {
        Step::Drop => {
            assert!(
                header.is_none(),
                "a query with a readable header was dropped"
            );
            return None;
        }
        Step::Resolve(_) => {
            assert!(header.is_some(), "something not a query went on to resolve");
            assert!(allowed, "an outsider's query went on to resolve");
            return None;
        }
        Step::Answer(wire) => wire,
    };
    let id = header.expect("only a query with a readable header is answered");
    let answer = Message::from_vec(&wire)
        .unwrap_or_else(|error| panic!("the answer does not parse ({error}): {wire:02x?}"));
    let metadata = &answer.metadata;
    assert_eq!(metadata.message_type, MessageType::Response, "QR clear");
    assert_eq!(metadata.id, id, "the answer's ID is not the query's");
    if transport == Transport::Tcp {
        assert!(!metadata.truncation, "TC set over TCP");
    }
    if allowed {
        assert_ne!(
            metadata.response_code,
            ResponseCode::Refused,
            "an insider was refused"
        );
    } else {
        assert_eq!(
            metadata.response_code,
            ResponseCode::Refused,
            "an outsider not refused"
        );
        assert!(wire.len() <= packet.len(), "REFUSED longer than the query");
    }
    let query = Message::from_vec(packet).ok();
    if transport == Transport::Udp {
        let limit = query
            .as_ref()
            .and_then(|query| query.edns.as_ref())
            .map_or(MIN_UDP, |edns| usize::from(edns.max_payload()).max(MIN_UDP));
        assert!(
            wire.len() <= limit.max(packet.len()),
            "a {} byte UDP answer to a {} byte query whose client takes {limit}",
            wire.len(),
            packet.len()
        );
    }
    if !answer.queries.is_empty() {
        let query = query.expect("an answer has a question only if the query parsed");
        let written = |message: &Message| -> Vec<String> {
            let question = message.queries.iter();
            question
                .map(|q| {
                    format!(
                        "{} {} {}",
                        q.name().to_ascii(),
                        q.query_type(),
                        q.query_class()
                    )
                })
                .collect()
        };
        assert_eq!(
            written(&answer),
            written(&query),
            "the question is not the client's"
        );
    }
    Some(answer)
}

/// Whether the check of open bug `bug` is skipped: in a fuzz build (`--cfg fuzzing`, set by
/// cargo fuzz), `PATHWISE_FUZZ_SKIP` names the bugs a long run looks past once they are
/// reported (comma-separated; `fuzz/README.md` lists the open ones). The regression test
/// never skips.
#[allow(unexpected_cfgs, dead_code)] // no bug is open (fuzz/regressions/open-bugs)
fn skipped(bug: &str) -> bool {
    if !cfg!(fuzzing) {
        return false;
    }
    static SKIP: OnceLock<String> = OnceLock::new();
    let skip = SKIP.get_or_init(|| std::env::var("PATHWISE_FUZZ_SKIP").unwrap_or_default());
    skip.split(',').any(|name| name.trim() == bug)
}

/// The ID of `packet` if it has a DNS header with QR clear: what the ladder answers.
fn readable_query_header(packet: &[u8]) -> Option<u16> {
    let header = hickory_proto::op::Header::read(&mut BinDecoder::new(packet)).ok()?;
    (header.metadata.message_type == MessageType::Query).then_some(header.metadata.id)
}

/// Whether `record` is an AAAA record of a Teredo address.
fn is_teredo_aaaa(record: &Record) -> bool {
    matches!(&record.data, RData::AAAA(aaaa) if describe(IpAddr::V6(aaaa.0)).teredo.is_some())
}

/// The AAAA filter (docs/behaviour.md) for a served answer to a client that did not ask explicitly,
/// on a host where the filter is active and the name has an A record: a NOERROR answer to an AAAA
/// question keeps no AAAA record in its answer section, but Teredo ones when `keep_teredo` is set.
pub(super) fn check_filtered(answer: &Message, keep_teredo: bool) {
    let aaaa_question = answer
        .queries
        .first()
        .is_some_and(|question| question.query_type() == RecordType::AAAA);
    if !aaaa_question || answer.metadata.response_code != ResponseCode::NoError {
        return;
    }
    for record in &answer.answers {
        // An address, not a record that only says AAAA (hickory reads an empty RDATA as none).
        let address = matches!(record.data, RData::AAAA(_));
        let kept = address && !(keep_teredo && is_teredo_aaaa(record));
        assert!(!kept, "an AAAA record survived the filter: {record}");
    }
}

/// The rest of the AAAA filter when every IPv6 address is removed (`keep_teredo` off): no AAAA in
/// the additional section for an owner that has an A record there, and no `ipv6hint` in any
/// HTTPS or SVCB record.
pub(super) fn check_no_ipv6_data(answer: &Message) {
    if answer.metadata.response_code != ResponseCode::NoError {
        return;
    }
    for record in &answer.additionals {
        let has_a = |owner: &Name| {
            answer
                .additionals
                .iter()
                .any(|r| r.record_type() == RecordType::A && r.name == *owner)
        };
        let kept = matches!(record.data, RData::AAAA(_)) && has_a(&record.name);
        assert!(
            !kept,
            "an additional AAAA beside an A survived the filter: {record}"
        );
    }
    for record in answer.answers.iter().chain(&answer.additionals) {
        assert!(
            !has_ipv6hint(record),
            "an ipv6hint survived the filter: {record}"
        );
    }
}

/// Whether an HTTPS or SVCB record carries an `ipv6hint` (RFC 9460 section 7.3).
fn has_ipv6hint(record: &Record) -> bool {
    let svcb = match &record.data {
        RData::HTTPS(https) => &https.0,
        RData::SVCB(svcb) => svcb,
        _ => return false,
    };
    svcb.svc_params
        .iter()
        .any(|(key, _)| *key == SvcParamKey::Ipv6Hint)
}
