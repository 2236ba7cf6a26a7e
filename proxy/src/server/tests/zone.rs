//! The fake upstream's zone: a few names, each scripted for one behaviour.

use std::time::Duration;

use hickory_proto::op::{Edns, Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{CNAME, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::name_of;
use crate::testing::fake_upstream::{Action, Transport, address, qname};

/// How long upstream takes for `slow.example.`: well within [`super::TIMEOUT`].
pub(super) const SLOW: Duration = Duration::from_millis(150);
/// The zone's addresses.
pub(super) const V4: &str = "192.0.2.1";
pub(super) const V6: &str = "2001:db8::1";
pub(super) const TEREDO: &str = "2001:0:5ef5:79fd::1";
pub(super) const SIX_TO_FOUR: &str = "2002:c000:201::1";
pub(super) const NATIVE: &str = "2a00:1450::1";

/// A SOA for `example.` with this TTL and MINIMUM.
pub(super) fn soa(ttl: u32, minimum: u32) -> Record {
    let data = SOA::new(
        name_of("ns.example."),
        name_of("host.example."),
        1,
        3600,
        600,
        86_400,
        minimum,
    );
    Record::from_rdata(name_of("example."), ttl, RData::SOA(data))
}

/// A response with this rcode, answers and authority (the fake adds the question and ID).
fn reply(rcode: ResponseCode, answers: Vec<Record>, authorities: Vec<Record>) -> Message {
    let mut message = Message::response(0, OpCode::Query);
    message.metadata.recursion_available = true;
    message.metadata.response_code = rcode;
    message.add_answers(answers);
    message.add_authorities(authorities);
    message
}

/// The test zone, by first label and type:
///
/// - `nx`: NXDOMAIN, SOA 60/60 in authority;
/// - `silent`: no answer at all;
/// - `slow`: the usual answer after [`SLOW`];
/// - `short`: A [`V4`] with TTL 1;
/// - `big`: 40 A records over TCP, TC over UDP (as a real server does for a 512-byte query);
/// - `v6only`: AAAA only (A is NODATA with a SOA);
/// - `teredo`: AAAA [`TEREDO`]; `mixed`: AAAA Teredo, 6to4, native, in that order;
/// - `alias`: a CNAME to `dual.example.` and its records;
/// - `soa`: AAAA with AD set and a SOA 3600/3600 in authority;
/// - `opt`: an OPT record in every answer, whether the query had one or not;
/// - anything else: A [`V4`] and AAAA [`V6`], TTL 300; other types NODATA.
pub(super) fn zone(query: &Message, transport: Transport) -> Vec<Action> {
    let name = qname(query);
    let label = name
        .iter()
        .next()
        .map(|label| String::from_utf8_lossy(label).to_ascii_lowercase())
        .unwrap_or_default();
    let qtype = query.queries[0].query_type();
    let nodata = || Action::Reply(reply(ResponseCode::NoError, vec![], vec![soa(60, 60)]));
    match (label.as_str(), qtype) {
        ("nx", _) => vec![Action::Reply(reply(
            ResponseCode::NXDomain,
            vec![],
            vec![soa(60, 60)],
        ))],
        ("silent", _) => vec![Action::Silent],
        ("slow", _) => {
            let mut actions = vec![Action::Delay(SLOW)];
            actions.extend(zone_default(&name, qtype));
            actions
        }
        ("big", RecordType::A) if transport == Transport::Udp => vec![Action::Truncated],
        ("big", RecordType::A) => {
            let records = (1..=40)
                .map(|i| address(name.clone(), &format!("192.0.2.{i}")))
                .collect();
            vec![Action::Answer(records)]
        }
        ("short", RecordType::A) => {
            let mut record = address(name, V4);
            record.ttl = 1;
            vec![Action::Answer(vec![record])]
        }
        ("v6only", RecordType::A) => vec![nodata()],
        ("teredo", RecordType::AAAA) => vec![Action::Answer(vec![address(name, TEREDO)])],
        ("mixed", RecordType::AAAA) => {
            let records = [TEREDO, SIX_TO_FOUR, NATIVE]
                .into_iter()
                .map(|ip| address(name.clone(), ip))
                .collect();
            vec![Action::Answer(records)]
        }
        ("alias", _) => {
            let target = name_of("dual.example.");
            let cname = RData::CNAME(CNAME(target.clone()));
            let mut records = vec![Record::from_rdata(name, 300, cname)];
            records.extend(zone_records(&target, qtype));
            vec![Action::Answer(records)]
        }
        ("soa", RecordType::AAAA) => {
            let mut message = reply(
                ResponseCode::NoError,
                vec![address(name, V6)],
                vec![soa(3600, 3600)],
            );
            message.metadata.authentic_data = true;
            vec![Action::Reply(message)]
        }
        ("opt", _) => {
            let mut message = reply(ResponseCode::NoError, zone_records(&name, qtype), vec![]);
            let mut edns = Edns::new();
            edns.set_max_payload(4096);
            message.set_edns(edns);
            vec![Action::Reply(message)]
        }
        _ => zone_default(&name, qtype),
    }
}

fn zone_records(name: &Name, qtype: RecordType) -> Vec<Record> {
    match qtype {
        RecordType::A => vec![address(name.clone(), V4)],
        RecordType::AAAA => vec![address(name.clone(), V6)],
        _ => vec![],
    }
}

fn zone_default(name: &Name, qtype: RecordType) -> Vec<Action> {
    let records = zone_records(name, qtype);
    if records.is_empty() {
        let nodata = reply(ResponseCode::NoError, vec![], vec![soa(60, 60)]);
        return vec![Action::Reply(nodata)];
    }
    vec![Action::Answer(records)]
}
