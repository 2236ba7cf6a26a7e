//! Cache tests, with injected time: every call takes `now`, so no test sleeps.
//!
//! `ttl`: what is cached and for how long, and the TTLs served; `store`: keys, serve-stale
//! and eviction.

mod store;
mod ttl;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, SOA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::{CacheConfig, CacheKey, Entry, Lookup};

pub(super) const SECOND: Duration = Duration::from_secs(1);

pub(super) fn config() -> CacheConfig {
    CacheConfig {
        max_entries: 1000,
        min_ttl: Duration::ZERO,
        max_ttl: Duration::from_secs(86_400),
        max_negative_ttl: Duration::from_secs(3_600),
        serve_stale: true,
        stale_max_age: Duration::from_secs(86_400),
    }
}

pub(super) fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a valid name")
}

pub(super) fn key(text: &str) -> CacheKey {
    CacheKey::new(&name(text), RecordType::A, DNSClass::IN, false, false)
}

pub(super) fn response(qname: &str, rcode: ResponseCode) -> Message {
    let mut message = Message::response(7, OpCode::Query);
    message.add_query(Query::query(name(qname), RecordType::A));
    message.metadata.response_code = rcode;
    message
}

/// NOERROR for `qname` A with one A record per TTL.
pub(super) fn positive(qname: &str, ttls: &[u32]) -> Message {
    let mut message = response(qname, ResponseCode::NoError);
    for (i, &ttl) in ttls.iter().enumerate() {
        let address = A(Ipv4Addr::new(192, 0, 2, i as u8 + 1));
        message.add_answer(Record::from_rdata(name(qname), ttl, RData::A(address)));
    }
    message
}

/// A negative answer with a SOA of the given TTL and MINIMUM in authority.
pub(super) fn negative(qname: &str, rcode: ResponseCode, soa_ttl: u32, minimum: u32) -> Message {
    let mut message = response(qname, rcode);
    let soa = SOA::new(
        name("ns.example."),
        name("host.example."),
        1,
        3600,
        600,
        86400,
        minimum,
    );
    message.add_authority(Record::from_rdata(
        name("example."),
        soa_ttl,
        RData::SOA(soa),
    ));
    message
}

pub(super) fn ttls(message: &Message) -> Vec<u32> {
    message.all_sections().map(|record| record.ttl).collect()
}

pub(super) fn hit(lookup: Lookup) -> (Arc<Entry>, Duration) {
    match lookup {
        Lookup::Hit { entry, age } => (entry, age),
        other => panic!("expected a hit, got {}", other.as_str()),
    }
}
