//! Builders of DNS responses for the tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::op::{Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::svcb::{Alpn, IpHint, Mandatory, SVCB, SvcParamKey, SvcParamValue};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, HTTPS, NS, NULL, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

pub(super) fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

/// A NOERROR response to `qname`/`qtype` with the AD bit set.
pub(super) fn response(qname: &str, qtype: RecordType) -> Message {
    let mut message = Message::response(0x1234, OpCode::Query);
    message.add_query(Query::query(name(qname), qtype));
    message.metadata.response_code = ResponseCode::NoError;
    message.metadata.authentic_data = true;
    message.metadata.recursion_available = true;
    message
}

pub(super) fn address(owner: &str, address: &str) -> Record {
    let data = match address.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => RData::A(A(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    };
    Record::from_rdata(name(owner), 300, data)
}

pub(super) fn cname(owner: &str, target: &str) -> Record {
    Record::from_rdata(name(owner), 300, RData::CNAME(CNAME(name(target))))
}

/// An RRSIG as hickory reads it without its DNSSEC features: raw RDATA, type covered first.
pub(super) fn rrsig(owner: &str, covered: RecordType) -> Record {
    let mut rdata = u16::from(covered).to_be_bytes().to_vec();
    rdata.extend_from_slice(&[13, 2, 0, 0, 1, 44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    let data = RData::Unknown {
        code: RecordType::RRSIG,
        rdata: NULL::with(rdata),
    };
    Record::from_rdata(name(owner), 300, data)
}

pub(super) fn ns(owner: &str, target: &str) -> Record {
    Record::from_rdata(name(owner), 300, RData::NS(NS(name(target))))
}

pub(super) fn soa(owner: &str, ttl: u32, minimum: u32) -> Record {
    let soa = SOA::new(
        name("ns.example."),
        name("admin.example."),
        1,
        3600,
        600,
        86400,
        minimum,
    );
    Record::from_rdata(name(owner), ttl, RData::SOA(soa))
}

/// An HTTPS record with alpn, ipv4hint and ipv6hint, `ipv6hint` listed as mandatory if asked.
pub(super) fn https(owner: &str, v6: &[&str], mandatory: bool) -> Record {
    let mut params = Vec::new();
    if mandatory {
        params.push((
            SvcParamKey::Mandatory,
            SvcParamValue::Mandatory(Mandatory(vec![SvcParamKey::Ipv6Hint])),
        ));
    }
    params.push((
        SvcParamKey::Alpn,
        SvcParamValue::Alpn(Alpn(vec!["h2".to_owned()])),
    ));
    params.push((
        SvcParamKey::Ipv4Hint,
        SvcParamValue::Ipv4Hint(IpHint(vec![A(Ipv4Addr::new(192, 0, 2, 1))])),
    ));
    let hints = v6
        .iter()
        .map(|a| AAAA(a.parse::<Ipv6Addr>().unwrap()))
        .collect();
    params.push((
        SvcParamKey::Ipv6Hint,
        SvcParamValue::Ipv6Hint(IpHint(hints)),
    ));
    Record::from_rdata(
        name(owner),
        300,
        RData::HTTPS(HTTPS(SVCB::new(1, Name::root(), params))),
    )
}

/// The addresses of a section's A/AAAA records, in order, as text.
pub(super) fn addresses(section: &[Record]) -> Vec<String> {
    section
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0.to_string()),
            RData::AAAA(aaaa) => Some(aaaa.0.to_string()),
            _ => None,
        })
        .collect()
}

/// The record types of a section, in order.
pub(super) fn types(section: &[Record]) -> Vec<RecordType> {
    section.iter().map(Record::record_type).collect()
}
